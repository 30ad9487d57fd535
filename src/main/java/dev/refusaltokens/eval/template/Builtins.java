package dev.refusaltokens.eval.template;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a template can reach: jinja2's operators, filters and tests, Python's {@code str}, {@code dict}
 * and {@code list} methods, and the globals Hugging Face adds. This is the whole sandbox: nothing here
 * reaches a Java class, a file, the environment or the network, underscore attributes are refused, and
 * methods that mutate a list or dict fail as in jinja2's immutable sandbox.
 */
final class Builtins {

  private Builtins() {}

  /** jinja2's sandbox: {@code range} may not produce more items than this. */
  static final int MAX_RANGE = 100_000;

  private static final Set<String> FILTERS = Set.of("abs", "attr", "capitalize", "center", "count", "d",
      "default", "dictsort", "e", "escape", "first", "float", "format", "indent", "int", "items", "join",
      "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse",
      "round", "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "unique",
      "upper");
  private static final Set<String> JINJA_FILTERS_NOT_IMPLEMENTED = Set.of("batch", "filesizeformat",
      "forceescape", "groupby", "pprint", "random", "slice", "striptags", "truncate", "urlencode", "urlize",
      "wordcount", "wordwrap", "xmlattr");
  private static final Set<String> TESTS = Set.of("boolean", "callable", "defined", "divisibleby", "eq",
      "equalto", "even", "false", "filter", "float", "ge", "gt", "greaterthan", "in", "integer", "iterable",
      "le", "lessthan", "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas", "sequence",
      "string", "test", "true", "undefined", "upper", "==", "!=", "<", "<=", ">", ">=");
  private static final Set<String> STR_METHODS = Set.of("capitalize", "casefold", "center", "count",
      "encode", "endswith", "expandtabs", "find", "format", "format_map", "index", "isalnum", "isalpha",
      "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace",
      "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans", "partition", "removeprefix",
      "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split",
      "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill");
  private static final Set<String> DICT_METHODS = Set.of("clear", "copy", "fromkeys", "get", "items", "keys",
      "pop", "popitem", "setdefault", "update", "values");
  private static final Set<String> LIST_METHODS = Set.of("append", "clear", "copy", "count", "extend",
      "index", "insert", "pop", "remove", "reverse", "sort");
  private static final Set<String> MUTATING = Set.of("append", "clear", "extend", "insert", "pop", "popitem",
      "remove", "reverse", "setdefault", "sort", "update");

  static void checkFilter(String name) {
    if (JINJA_FILTERS_NOT_IMPLEMENTED.contains(name)) {
      throw TemplateException.unsupported("the '" + name + "' filter");
    }
    if (!FILTERS.contains(name)) {
      throw new TemplateException(TemplateException.Kind.SYNTAX, "No filter named '" + name + "'.");
    }
  }

  static void checkTest(String name) {
    if (name.equals("escaped")) {
      throw TemplateException.unsupported("the 'escaped' test");
    }
    if (!TESTS.contains(name)) {
      throw new TemplateException(TemplateException.Kind.SYNTAX, "No test named '" + name + "'.");
    }
  }

  // ---- attribute and item access ----

  static Object getattr(Object obj, String name) {
    if (name.startsWith("_")) {
      throw TemplateException.security("access to attribute '" + name + "' of '" + Py.typeName(obj)
          + "' object is unsafe.");
    }
    if (obj instanceof Py.Undefined u) {
      throw u.error();
    } else if (obj instanceof Py.Markup || obj instanceof Py.Gen || obj instanceof Nodes.Macro) {
      throw TemplateException.unsupported("the attribute '" + name + "' of a " + Py.typeName(obj));
    }
    Object method = method(obj, name);
    if (method != null) {
      return method;
    }
    if (obj instanceof Map<?, ?> m) {
      if (m.containsKey(name)) {
        return m.get(name);
      }
    } else if (obj instanceof Py.Namespace ns) {
      if (ns.attrs.containsKey(name)) {
        return ns.attrs.get(name);
      }
    } else if (obj instanceof Loop loop) {
      return loop.attr(name);
    }
    return new Py.Undefined("'" + describe(obj) + "' has no attribute '" + name + "'");
  }

  /**
   * The str, dict, list or tuple method {@code name} of {@code obj}, or null. A method that mutates is the
   * sandbox's unsafe Undefined: printing it gives "", calling it is a SecurityError, as in jinja2.
   */
  private static Object method(Object obj, String name) {
    boolean has = obj instanceof String && STR_METHODS.contains(name)
        || obj instanceof Map && DICT_METHODS.contains(name)
        || obj instanceof Py.Tuple && Set.of("count", "index").contains(name)
        || obj instanceof List && !(obj instanceof Py.Tuple) && !(obj instanceof Py.View)
            && LIST_METHODS.contains(name);
    if (!has) {
      return null;
    }
    if (MUTATING.contains(name)) {
      return Py.Undefined.unsafe("access to attribute '" + name + "' of '" + Py.typeName(obj)
          + "' object is unsafe.");
    }
    return new Method(obj, name);
  }

  /** jinja2's attr filter: an attribute only (a method here), never an item. */
  private static Object attrFilter(Object obj, String name) {
    if (name.startsWith("_")) {
      return getattr(obj, name);
    }
    if (obj instanceof Py.Namespace || obj instanceof Builtins.Loop || obj instanceof Py.Undefined) {
      return getattr(obj, name);
    }
    Object method = method(obj, name);
    return method != null ? method : new Py.Undefined("'" + describe(obj) + "' has no attribute '" + name + "'");
  }

  static Object getitem(Object obj, Object key) {
    if (obj instanceof Py.Undefined u) {
      throw u.error();
    }
    if (obj instanceof Py.Markup m) {
      Object c = getitem(m.text(), key);
      return c instanceof String s ? new Py.Markup(s) : c;
    }
    if (obj instanceof Map<?, ?> m) {
      Object k = Py.dictKey(m, key);
      if (m.containsKey(k)) {
        return m.get(k);
      }
    } else if (obj instanceof Py.View v && !v.isRange()) {
      // dict views are not subscriptable: jinja2 falls back to an attribute, then Undefined
    } else if (obj instanceof List<?> l && (key instanceof Long || key instanceof Boolean)) {
      long i = Py.toLong(key);
      long idx = i < 0 ? i + l.size() : i;
      if (idx >= 0 && idx < l.size()) {
        return l.get((int) idx);
      }
      return new Py.Undefined("list object has no element " + i);
    } else if (obj instanceof String s && (key instanceof Long || key instanceof Boolean)) {
      List<Object> chars = Py.codePoints(s);
      long i = Py.toLong(key);
      long idx = i < 0 ? i + chars.size() : i;
      if (idx >= 0 && idx < chars.size()) {
        return chars.get((int) idx);
      }
      return new Py.Undefined("str object has no element " + i);
    }
    if (key instanceof String name) {
      return getattr(obj, name);
    }
    return new Py.Undefined("'" + describe(obj) + "' has no attribute '" + Py.str(key) + "'");
  }

  private static String describe(Object obj) {
    return obj == null ? "None" : Py.typeName(obj) + " object";
  }

  // ---- operators ----

  static Object unary(String op, Object v) {
    if (v instanceof Py.Undefined u) {
      throw u.error();
    }
    if (v instanceof Double d) {
      return op.equals("-") ? -d : d;
    } else if (v instanceof Long || v instanceof Boolean) {
      long l = Py.toLong(v);
      return op.equals("-") ? Math.negateExact(l) : l;
    }
    throw TemplateException.runtime("bad operand type for unary " + op + ": '" + Py.typeName(v) + "'");
  }

  static Object binary(Render r, String op, Object a, Object b) {
    if (op.equals("~")) {
      String sa = Py.str(a);
      String sb = Py.str(b);
      r.checkSize((long) sa.length() + sb.length());
      return sa + sb;
    }
    if (a instanceof Py.Undefined u) {
      throw u.error();
    }
    if (b instanceof Py.Undefined u) {
      throw u.error();
    }
    if (Py.isNumber(a) && Py.isNumber(b)) {
      return arithmetic(op, a, b);
    }
    if (a instanceof Py.Markup || b instanceof Py.Markup) {
      return markupOp(r, op, a, b);
    }
    switch (op) {
      case "+":
        if (a instanceof String sa && b instanceof String sb) {
          r.checkSize((long) sa.length() + sb.length());
          return sa + sb;
        }
        if (a instanceof List<?> la && b instanceof List<?> lb && !(a instanceof Py.View)
            && (a instanceof Py.Tuple) == (b instanceof Py.Tuple)) {
          r.checkSize((long) la.size() + lb.size());
          List<Object> out = new ArrayList<>(la);
          out.addAll(lb);
          return a instanceof Py.Tuple ? new Py.Tuple(out) : out;
        }
        break;
      case "*":
        if (a instanceof String || b instanceof String || a instanceof List || b instanceof List) {
          return repeat(r, a, b);
        }
        break;
      case "%":
        if (a instanceof String fmt) {
          return Format.percent(r, fmt, b, false);
        }
        break;
      default:
        break;
    }
    throw TemplateException.runtime("unsupported operand type(s) for " + op + ": '" + Py.typeName(a)
        + "' and '" + Py.typeName(b) + "'");
  }

  /** markupsafe: what is added to a Markup, or formatted into it, is HTML-escaped first. */
  private static Object markupOp(Render r, String op, Object a, Object b) {
    boolean strs = (a instanceof String || a instanceof Py.Markup) && (b instanceof String || b instanceof Py.Markup);
    if (op.equals("+") && strs) {
      return new Py.Markup((String) binary(r, "+", escape(a).text(), escape(b).text()));
    } else if (op.equals("*") && (Py.isNumber(a) || Py.isNumber(b))) {
      return new Py.Markup((String) repeat(r, a instanceof Py.Markup m ? m.text() : a,
          b instanceof Py.Markup m ? m.text() : b));
    } else if (op.equals("%") && a instanceof Py.Markup fmt) {
      return new Py.Markup(Format.percent(r, fmt.text(), b, true));
    }
    throw TemplateException.runtime("unsupported operand type(s) for " + op + ": '" + Py.typeName(a)
        + "' and '" + Py.typeName(b) + "'");
  }

  /** markupsafe's escape(): a Markup stays as it is, anything else is str() then HTML-escaped. */
  static Py.Markup escape(Object v) {
    return v instanceof Py.Markup m ? m : new Py.Markup(Strings.escapeHtml(Py.str(v)));
  }

  private static Object repeat(Render r, Object a, Object b) {
    Object seq = a instanceof Long || a instanceof Boolean ? b : a;
    Object times = seq == a ? b : a;
    if (!(times instanceof Long || times instanceof Boolean)) {
      throw TemplateException.runtime("can't multiply sequence by non-int of type '" + Py.typeName(times) + "'");
    }
    long n = Math.max(0, Py.toLong(times));
    if (seq instanceof String s) {
      r.checkSize(n * s.length());
      return s.repeat((int) n);
    }
    List<?> l = (List<?>) seq;
    r.checkSize(n * l.size());
    List<Object> out = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      out.addAll(l);
    }
    return seq instanceof Py.Tuple ? new Py.Tuple(out) : out;
  }

  private static Object arithmetic(String op, Object a, Object b) {
    boolean floats = a instanceof Double || b instanceof Double;
    if (op.equals("/")) {
      double d = Py.toDouble(b);
      if (d == 0) {
        throw TemplateException.runtime("division by zero");
      }
      return Py.toDouble(a) / d;
    }
    if (floats) {
      double x = Py.toDouble(a);
      double y = Py.toDouble(b);
      switch (op) {
        case "+": return x + y;
        case "-": return x - y;
        case "*": return x * y;
        case "**": return power(x, y);
        case "//":
          checkZero(y);
          return Math.floor(x / y);
        case "%":
          checkZero(y);
          double m = x - y * Math.floor(x / y);
          return m;
        default: break;
      }
    } else {
      long x = Py.toLong(a);
      long y = Py.toLong(b);
      try {
        switch (op) {
          case "+": return Math.addExact(x, y);
          case "-": return Math.subtractExact(x, y);
          case "*": return Math.multiplyExact(x, y);
          case "//":
            checkZero(y);
            return Math.floorDiv(x, y);
          case "%":
            checkZero(y);
            return Math.floorMod(x, y);
          case "**":
            if (y < 0) {
              return power(x, y);
            }
            long result = 1;
            long base = x;
            for (long e = y; e > 0; e >>= 1) { // by squaring: 1 ** 10**18 must not loop 10**18 times
              if ((e & 1) == 1) {
                result = Math.multiplyExact(result, base);
              }
              if (e > 1) {
                base = Math.multiplyExact(base, base);
              }
            }
            return result;
          default: break;
        }
      } catch (ArithmeticException e) {
        throw TemplateException.unsupported("integer arithmetic beyond 64 bits");
      }
    }
    throw TemplateException.runtime("unknown operator " + op);
  }

  /** Python's float power: errors where C's pow() overflows or divides by zero, complex results refused. */
  private static double power(double x, double y) {
    if (x == 0 && y < 0) {
      throw TemplateException.runtime("0.0 cannot be raised to a negative power");
    } else if (x < 0 && y != Math.rint(y) && Double.isFinite(y)) {
      throw TemplateException.unsupported("a negative number to a fractional power (a complex number)");
    }
    double p = Math.pow(x, y);
    if (Double.isInfinite(p) && Double.isFinite(x) && Double.isFinite(y)) {
      throw new TemplateException(TemplateException.Kind.LIMIT, "(34, 'Numerical result out of range')");
    }
    return p;
  }

  private static void checkZero(double y) {
    if (y == 0) {
      throw TemplateException.runtime("integer division or modulo by zero");
    }
  }

  static boolean compare(String op, Object a, Object b) {
    switch (op) {
      case "==": return Py.eq(a, b);
      case "!=": return !Py.eq(a, b);
      case "in": return Py.contains(b, a);
      case "not in": return !Py.contains(b, a);
      default: break;
    }
    if (a instanceof Py.Undefined u) {
      throw u.error();
    }
    if (b instanceof Py.Undefined u) {
      throw u.error();
    }
    int c = Py.compare(a, b);
    switch (op) {
      case "<": return c < 0;
      case "<=": return c <= 0;
      case ">": return c > 0;
      default: return c >= 0;
    }
  }

  // ---- tests ----

  static boolean test(String name, Object v, List<Object> args) {
    switch (name) {
      case "defined": return !(v instanceof Py.Undefined);
      case "undefined": return v instanceof Py.Undefined;
      case "none": return v == null;
      case "boolean": return v instanceof Boolean;
      case "true": return Boolean.TRUE.equals(v);
      case "false": return Boolean.FALSE.equals(v);
      case "integer": return v instanceof Long;
      case "float": return v instanceof Double;
      case "number": return Py.isNumber(v);
      case "string": return v instanceof String || v instanceof Py.Markup;
      case "mapping": return v instanceof Map;
      // jinja2: anything with len() and [] (Undefined has both; dict views have no [])
      case "sequence": return v instanceof String || v instanceof Py.Markup || v instanceof Map
          || v instanceof Py.Undefined || v instanceof List && !(v instanceof Py.View view && !view.isRange());
      case "iterable": return v instanceof String || v instanceof Py.Markup || v instanceof List
          || v instanceof Map || v instanceof Py.Undefined || v instanceof Py.Gen;
      case "callable": return v instanceof Py.Callable;
      case "odd": return Py.eq(modulo(v, 2L), 1L);
      case "even": return Py.eq(modulo(v, 2L), 0L);
      case "divisibleby": return Py.eq(modulo(v, arg(args, 0, name)), 0L);
      case "lower": return Strings.isLower(Py.str(v)); // jinja2: str(value).islower()
      case "upper": return Strings.isUpper(Py.str(v));
      case "sameas": return sameAs(v, arg(args, 0, name));
      case "in": return Py.contains(arg(args, 0, name), v);
      case "filter": return v instanceof String s && FILTERS.contains(s);
      case "test": return v instanceof String s && TESTS.contains(s);
      case "eq": case "equalto": case "==": return compare("==", v, arg(args, 0, name));
      case "ne": case "!=": return compare("!=", v, arg(args, 0, name));
      case "lt": case "lessthan": case "<": return compare("<", v, arg(args, 0, name));
      case "le": case "<=": return compare("<=", v, arg(args, 0, name));
      case "gt": case "greaterthan": case ">": return compare(">", v, arg(args, 0, name));
      case "ge": case ">=": return compare(">=", v, arg(args, 0, name));
      default: throw TemplateException.unsupported("the '" + name + "' test");
    }
  }

  /**
   * Python's {@code is}: exact for None and booleans (singletons) and for containers (identity); for
   * numbers and strings it depends on CPython's caching and interning, so those are refused.
   */
  private static boolean sameAs(Object a, Object b) {
    if (a == null || b == null || a instanceof Boolean || b instanceof Boolean) {
      return a == null ? b == null : a.equals(b) && (a instanceof Boolean) == (b instanceof Boolean);
    }
    if (a instanceof String || a instanceof Long || a instanceof Double || a instanceof Py.Markup
        || a instanceof Py.Tuple) {
      if (!(b instanceof String || b instanceof Long || b instanceof Double || b instanceof Py.Markup
          || b instanceof Py.Tuple)) {
        return false;
      }
      throw TemplateException.unsupported("'is sameas' between numbers, strings or tuples (CPython interning)");
    }
    return a == b;
  }

  /** {@code v % n} for the odd, even and divisibleby tests (floats too, as in Python). */
  private static Object modulo(Object v, Object n) {
    if (v instanceof Py.Undefined u) {
      throw u.error();
    }
    if (!Py.isNumber(v) || !Py.isNumber(n)) {
      throw TemplateException.runtime("unsupported operand type(s) for %: '" + Py.typeName(v) + "' and '"
          + Py.typeName(n) + "'");
    }
    return arithmetic("%", v, n);
  }

  private static Object arg(List<Object> args, int i, String what) {
    if (args.size() <= i) {
      throw TemplateException.runtime("'" + what + "' is missing an argument");
    }
    return args.get(i);
  }

  // ---- filters ----

  private static final Set<String> MARKUP_KEEPING_FILTERS = Set.of("upper", "lower", "capitalize", "title",
      "center", "indent", "reverse", "trim");
  private static final Set<String> GENERATOR_FILTERS = Set.of("map", "select", "reject", "selectattr",
      "rejectattr", "unique", "items");

  static Object filter(Render r, String name, Object v, List<Object> args, Map<String, Object> kw) {
    if (v instanceof Py.Markup m) {
      return markupFilter(r, name, m, args, kw);
    }
    if (GENERATOR_FILTERS.contains(name)) {
      // jinja2 returns a generator here: lazy, one-shot, always true (see Py.Gen)
      return new Py.Gen("generator", () -> Py.iterate(filterNow(r, name, v, args, kw)), v);
    }
    return filterNow(r, name, v, args, kw);
  }

  /** A filter applied to a Markup: as on its str, but some filters keep it a Markup (markupsafe's methods). */
  private static Object markupFilter(Render r, String name, Py.Markup m, List<Object> args, Map<String, Object> kw) {
    switch (name) {
      case "safe": case "e": case "escape": case "string": case "default": case "d": case "format":
        return filterNow(r, name, m, args, kw);
      case "attr":
        throw TemplateException.unsupported("the attr filter on a Markup");
      default:
        break;
    }
    if (MARKUP_KEEPING_FILTERS.contains(name)) {
      if (name.equals("trim") && !(args.isEmpty() && kw.isEmpty())) {
        throw TemplateException.unsupported("trim(chars) on a Markup");
      }
      return new Py.Markup(Py.str(filter(r, name, m.text(), args, kw)));
    }
    return filter(r, name, m.text(), args, kw);
  }

  private static Object filterNow(Render r, String name, Object v, List<Object> args, Map<String, Object> kw) {
    Args a = new Args(name, args, kw);
    switch (name) {
      case "default": case "d": {
        Object dflt = a.get(0, "default_value", "");
        boolean bool = Py.truthy(a.get(1, "boolean", false));
        return v instanceof Py.Undefined || (bool && !Py.truthy(v)) ? dflt : v;
      }
      case "length": case "count": return Py.len(v);
      case "string": return v instanceof Py.Markup ? v : Py.str(v);
      case "safe": return v instanceof Py.Markup ? v : new Py.Markup(Py.str(v));
      case "e": case "escape": return escape(v);
      case "upper": return Py.str(v).toUpperCase(java.util.Locale.ROOT);
      case "lower": return Py.str(v).toLowerCase(java.util.Locale.ROOT);
      case "capitalize": return Strings.capitalize(Py.str(v));
      case "title": return Strings.titleFilter(Py.str(v));
      case "trim": {
        Object chars = a.get(0, "chars", null);
        return Strings.strip(Py.str(v), chars == null ? null : (String) chars, true, true);
      }
      case "replace": {
        Object count = a.get(2, "count", null);
        return Strings.replace(r, Py.str(v), Py.str(a.get(0, "old", null)), Py.str(a.get(1, "new", null)),
            count == null ? -1 : Py.index(count));
      }
      case "center": return Strings.pad(r, Py.str(v), Py.index(a.get(0, "width", 80L)), " ", 0);
      case "indent": return Strings.indent(r, undefinedFails(v), a.get(0, "width", 4L),
          Py.truthy(a.get(1, "first", false)), Py.truthy(a.get(2, "blank", false)));
      case "join": return join(r, v, Py.str(a.get(0, "d", "")), a.get(1, "attribute", null));
      case "first": {
        List<Object> items = v instanceof Py.Gen g ? g.begin() : Py.iterate(v);
        if (v instanceof Py.Gen g) {
          g.end(items.size() <= 1); // next() takes one item; the rest is left in the generator
        }
        return items.isEmpty() ? new Py.Undefined("No first item, sequence was empty.") : items.get(0);
      }
      case "last": {
        if (v instanceof Py.Gen g) {
          throw TemplateException.runtime("'" + g.type + "' object is not reversible");
        }
        List<Object> items = Py.iterate(v);
        return items.isEmpty() ? new Py.Undefined("No last item, sequence was empty.")
            : items.get(items.size() - 1);
      }
      case "list": return Py.iterate(v);
      case "reverse": {
        if (v instanceof String s) {
          return new StringBuilder(s).reverse().toString();
        }
        boolean iterator = !(v instanceof Py.Gen);
        List<Object> items = Py.iterate(v);
        java.util.Collections.reverse(items);
        // reversed(seq) is an iterator; a generator is not reversible, so jinja2 makes a list of it
        return iterator ? new Py.Gen("reverse iterator", () -> items, null) : items;
      }
      case "items": {
        if (v instanceof Py.Undefined) {
          return new ArrayList<>();
        }
        if (!(v instanceof Map<?, ?> m)) {
          throw TemplateException.runtime("Can only get item pairs from a mapping.");
        }
        return itemPairs(m);
      }
      case "dictsort": return dictsort(v, a);
      case "tojson": return Json.dumps(r, v, args, kw);
      case "int": return toInt(v, a.get(0, "default", 0L), a.get(1, "base", 10L));
      case "float": return toFloat(v, a.get(0, "default", 0.0));
      case "abs": return Py.isNumber(v) && Py.compare(v, 0L) < 0 ? unary("-", v) : unary("+", v);
      case "round": return round(v, a);
      case "attr": return attrFilter(v, Py.str(a.get(0, "name", null)));
      case "format": {
        if (!kw.isEmpty()) {
          throw TemplateException.unsupported("the format filter with keyword arguments");
        }
        String out = Format.percent(r, Py.str(v), args.size() == 1 ? args.get(0) : new Py.Tuple(args),
            v instanceof Py.Markup);
        return v instanceof Py.Markup ? new Py.Markup(out) : out;
      }
      case "map": return map(r, v, args, kw);
      case "select": case "reject": return select(v, args, name.equals("select"), null);
      case "selectattr": case "rejectattr": {
        if (args.isEmpty()) {
          throw TemplateException.runtime(name + " needs an attribute name");
        }
        return select(v, args.subList(1, args.size()), name.equals("selectattr"), Py.str(args.get(0)));
      }
      case "unique": return unique(v, a);
      case "sort": return sort(v, a);
      case "min": case "max": return minMax(v, a, name.equals("max"));
      case "sum": return sum(r, v, a);
      default: throw TemplateException.unsupported("the '" + name + "' filter");
    }
  }

  /** The string value of {@code v}, failing as jinja2 does where the filter does arithmetic on an Undefined. */
  private static String undefinedFails(Object v) {
    if (v instanceof Py.Undefined u) {
      throw u.error();
    }
    return Py.str(v);
  }

  /** Positional-or-keyword arguments of a filter, by position and name. */
  private record Args(String fn, List<Object> args, Map<String, Object> kwargs) {
    Object get(int pos, String key, Object dflt) {
      if (pos < args.size()) {
        return args.get(pos);
      }
      return kwargs.getOrDefault(key, dflt);
    }
  }

  static List<Object> itemPairs(Map<?, ?> m) {
    List<Object> out = new ArrayList<>();
    m.forEach((k, val) -> out.add(new Py.Tuple(java.util.Arrays.asList(k, val))));
    return out;
  }

  private static String join(Render r, Object v, String sep, Object attribute) {
    StringBuilder sb = new StringBuilder();
    boolean first = true;
    for (Object item : Py.iterate(v)) {
      Object x = attribute == null ? item : getattr(item, Py.str(attribute));
      String piece = Py.str(x);
      r.checkSize((long) sb.length() + sep.length() + piece.length());
      sb.append(first ? "" : sep).append(piece);
      first = false;
    }
    return sb.toString();
  }

  private static Object dictsort(Object v, Args a) {
    if (!(v instanceof Map<?, ?> m)) {
      throw TemplateException.runtime("dictsort needs a mapping");
    }
    boolean cs = Py.truthy(a.get(0, "case_sensitive", false));
    String by = Py.str(a.get(1, "by", "key"));
    boolean rev = Py.truthy(a.get(2, "reverse", false));
    int pos = by.equals("value") ? 1 : 0;
    List<Object> pairs = itemPairs(m);
    Comparator<Object> cmp = (x, y) -> Py.compare(sortKey(((List<?>) x).get(pos), cs),
        sortKey(((List<?>) y).get(pos), cs));
    pairs.sort(rev ? cmp.reversed() : cmp);
    return pairs;
  }

  private static Object sortKey(Object x, boolean caseSensitive) {
    return !caseSensitive && x instanceof String s ? s.toLowerCase(java.util.Locale.ROOT) : x;
  }

  /** jinja2's int filter: int(value, base), else int(float(value)), else the default. */
  private static Object toInt(Object v, Object dflt, Object base) {
    if (v instanceof Py.Undefined u) {
      throw u.error(); // Undefined.__int__ raises
    }
    if (v instanceof Py.Markup m) {
      v = m.text();
    }
    if (v instanceof String s && !Py.eq(base, 10L)) {
      throw TemplateException.unsupported("the int filter with base " + Py.str(base));
    }
    if (v instanceof Long || v instanceof Boolean) {
      return Py.toLong(v);
    } else if (v instanceof Double d) {
      return truncate(d, dflt);
    } else if (v instanceof String s) {
      String t = Strings.strip(s, null, true, true);
      if (t.matches("[+-]?\\p{Nd}(_?\\p{Nd})*")) {
        try {
          return Long.parseLong(t.replace("_", ""));
        } catch (NumberFormatException e) {
          throw TemplateException.unsupported("an integer beyond 64 bits");
        }
      }
      Double d = parseFloat(s);
      return d == null ? dflt : truncate(d, dflt);
    }
    return dflt;
  }

  /** int(float): NaN is a ValueError (so the default), infinity an OverflowError. */
  private static Object truncate(double d, Object dflt) {
    if (Double.isNaN(d)) {
      return dflt;
    } else if (Double.isInfinite(d)) {
      throw new TemplateException(TemplateException.Kind.LIMIT, "cannot convert float infinity to integer");
    } else if (Math.abs(d) >= 0x1p63) {
      throw TemplateException.unsupported("an integer beyond 64 bits");
    }
    return (long) d;
  }

  /** jinja2's float filter: float(value), else the default. */
  private static Object toFloat(Object v, Object dflt) {
    if (v instanceof Py.Undefined u) {
      throw u.error(); // Undefined.__float__ raises
    }
    if (Py.isNumber(v)) {
      return Py.toDouble(v);
    } else if (v instanceof String || v instanceof Py.Markup) {
      Double d = parseFloat(Py.str(v));
      return d == null ? dflt : d;
    }
    return dflt;
  }

  /** Python's float(str): surrounding whitespace, '_' between digits, inf/infinity/nan in any case; else null. */
  private static Double parseFloat(String s) {
    String t = Strings.strip(s, null, true, true);
    String digits = "\\p{Nd}(_?\\p{Nd})*";
    if (t.matches("(?i)[+-]?(inf|infinity|nan)")) {
      double d = t.toLowerCase(java.util.Locale.ROOT).contains("n") && !t.toLowerCase(java.util.Locale.ROOT)
          .contains("inf") ? Double.NaN : Double.POSITIVE_INFINITY;
      return t.startsWith("-") ? -d : d;
    }
    if (!t.matches("[+-]?(" + digits + "(\\.(" + digits + ")?)?|\\." + digits + ")([eE][+-]?" + digits + ")?")) {
      return null;
    }
    StringBuilder ascii = new StringBuilder();
    t.codePoints().filter(cp -> cp != '_').forEach(cp -> ascii.append(Character.isDigit(cp)
        ? (char) ('0' + Character.digit(cp, 10)) : (char) cp));
    return Double.parseDouble(ascii.toString());
  }

  /**
   * jinja2's round: Python's round() (exact binary value, ties to even; an int stays an int) or
   * math.ceil/floor scaled (always a float).
   */
  private static Object round(Object v, Args a) {
    long precision = Py.index(a.get(0, "precision", 0L));
    String method = Py.str(a.get(1, "method", "common"));
    if (!Set.of("common", "ceil", "floor").contains(method)) {
      throw TemplateException.runtime("method must be common, ceil or floor");
    }
    if (v instanceof Py.Undefined u) {
      throw u.error();
    }
    if (!Py.isNumber(v)) {
      throw TemplateException.runtime("type " + Py.typeName(v) + " doesn't define __round__ method");
    }
    if (Math.abs(precision) > 300) {
      throw TemplateException.unsupported("round() with a precision of " + precision);
    }
    double x = Py.toDouble(v);
    if (method.equals("common")) {
      if (!(v instanceof Double)) {
        long l = Py.toLong(v);
        return precision >= 0 ? l : new BigDecimal(l).setScale((int) precision, RoundingMode.HALF_EVEN).longValue();
      }
      if (Double.isNaN(x) || Double.isInfinite(x)) {
        return x;
      }
      double rounded = new BigDecimal(x).setScale((int) precision, RoundingMode.HALF_EVEN).doubleValue();
      return Math.copySign(rounded, x); // Python keeps the sign of a result that rounds to zero
    }
    if (Double.isNaN(x) || Double.isInfinite(x)) {
      throw TemplateException.runtime("cannot convert float " + Py.floatRepr(x) + " to integer");
    }
    double scale = Math.pow(10, precision);
    // + 0.0: math.ceil/floor return a Python int, which has no negative zero
    return ((method.equals("ceil") ? Math.ceil(x * scale) : Math.floor(x * scale)) + 0.0) / scale;
  }

  private static Object map(Render r, Object v, List<Object> args, Map<String, Object> kw) {
    List<Object> out = new ArrayList<>();
    if (kw.containsKey("attribute")) {
      String attr = Py.str(kw.get("attribute"));
      for (Object item : Py.iterate(v)) {
        Object x = attrPath(item, attr);
        if (x instanceof Py.Undefined && kw.containsKey("default")) {
          x = kw.get("default");
        }
        out.add(x);
      }
      return out;
    }
    if (args.isEmpty()) {
      throw TemplateException.runtime("map needs a filter name or attribute=");
    }
    String filterName = Py.str(args.get(0));
    checkFilter(filterName);
    for (Object item : Py.iterate(v)) {
      out.add(filter(r, filterName, item, args.subList(1, args.size()), kw));
    }
    return out;
  }

  /** jinja2's attribute lookup for filters: dotted paths and integer parts ({@code "a.0.b"}). */
  private static Object attrPath(Object item, String path) {
    if (path.contains(",")) {
      throw TemplateException.unsupported("several comma-separated attributes");
    }
    Object x = item;
    for (String part : path.split("\\.")) {
      if (x instanceof Py.Undefined) {
        return x;
      }
      x = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? getitem(x, Long.parseLong(part))
          : getitem(x, part);
    }
    return x;
  }

  private static Object select(Object v, List<Object> args, boolean keep, String attr) {
    List<Object> out = new ArrayList<>();
    for (Object item : Py.iterate(v)) {
      Object x = attr == null ? item : attrPath(item, attr);
      boolean pass;
      if (args.isEmpty()) {
        pass = Py.truthy(x);
      } else {
        String testName = Py.str(args.get(0));
        checkTest(testName);
        pass = test(testName, x, args.subList(1, args.size()));
      }
      if (pass == keep) {
        out.add(item);
      }
    }
    return out;
  }

  private static Object unique(Object v, Args a) {
    boolean cs = Py.truthy(a.get(0, "case_sensitive", false));
    Object attribute = a.get(1, "attribute", null);
    List<Object> out = new ArrayList<>();
    List<Object> seen = new ArrayList<>();
    for (Object item : Py.iterate(v)) {
      Object key = sortKey(attribute == null ? item : attrPath(item, Py.str(attribute)), cs);
      if (seen.stream().noneMatch(s -> Py.eq(s, key))) {
        seen.add(key);
        out.add(item);
      }
    }
    return out;
  }

  private static Object sort(Object v, Args a) {
    boolean rev = Py.truthy(a.get(0, "reverse", false));
    boolean cs = Py.truthy(a.get(1, "case_sensitive", false));
    Object attribute = a.get(2, "attribute", null);
    List<Object> items = Py.iterate(v);
    Comparator<Object> cmp = (x, y) -> Py.compare(
        sortKey(attribute == null ? x : attrPath(x, Py.str(attribute)), cs),
        sortKey(attribute == null ? y : attrPath(y, Py.str(attribute)), cs));
    items.sort(rev ? cmp.reversed() : cmp);
    return items;
  }

  private static Object minMax(Object v, Args a, boolean max) {
    boolean cs = Py.truthy(a.get(0, "case_sensitive", false));
    Object attribute = a.get(1, "attribute", null);
    Object best = null;
    Object bestKey = null;
    for (Object item : Py.iterate(v)) {
      Object key = sortKey(attribute == null ? item : attrPath(item, Py.str(attribute)), cs);
      if (bestKey == null || (max ? Py.compare(key, bestKey) > 0 : Py.compare(key, bestKey) < 0)) {
        best = item;
        bestKey = key;
      }
    }
    return bestKey == null ? new Py.Undefined("No aggregated item, sequence was empty.") : best;
  }

  private static Object sum(Render r, Object v, Args a) {
    Object attribute = a.get(0, "attribute", null);
    Object total = a.get(1, "start", 0L);
    for (Object item : Py.iterate(v)) {
      total = binary(r, "+", total, attribute == null ? item : attrPath(item, Py.str(attribute)));
    }
    return total;
  }

  // ---- methods on str, dict, list ----

  /** A Python method bound to its receiver; calling a mutating one fails as in jinja2's sandbox. */
  record Method(Object self, String name) implements Py.Callable {
    @Override
    public Object call(Render r, List<Object> args, Map<String, Object> kwargs) {
      if (MUTATING.contains(name)) {
        throw TemplateException.security("access to attribute '" + name + "' of '" + Py.typeName(self)
            + "' object is unsafe.");
      }
      Args a = new Args(name, args, kwargs);
      if (self instanceof String s) {
        return Strings.method(r, s, name, a.args(), a.kwargs());
      } else if (self instanceof Map<?, ?> m) {
        switch (name) {
          case "items": return new Py.View(itemPairs(m), null, "dict_items");
          case "keys": return new Py.View(new ArrayList<>(m.keySet()), null, "dict_keys");
          case "values": return new Py.View(new ArrayList<>(m.values()), null, "dict_values");
          case "get": {
            Object key = Py.dictKey(m, a.get(0, "key", null));
            return m.containsKey(key) ? m.get(key) : a.get(1, "default", null);
          }
          case "copy": return new LinkedHashMap<>(m);
          default: break;
        }
      } else if (self instanceof List<?> l) {
        switch (name) {
          case "count": return l.stream().filter(x -> Py.eq(x, a.get(0, "value", null))).count();
          case "index": {
            for (int i = 0; i < l.size(); i++) {
              if (Py.eq(l.get(i), a.get(0, "value", null))) {
                return (long) i;
              }
            }
            throw TemplateException.runtime(Py.repr(a.get(0, "value", null)) + " is not in list");
          }
          case "copy": return new ArrayList<>(l);
          default: break;
        }
      }
      throw TemplateException.unsupported("the method " + Py.typeName(self) + "." + name + "()");
    }
  }

  // ---- the loop variable ----

  /** {@code loop} inside a for block. */
  static final class Loop {
    private final List<Object> items;
    private final int index;

    Loop(List<Object> items, int index) {
      this.items = items;
      this.index = index;
    }

    Object attr(String name) {
      int n = items.size();
      switch (name) {
        case "index": return (long) index + 1;
        case "index0": return (long) index;
        case "revindex": return (long) (n - index);
        case "revindex0": return (long) (n - index - 1);
        case "first": return index == 0;
        case "last": return index == n - 1;
        case "length": return (long) n;
        case "depth": return 1L;
        case "depth0": return 0L;
        case "previtem": return index > 0 ? items.get(index - 1) : new Py.Undefined("there is no previous item");
        case "nextitem": return index < n - 1 ? items.get(index + 1) : new Py.Undefined("there is no next item");
        case "cycle": return (Py.Callable) (r, args, kw) -> {
          if (args.isEmpty()) {
            throw TemplateException.runtime("no items for cycling given");
          }
          return args.get(index % args.size());
        };
        case "changed": throw TemplateException.unsupported("loop.changed()");
        default: return new Py.Undefined("'LoopContext' has no attribute '" + name + "'");
      }
    }
  }
}

package dev.refusaltokens.eval.template;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a template can reach besides operators ({@link Operators}) and filters ({@link Filters}):
 * attribute and item access, jinja2's tests, Python's {@code str}, {@code dict} and {@code list}
 * methods, the loop variable. With those two and the globals of {@link JinjaTemplate}, this is the
 * whole sandbox: nothing reaches a Java class, a file, the environment or the network, underscore
 * attributes are refused, and methods that mutate a list or dict fail as in jinja2's immutable
 * sandbox.
 */
final class Builtins {

  private Builtins() {}

  /** jinja2's sandbox: {@code range} may not produce more items than this. */
  static final int MAX_RANGE = 100_000;

  private static final Set<String> FILTERS =
      Set.of(
          "abs",
          "attr",
          "capitalize",
          "center",
          "count",
          "d",
          "default",
          "dictsort",
          "e",
          "escape",
          "first",
          "float",
          "format",
          "indent",
          "int",
          "items",
          "join",
          "last",
          "length",
          "list",
          "lower",
          "map",
          "max",
          "min",
          "reject",
          "rejectattr",
          "replace",
          "reverse",
          "round",
          "safe",
          "select",
          "selectattr",
          "sort",
          "string",
          "sum",
          "title",
          "tojson",
          "trim",
          "unique",
          "upper");
  private static final Set<String> JINJA_FILTERS_NOT_IMPLEMENTED =
      Set.of(
          "batch",
          "filesizeformat",
          "forceescape",
          "groupby",
          "pprint",
          "random",
          "slice",
          "striptags",
          "truncate",
          "urlencode",
          "urlize",
          "wordcount",
          "wordwrap",
          "xmlattr");
  private static final Set<String> TESTS =
      Set.of(
          "boolean",
          "callable",
          "defined",
          "divisibleby",
          "eq",
          "equalto",
          "even",
          "false",
          "filter",
          "float",
          "ge",
          "gt",
          "greaterthan",
          "in",
          "integer",
          "iterable",
          "le",
          "lessthan",
          "lower",
          "lt",
          "mapping",
          "ne",
          "none",
          "number",
          "odd",
          "sameas",
          "sequence",
          "string",
          "test",
          "true",
          "undefined",
          "upper",
          "==",
          "!=",
          "<",
          "<=",
          ">",
          ">=");
  private static final Set<String> STR_METHODS =
      Set.of(
          "capitalize",
          "casefold",
          "center",
          "count",
          "encode",
          "endswith",
          "expandtabs",
          "find",
          "format",
          "format_map",
          "index",
          "isalnum",
          "isalpha",
          "isascii",
          "isdecimal",
          "isdigit",
          "isidentifier",
          "islower",
          "isnumeric",
          "isprintable",
          "isspace",
          "istitle",
          "isupper",
          "join",
          "ljust",
          "lower",
          "lstrip",
          "maketrans",
          "partition",
          "removeprefix",
          "removesuffix",
          "replace",
          "rfind",
          "rindex",
          "rjust",
          "rpartition",
          "rsplit",
          "rstrip",
          "split",
          "splitlines",
          "startswith",
          "strip",
          "swapcase",
          "title",
          "translate",
          "upper",
          "zfill");
  private static final Set<String> DICT_METHODS =
      Set.of(
          "clear",
          "copy",
          "fromkeys",
          "get",
          "items",
          "keys",
          "pop",
          "popitem",
          "setdefault",
          "update",
          "values");
  private static final Set<String> LIST_METHODS =
      Set.of(
          "append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove",
          "reverse", "sort");
  private static final Set<String> MUTATING =
      Set.of(
          "append",
          "clear",
          "extend",
          "insert",
          "pop",
          "popitem",
          "remove",
          "reverse",
          "setdefault",
          "sort",
          "update");

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
      throw TemplateException.security(
          "access to attribute '" + name + "' of '" + Py.typeName(obj) + "' object is unsafe.");
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
   * The str, dict, list or tuple method {@code name} of {@code obj}, or null. A method that mutates
   * is the sandbox's unsafe Undefined: printing it gives "", calling it is a SecurityError, as in
   * jinja2.
   */
  private static Object method(Object obj, String name) {
    boolean has =
        obj instanceof String && STR_METHODS.contains(name)
            || obj instanceof Map && DICT_METHODS.contains(name)
            || obj instanceof Py.Tuple && Set.of("count", "index").contains(name)
            || obj instanceof List
                && !(obj instanceof Py.Tuple)
                && !(obj instanceof Py.View)
                && LIST_METHODS.contains(name);
    if (!has) {
      return null;
    }
    if (MUTATING.contains(name)) {
      return Py.Undefined.unsafe(
          "access to attribute '" + name + "' of '" + Py.typeName(obj) + "' object is unsafe.");
    }
    return new Method(obj, name);
  }

  /** jinja2's attr filter: an attribute only (a method here), never an item. */
  static Object attrFilter(Object obj, String name) {
    if (name.startsWith("_")) {
      return getattr(obj, name);
    }
    if (obj instanceof Py.Namespace
        || obj instanceof Builtins.Loop
        || obj instanceof Py.Undefined) {
      return getattr(obj, name);
    }
    Object method = method(obj, name);
    return method != null
        ? method
        : new Py.Undefined("'" + describe(obj) + "' has no attribute '" + name + "'");
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

  // ---- tests ----

  static boolean test(String name, Object v, List<Object> args) {
    switch (name) {
      case "defined":
        return !(v instanceof Py.Undefined);
      case "undefined":
        return v instanceof Py.Undefined;
      case "none":
        return v == null;
      case "boolean":
        return v instanceof Boolean;
      case "true":
        return Boolean.TRUE.equals(v);
      case "false":
        return Boolean.FALSE.equals(v);
      case "integer":
        return v instanceof Long;
      case "float":
        return v instanceof Double;
      case "number":
        return Py.isNumber(v);
      case "string":
        return v instanceof String || v instanceof Py.Markup;
      case "mapping":
        return v instanceof Map;
      // jinja2: anything with len() and [] (Undefined has both; dict views have no [])
      case "sequence":
        return v instanceof String
            || v instanceof Py.Markup
            || v instanceof Map
            || v instanceof Py.Undefined
            || v instanceof List && !(v instanceof Py.View view && !view.isRange());
      case "iterable":
        return v instanceof String
            || v instanceof Py.Markup
            || v instanceof List
            || v instanceof Map
            || v instanceof Py.Undefined
            || v instanceof Py.Gen;
      case "callable":
        return v instanceof Py.Callable;
      case "odd":
        return Py.eq(modulo(v, 2L), 1L);
      case "even":
        return Py.eq(modulo(v, 2L), 0L);
      case "divisibleby":
        return Py.eq(modulo(v, arg(args, 0, name)), 0L);
      case "lower":
        return Strings.isLower(Py.str(v)); // jinja2: str(value).islower()
      case "upper":
        return Strings.isUpper(Py.str(v));
      case "sameas":
        return sameAs(v, arg(args, 0, name));
      case "in":
        return Py.contains(arg(args, 0, name), v);
      case "filter":
        return v instanceof String s && FILTERS.contains(s);
      case "test":
        return v instanceof String s && TESTS.contains(s);
      case "eq":
      case "equalto":
      case "==":
        return Operators.compare("==", v, arg(args, 0, name));
      case "ne":
      case "!=":
        return Operators.compare("!=", v, arg(args, 0, name));
      case "lt":
      case "lessthan":
      case "<":
        return Operators.compare("<", v, arg(args, 0, name));
      case "le":
      case "<=":
        return Operators.compare("<=", v, arg(args, 0, name));
      case "gt":
      case "greaterthan":
      case ">":
        return Operators.compare(">", v, arg(args, 0, name));
      case "ge":
      case ">=":
        return Operators.compare(">=", v, arg(args, 0, name));
      default:
        throw TemplateException.unsupported("the '" + name + "' test");
    }
  }

  /**
   * Python's {@code is}: exact for None and booleans (singletons) and for containers (identity);
   * for numbers and strings it depends on CPython's caching and interning, so those are refused.
   */
  private static boolean sameAs(Object a, Object b) {
    if (a == null || b == null || a instanceof Boolean || b instanceof Boolean) {
      return a == null
          ? b == null
          : a.equals(b) && (a instanceof Boolean) == (b instanceof Boolean);
    }
    if (a instanceof String
        || a instanceof Long
        || a instanceof Double
        || a instanceof Py.Markup
        || a instanceof Py.Tuple) {
      if (!(b instanceof String
          || b instanceof Long
          || b instanceof Double
          || b instanceof Py.Markup
          || b instanceof Py.Tuple)) {
        return false;
      }
      throw TemplateException.unsupported(
          "'is sameas' between numbers, strings or tuples (CPython interning)");
    }
    return a == b;
  }

  /** {@code v % n} for the odd, even and divisibleby tests (floats too, as in Python). */
  private static Object modulo(Object v, Object n) {
    if (v instanceof Py.Undefined u) {
      throw u.error();
    }
    if (!Py.isNumber(v) || !Py.isNumber(n)) {
      throw TemplateException.runtime(
          "unsupported operand type(s) for %: '"
              + Py.typeName(v)
              + "' and '"
              + Py.typeName(n)
              + "'");
    }
    return Operators.arithmetic("%", v, n);
  }

  private static Object arg(List<Object> args, int i, String what) {
    if (args.size() <= i) {
      throw TemplateException.runtime("'" + what + "' is missing an argument");
    }
    return args.get(i);
  }

  // ---- methods on str, dict, list ----

  /** A Python method bound to its receiver; calling a mutating one fails as in jinja2's sandbox. */
  record Method(Object self, String name) implements Py.Callable {
    @Override
    public Object call(Render r, List<Object> args, Map<String, Object> kwargs) {
      if (MUTATING.contains(name)) {
        throw TemplateException.security(
            "access to attribute '" + name + "' of '" + Py.typeName(self) + "' object is unsafe.");
      }
      Filters.Args a = new Filters.Args(name, args, kwargs);
      if (self instanceof String s) {
        return Strings.method(r, s, name, a.args(), a.kwargs());
      } else if (self instanceof Map<?, ?> m) {
        switch (name) {
          case "items":
            return new Py.View(Filters.itemPairs(m), null, "dict_items");
          case "keys":
            return new Py.View(new ArrayList<>(m.keySet()), null, "dict_keys");
          case "values":
            return new Py.View(new ArrayList<>(m.values()), null, "dict_values");
          case "get":
            {
              Object key = Py.dictKey(m, a.get(0, "key", null));
              return m.containsKey(key) ? m.get(key) : a.get(1, "default", null);
            }
          case "copy":
            return new LinkedHashMap<>(m);
          default:
            break;
        }
      } else if (self instanceof List<?> l) {
        switch (name) {
          case "count":
            return l.stream().filter(x -> Py.eq(x, a.get(0, "value", null))).count();
          case "index":
            {
              for (int i = 0; i < l.size(); i++) {
                if (Py.eq(l.get(i), a.get(0, "value", null))) {
                  return (long) i;
                }
              }
              throw TemplateException.runtime(Py.repr(a.get(0, "value", null)) + " is not in list");
            }
          case "copy":
            return new ArrayList<>(l);
          default:
            break;
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
        case "index":
          return (long) index + 1;
        case "index0":
          return (long) index;
        case "revindex":
          return (long) (n - index);
        case "revindex0":
          return (long) (n - index - 1);
        case "first":
          return index == 0;
        case "last":
          return index == n - 1;
        case "length":
          return (long) n;
        case "depth":
          return 1L;
        case "depth0":
          return 0L;
        case "previtem":
          return index > 0 ? items.get(index - 1) : new Py.Undefined("there is no previous item");
        case "nextitem":
          return index < n - 1 ? items.get(index + 1) : new Py.Undefined("there is no next item");
        case "cycle":
          return (Py.Callable)
              (r, args, kw) -> {
                if (args.isEmpty()) {
                  throw TemplateException.runtime("no items for cycling given");
                }
                return args.get(index % args.size());
              };
        case "changed":
          throw TemplateException.unsupported("loop.changed()");
        default:
          return new Py.Undefined("'LoopContext' has no attribute '" + name + "'");
      }
    }
  }
}

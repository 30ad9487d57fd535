package dev.refusaltokens.eval.template;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** jinja2's builtin filters, as chat templates use them, with Python semantics. */
final class Filters {

  private Filters() {}

  private static final Set<String> MARKUP_KEEPING_FILTERS =
      Set.of("upper", "lower", "capitalize", "title", "center", "indent", "reverse", "trim");
  private static final Set<String> GENERATOR_FILTERS =
      Set.of("map", "select", "reject", "selectattr", "rejectattr", "unique", "items");

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

  /**
   * A filter applied to a Markup: as on its str, but some filters keep it a Markup (markupsafe's
   * methods).
   */
  private static Object markupFilter(
      Render r, String name, Py.Markup m, List<Object> args, Map<String, Object> kw) {
    switch (name) {
      case "safe":
      case "e":
      case "escape":
      case "string":
      case "default":
      case "d":
      case "format":
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

  private static Object filterNow(
      Render r, String name, Object v, List<Object> args, Map<String, Object> kw) {
    Args a = new Args(name, args, kw);
    switch (name) {
      case "default":
      case "d":
        {
          Object dflt = a.get(0, "default_value", "");
          boolean bool = Py.truthy(a.get(1, "boolean", false));
          return v instanceof Py.Undefined || (bool && !Py.truthy(v)) ? dflt : v;
        }
      case "length":
      case "count":
        return Py.len(v);
      case "string":
        return v instanceof Py.Markup ? v : Py.str(v);
      case "safe":
        return v instanceof Py.Markup ? v : new Py.Markup(Py.str(v));
      case "e":
      case "escape":
        return Operators.escape(v);
      case "upper":
        return Py.str(v).toUpperCase(Locale.ROOT);
      case "lower":
        return Py.str(v).toLowerCase(Locale.ROOT);
      case "capitalize":
        return Strings.capitalize(Py.str(v));
      case "title":
        return Strings.titleFilter(Py.str(v));
      case "trim":
        {
          Object chars = a.get(0, "chars", null);
          return Strings.strip(Py.str(v), chars == null ? null : (String) chars, true, true);
        }
      case "replace":
        {
          Object count = a.get(2, "count", null);
          return Strings.replace(
              r,
              Py.str(v),
              Py.str(a.get(0, "old", null)),
              Py.str(a.get(1, "new", null)),
              count == null ? -1 : Py.index(count));
        }
      case "center":
        return Strings.pad(r, Py.str(v), Py.index(a.get(0, "width", 80L)), " ", 0);
      case "indent":
        return Strings.indent(
            r,
            undefinedFails(v),
            a.get(0, "width", 4L),
            Py.truthy(a.get(1, "first", false)),
            Py.truthy(a.get(2, "blank", false)));
      case "join":
        return join(r, v, Py.str(a.get(0, "d", "")), a.get(1, "attribute", null));
      case "first":
        {
          List<Object> items = v instanceof Py.Gen g ? g.begin() : Py.iterate(v);
          if (v instanceof Py.Gen g) {
            g.end(items.size() <= 1); // next() takes one item; the rest is left in the generator
          }
          return items.isEmpty()
              ? new Py.Undefined("No first item, sequence was empty.")
              : items.get(0);
        }
      case "last":
        {
          if (v instanceof Py.Gen g) {
            throw TemplateException.runtime("'" + g.type + "' object is not reversible");
          }
          List<Object> items = Py.iterate(v);
          return items.isEmpty()
              ? new Py.Undefined("No last item, sequence was empty.")
              : items.get(items.size() - 1);
        }
      case "list":
        return Py.iterate(v);
      case "reverse":
        {
          if (v instanceof String s) {
            return new StringBuilder(s).reverse().toString();
          }
          boolean iterator = !(v instanceof Py.Gen);
          List<Object> items = Py.iterate(v);
          Collections.reverse(items);
          // reversed(seq) is an iterator; a generator is not reversible, so jinja2 makes a list of
          // it
          return iterator ? new Py.Gen("reverse iterator", () -> items, null) : items;
        }
      case "items":
        {
          if (v instanceof Py.Undefined) {
            return new ArrayList<>();
          }
          if (!(v instanceof Map<?, ?> m)) {
            throw TemplateException.runtime("Can only get item pairs from a mapping.");
          }
          return itemPairs(m);
        }
      case "dictsort":
        return dictsort(v, a);
      case "tojson":
        return Json.dumps(r, v, args, kw);
      case "int":
        return toInt(v, a.get(0, "default", 0L), a.get(1, "base", 10L));
      case "float":
        return toFloat(v, a.get(0, "default", 0.0));
      case "abs":
        return Py.isNumber(v) && Py.compare(v, 0L) < 0
            ? Operators.unary("-", v)
            : Operators.unary("+", v);
      case "round":
        return round(v, a);
      case "attr":
        return Builtins.attrFilter(v, Py.str(a.get(0, "name", null)));
      case "format":
        {
          if (!kw.isEmpty()) {
            throw TemplateException.unsupported("the format filter with keyword arguments");
          }
          String out =
              Format.percent(
                  r,
                  Py.str(v),
                  args.size() == 1 ? args.get(0) : new Py.Tuple(args),
                  v instanceof Py.Markup);
          return v instanceof Py.Markup ? new Py.Markup(out) : out;
        }
      case "map":
        return map(r, v, args, kw);
      case "select":
      case "reject":
        return select(v, args, name.equals("select"), null);
      case "selectattr":
      case "rejectattr":
        {
          if (args.isEmpty()) {
            throw TemplateException.runtime(name + " needs an attribute name");
          }
          return select(
              v, args.subList(1, args.size()), name.equals("selectattr"), Py.str(args.get(0)));
        }
      case "unique":
        return unique(v, a);
      case "sort":
        return sort(v, a);
      case "min":
      case "max":
        return minMax(v, a, name.equals("max"));
      case "sum":
        return sum(r, v, a);
      default:
        throw TemplateException.unsupported("the '" + name + "' filter");
    }
  }

  /**
   * The string value of {@code v}, failing as jinja2 does where the filter does arithmetic on an
   * Undefined.
   */
  private static String undefinedFails(Object v) {
    if (v instanceof Py.Undefined u) {
      throw u.error();
    }
    return Py.str(v);
  }

  /** Positional-or-keyword arguments of a filter, by position and name. */
  record Args(String fn, List<Object> args, Map<String, Object> kwargs) {
    Object get(int pos, String key, Object dflt) {
      if (pos < args.size()) {
        return args.get(pos);
      }
      return kwargs.getOrDefault(key, dflt);
    }
  }

  static List<Object> itemPairs(Map<?, ?> m) {
    List<Object> out = new ArrayList<>();
    m.forEach((k, val) -> out.add(new Py.Tuple(Arrays.asList(k, val))));
    return out;
  }

  private static String join(Render r, Object v, String sep, Object attribute) {
    StringBuilder sb = new StringBuilder();
    boolean first = true;
    for (Object item : Py.iterate(v)) {
      Object x = attribute == null ? item : Builtins.getattr(item, Py.str(attribute));
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
    Comparator<Object> cmp =
        (x, y) ->
            Py.compare(sortKey(((List<?>) x).get(pos), cs), sortKey(((List<?>) y).get(pos), cs));
    pairs.sort(rev ? cmp.reversed() : cmp);
    return pairs;
  }

  private static Object sortKey(Object x, boolean caseSensitive) {
    return !caseSensitive && x instanceof String s ? s.toLowerCase(Locale.ROOT) : x;
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
      throw new TemplateException(
          TemplateException.Kind.LIMIT, "cannot convert float infinity to integer");
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

  /**
   * Python's float(str): surrounding whitespace, '_' between digits, inf/infinity/nan in any case;
   * else null.
   */
  private static Double parseFloat(String s) {
    String t = Strings.strip(s, null, true, true);
    String digits = "\\p{Nd}(_?\\p{Nd})*";
    if (t.matches("(?i)[+-]?(inf|infinity|nan)")) {
      double d =
          t.toLowerCase(Locale.ROOT).contains("n") && !t.toLowerCase(Locale.ROOT).contains("inf")
              ? Double.NaN
              : Double.POSITIVE_INFINITY;
      return t.startsWith("-") ? -d : d;
    }
    if (!t.matches(
        "[+-]?("
            + digits
            + "(\\.("
            + digits
            + ")?)?|\\."
            + digits
            + ")([eE][+-]?"
            + digits
            + ")?")) {
      return null;
    }
    StringBuilder ascii = new StringBuilder();
    t.codePoints()
        .filter(cp -> cp != '_')
        .forEach(
            cp ->
                ascii.append(
                    Character.isDigit(cp) ? (char) ('0' + Character.digit(cp, 10)) : (char) cp));
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
      throw TemplateException.runtime(
          "type " + Py.typeName(v) + " doesn't define __round__ method");
    }
    if (Math.abs(precision) > 300) {
      throw TemplateException.unsupported("round() with a precision of " + precision);
    }
    double x = Py.toDouble(v);
    if (method.equals("common")) {
      if (!(v instanceof Double)) {
        long l = Py.toLong(v);
        return precision >= 0
            ? l
            : new BigDecimal(l).setScale((int) precision, RoundingMode.HALF_EVEN).longValue();
      }
      if (Double.isNaN(x) || Double.isInfinite(x)) {
        return x;
      }
      double rounded =
          new BigDecimal(x).setScale((int) precision, RoundingMode.HALF_EVEN).doubleValue();
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
    Builtins.checkFilter(filterName);
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
      x =
          part.chars().allMatch(Character::isDigit) && !part.isEmpty()
              ? Builtins.getitem(x, Long.parseLong(part))
              : Builtins.getitem(x, part);
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
        Builtins.checkTest(testName);
        pass = Builtins.test(testName, x, args.subList(1, args.size()));
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
    Comparator<Object> cmp =
        (x, y) ->
            Py.compare(
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
      total =
          Operators.binary(
              r, "+", total, attribute == null ? item : attrPath(item, Py.str(attribute)));
    }
    return total;
  }
}

package dev.refusaltokens.eval.template;

import java.math.BigDecimal;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Python value semantics for template values. Python {@code None} is Java {@code null}; {@code
 * bool}, {@code int}, {@code float}, {@code str} are {@link Boolean}, {@link Long}, {@link Double},
 * {@link String}; lists are {@link List}, tuples {@link Tuple}, dicts {@link Map}. Strings are
 * indexed, sliced and measured in code points, as Python does.
 */
final class Py {

  private Py() {}

  /**
   * jinja2's default {@code Undefined}: prints empty, is false, iterates empty, fails on any other
   * use.
   */
  static final class Undefined {
    final String hint;
    private final boolean unsafe;

    Undefined(String hint) {
      this(hint, false);
    }

    private Undefined(String hint, boolean unsafe) {
      this.hint = hint;
      this.unsafe = unsafe;
    }

    /** The sandbox's answer to an unsafe attribute: an Undefined whose use is a SecurityError. */
    static Undefined unsafe(String hint) {
      return new Undefined(hint, true);
    }

    TemplateException error() {
      return unsafe ? TemplateException.security(hint) : TemplateException.runtime(hint);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Undefined;
    }

    @Override
    public int hashCode() {
      return 0;
    }
  }

  /** A Python tuple: an immutable list that prints with parentheses. */
  static final class Tuple extends AbstractList<Object> {
    private final List<Object> items;

    Tuple(List<Object> items) {
      this.items = new ArrayList<>(items); // AbstractList: no add/set, so it stays immutable
    }

    @Override
    public Object get(int index) {
      return items.get(index);
    }

    @Override
    public int size() {
      return items.size();
    }
  }

  /**
   * A read-only sequence that Python prints under another name: {@code dict.items()} prints as
   * {@code dict_items([...])} ({@code printed} null: the type name and the list), {@code range(3)}
   * as {@code range(0, 3)}. Only a range can be indexed.
   */
  static final class View extends AbstractList<Object> {
    private final List<Object> items;
    final String printed;
    final String type;

    View(List<Object> items, String printed, String type) {
      this.items = items;
      this.printed = printed;
      this.type = type;
    }

    boolean isRange() {
      return type.equals("range");
    }

    @Override
    public Object get(int index) {
      return items.get(index);
    }

    @Override
    public int size() {
      return items.size();
    }
  }

  /**
   * markupsafe's Markup, what {@code |safe} and {@code |escape} return: a str that escapes what is
   * added to it.
   */
  record Markup(String text) {}

  /**
   * A one-shot Python iterator: the generators that map, select, reject, selectattr, rejectattr,
   * unique and items return, and the iterator reverse returns for a list. Unlike a list it is
   * always true, has no len(), prints as an address and is empty once consumed. After a partial use
   * (first, in, a loop left by break) what is left depends on how far Python advanced it, so a
   * later use is refused.
   */
  static final class Gen {
    private static final int FRESH = 0;
    private static final int PARTIAL = 1;
    private static final int EXHAUSTED = 2;
    final String type;
    private final Supplier<List<Object>> items;
    private final Gen source;
    private int state = FRESH;

    Gen(String type, Supplier<List<Object>> items, Object source) {
      this.type = type;
      this.items = items;
      this.source = source instanceof Gen g ? g : null;
    }

    /** Consumes every item (list(), join, sort, a loop run to its end). */
    List<Object> consumeAll() {
      List<Object> out = begin();
      end(true);
      return out;
    }

    /** Starts a consumption that may stop early; {@link #end} says whether it reached the end. */
    List<Object> begin() {
      if (state == PARTIAL) {
        throw TemplateException.unsupported(
            "using a "
                + type
                + " (from map, select, reject, selectattr, "
                + "rejectattr, unique, items or reverse) again after a partial use");
      }
      if (state == EXHAUSTED) {
        return new ArrayList<>();
      }
      List<Object> out = new ArrayList<>(items.get());
      mark(PARTIAL);
      return out;
    }

    void end(boolean exhausted) {
      mark(exhausted ? EXHAUSTED : PARTIAL);
    }

    private void mark(int newState) {
      for (Gen g = this; g != null; g = g.source) {
        g.state = newState;
      }
    }
  }

  /** {@code namespace(...)}: the one object a template may assign attributes to. */
  static final class Namespace {
    final Map<String, Object> attrs = new LinkedHashMap<>();
  }

  /**
   * jinja2's {@code self}, the template's reference to its own blocks (none here: {@code block} is
   * refused). It is defined and true, its attributes are undefined, and jinja2 prints it as an
   * object ({@code <TemplateReference None>}), which is refused like the other objects Python
   * prints by identity.
   */
  static final class TemplateReference {
    static final TemplateReference SELF = new TemplateReference();

    private TemplateReference() {}
  }

  /** Anything a template can call: macros, builtins, bound methods. */
  interface Callable {
    Object call(Render r, List<Object> args, Map<String, Object> kwargs);
  }

  // ---- type names and checks ----

  static String typeName(Object o) {
    if (o == null) {
      return "NoneType";
    } else if (o instanceof Boolean) {
      return "bool";
    } else if (o instanceof Long) {
      return "int";
    } else if (o instanceof Double) {
      return "float";
    } else if (o instanceof String) {
      return "str";
    } else if (o instanceof Tuple) {
      return "tuple";
    } else if (o instanceof List) {
      return "list";
    } else if (o instanceof Map) {
      return "dict";
    } else if (o instanceof View v) {
      return v.type;
    } else if (o instanceof Markup) {
      return "Markup";
    } else if (o instanceof Gen g) {
      return g.type;
    } else if (o instanceof Undefined) {
      return "Undefined";
    } else if (o instanceof Namespace) {
      return "Namespace";
    } else if (o instanceof TemplateReference) {
      return "TemplateReference";
    } else if (o instanceof Callable) {
      return "function";
    }
    return o.getClass().getSimpleName();
  }

  static boolean isNumber(Object o) {
    return o instanceof Long || o instanceof Double || o instanceof Boolean;
  }

  static boolean truthy(Object o) {
    if (o == null || o instanceof Undefined) {
      return false;
    } else if (o instanceof Boolean b) {
      return b;
    } else if (o instanceof Long l) {
      return l != 0;
    } else if (o instanceof Double d) {
      return d != 0.0;
    } else if (o instanceof String s) {
      return !s.isEmpty();
    } else if (o instanceof List<?> l) {
      return !l.isEmpty();
    } else if (o instanceof Map<?, ?> m) {
      return !m.isEmpty();
    } else if (o instanceof Markup m) {
      return !m.text().isEmpty();
    }
    return true; // a generator too, even an empty one
  }

  /**
   * Normalizes values handed in by Java callers (Integer, arrays, other maps) to the Python model.
   */
  static Object fromJava(Object o) {
    if (o == null
        || o instanceof String
        || o instanceof Boolean
        || o instanceof Long
        || o instanceof Double) {
      return o;
    } else if (o instanceof Integer || o instanceof Short || o instanceof Byte) {
      return ((Number) o).longValue();
    } else if (o instanceof Float f) {
      return f.doubleValue();
    } else if (o instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      m.forEach((k, v) -> out.put(fromJava(k), fromJava(v)));
      return out;
    } else if (o instanceof Iterable<?> it) {
      List<Object> out = new ArrayList<>();
      it.forEach(x -> out.add(fromJava(x)));
      return out;
    }
    throw new IllegalArgumentException(
        "A template value must be None, bool, int, float, str, list or dict, "
            + "not "
            + o.getClass().getName());
  }

  // ---- str() and repr() ----

  static String str(Object o) {
    if (o instanceof String s) {
      return s;
    } else if (o instanceof Markup m) {
      return m.text();
    } else if (o instanceof Undefined) {
      return "";
    }
    return repr(o);
  }

  static String repr(Object o) {
    if (o == null) {
      return "None";
    } else if (o instanceof Boolean b) {
      return b ? "True" : "False";
    } else if (o instanceof Long l) {
      return Long.toString(l);
    } else if (o instanceof Double d) {
      return floatRepr(d);
    } else if (o instanceof String s) {
      return stringRepr(s);
    } else if (o instanceof View v) {
      return v.printed != null ? v.printed : v.type + "(" + repr(new ArrayList<>(v)) + ")";
    } else if (o instanceof Markup m) {
      return "Markup(" + stringRepr(m.text()) + ")";
    } else if (o instanceof Gen g) {
      throw TemplateException.unsupported(
          "printing a " + g.type + " (Python prints its memory address)");
    } else if (o instanceof TemplateReference) {
      throw TemplateException.unsupported(
          "printing self (jinja2 prints the object: <TemplateReference None>)");
    } else if (o instanceof Tuple t) {
      StringBuilder sb = new StringBuilder("(");
      for (int i = 0; i < t.size(); i++) {
        sb.append(i > 0 ? ", " : "").append(repr(t.get(i)));
      }
      return sb.append(t.size() == 1 ? ",)" : ")").toString();
    } else if (o instanceof List<?> l) {
      StringBuilder sb = new StringBuilder("[");
      for (int i = 0; i < l.size(); i++) {
        sb.append(i > 0 ? ", " : "").append(repr(l.get(i)));
      }
      return sb.append(']').toString();
    } else if (o instanceof Map<?, ?> m) {
      StringBuilder sb = new StringBuilder("{");
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        sb.append(first ? "" : ", ")
            .append(repr(e.getKey()))
            .append(": ")
            .append(repr(e.getValue()));
        first = false;
      }
      return sb.append('}').toString();
    } else if (o instanceof Undefined) {
      return "Undefined";
    } else if (o instanceof Namespace ns) {
      StringBuilder sb = new StringBuilder("<Namespace {");
      boolean first = true;
      for (Map.Entry<String, Object> e : ns.attrs.entrySet()) {
        sb.append(first ? "" : ", ")
            .append(repr(e.getKey()))
            .append(": ")
            .append(repr(e.getValue()));
        first = false;
      }
      return sb.append("}>").toString();
    }
    throw TemplateException.unsupported("printing a " + typeName(o));
  }

  /** Python's float repr: shortest round-trip digits, scientific below 1e-4 and from 1e16. */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    } else if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    } else if (d == 0) {
      return (1 / d < 0) ? "-0.0" : "0.0";
    }
    BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
    String digits = bd.unscaledValue().abs().toString();
    int exp = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
    String sign = d < 0 ? "-" : "";
    if (exp < -4 || exp >= 16) {
      String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      return sign
          + mant
          + "e"
          + (exp < 0 ? "-" : "+")
          + (Math.abs(exp) < 10 ? "0" : "")
          + Math.abs(exp);
    }
    String plain = bd.abs().toPlainString();
    return sign + (plain.contains(".") ? plain : plain + ".0");
  }

  static String stringRepr(String s) {
    char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    StringBuilder sb = new StringBuilder().append(quote);
    s.codePoints()
        .forEach(
            cp -> {
              if (cp == quote || cp == '\\') {
                sb.append('\\').appendCodePoint(cp);
              } else if (cp == '\n') {
                sb.append("\\n");
              } else if (cp == '\r') {
                sb.append("\\r");
              } else if (cp == '\t') {
                sb.append("\\t");
              } else if (cp < 0x20 || cp == 0x7f) {
                sb.append(String.format("\\x%02x", cp));
              } else if (!isPrintable(cp)) {
                sb.append(
                    cp <= 0xff
                        ? String.format("\\x%02x", cp)
                        : cp <= 0xffff
                            ? String.format("\\u%04x", cp)
                            : String.format("\\U%08x", cp));
              } else {
                sb.appendCodePoint(cp);
              }
            });
    return sb.append(quote).toString();
  }

  private static boolean isPrintable(int cp) {
    if (cp == ' ') {
      return true;
    }
    int type = Character.getType(cp);
    return !(type == Character.CONTROL
        || type == Character.FORMAT
        || type == Character.SURROGATE
        || type == Character.PRIVATE_USE
        || type == Character.UNASSIGNED
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR
        || type == Character.SPACE_SEPARATOR);
  }

  // ---- Python's str.isspace, used by strip/split/trim ----

  static boolean isSpace(int cp) {
    return (cp >= 9 && cp <= 13)
        || (cp >= 0x1c && cp <= 0x20)
        || cp == 0x85
        || cp == 0xa0
        || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200a)
        || cp == 0x2028
        || cp == 0x2029
        || cp == 0x202f
        || cp == 0x205f
        || cp == 0x3000;
  }

  // ---- equality and ordering ----

  static boolean eq(Object a, Object b) {
    if (a instanceof Markup m) {
      return eq(m.text(), b);
    } else if (b instanceof Markup m) {
      return eq(a, m.text());
    }
    if (a == null || b == null) {
      return a == b;
    }
    if (isNumber(a) && isNumber(b)) {
      if (a instanceof Double || b instanceof Double) {
        return toDouble(a) == toDouble(b);
      }
      return toLong(a) == toLong(b);
    }
    if (a instanceof List<?> la && b instanceof List<?> lb) {
      if ((a instanceof Tuple) != (b instanceof Tuple) || la.size() != lb.size()) {
        return false;
      }
      for (int i = 0; i < la.size(); i++) {
        if (!eq(la.get(i), lb.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
      if (ma.size() != mb.size()) {
        return false;
      }
      for (Map.Entry<?, ?> e : ma.entrySet()) {
        if (!mb.containsKey(e.getKey()) || !eq(e.getValue(), mb.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    return Objects.equals(a, b);
  }

  static int compare(Object a, Object b) {
    if (a instanceof Markup m) {
      return compare(m.text(), b);
    } else if (b instanceof Markup m) {
      return compare(a, m.text());
    }
    if (isNumber(a) && isNumber(b)) {
      if (a instanceof Double || b instanceof Double) {
        return Double.compare(toDouble(a), toDouble(b));
      }
      return Long.compare(toLong(a), toLong(b));
    }
    if (a instanceof String sa && b instanceof String sb) {
      return compareCodePoints(sa, sb);
    }
    if (a instanceof List<?> la
        && b instanceof List<?> lb
        && (a instanceof Tuple) == (b instanceof Tuple)) {
      for (int i = 0; i < Math.min(la.size(), lb.size()); i++) {
        if (!eq(la.get(i), lb.get(i))) {
          return compare(la.get(i), lb.get(i));
        }
      }
      return Integer.compare(la.size(), lb.size());
    }
    throw TemplateException.runtime(
        "'<' not supported between instances of '" + typeName(a) + "' and '" + typeName(b) + "'");
  }

  private static int compareCodePoints(String a, String b) {
    Iterator<Integer> ia = a.codePoints().iterator();
    Iterator<Integer> ib = b.codePoints().iterator();
    while (ia.hasNext() && ib.hasNext()) {
      int c = Integer.compare(ia.next(), ib.next());
      if (c != 0) {
        return c;
      }
    }
    return Boolean.compare(ia.hasNext(), ib.hasNext());
  }

  static long toLong(Object o) {
    if (o instanceof Boolean b) {
      return b ? 1 : 0;
    } else if (o instanceof Number n) {
      return n.longValue();
    }
    throw notNumber(o);
  }

  static double toDouble(Object o) {
    if (o instanceof Boolean b) {
      return b ? 1 : 0;
    } else if (o instanceof Number n) {
      return n.doubleValue();
    }
    throw notNumber(o);
  }

  private static TemplateException notNumber(Object o) {
    if (o instanceof Undefined u) {
      return u.error();
    }
    return TemplateException.runtime("must be real number, not " + typeName(o));
  }

  /**
   * An argument Python requires to be an int ({@code __index__}): a width, a count, a precision.
   */
  static long index(Object o) {
    if (o instanceof Long || o instanceof Boolean) {
      return toLong(o);
    } else if (o instanceof Undefined u) {
      throw u.error();
    }
    throw TemplateException.runtime(
        "'" + typeName(o) + "' object cannot be interpreted as an integer");
  }

  // ---- containers ----

  /**
   * The key of {@code m} that Python would find for {@code key}: 1, 1.0 and True are one dict key,
   * and a Markup finds its str.
   */
  static Object dictKey(Map<?, ?> m, Object key) {
    if (key instanceof Markup mk && !m.containsKey(key)) {
      return mk.text();
    }
    if (!isNumber(key) || m.containsKey(key)) {
      return key;
    }
    for (Object k : m.keySet()) {
      if (isNumber(k) && eq(k, key)) {
        return k;
      }
    }
    return key;
  }

  /** Python iteration: lists, tuples, dict keys, string characters; Undefined iterates empty. */
  static List<Object> iterate(Object o) {
    if (o instanceof Gen g) {
      return g.consumeAll();
    } else if (o instanceof Markup m) {
      return iterate(m.text());
    }
    if (o instanceof List<?> l) {
      return new ArrayList<>(l);
    } else if (o instanceof Map<?, ?> m) {
      return new ArrayList<>(m.keySet());
    } else if (o instanceof String s) {
      return new ArrayList<>(s.codePoints().mapToObj(Character::toString).toList());
    } else if (o instanceof Undefined) {
      return new ArrayList<>();
    }
    throw TemplateException.runtime("'" + typeName(o) + "' object is not iterable");
  }

  static long len(Object o) {
    if (o instanceof Markup m) {
      return len(m.text());
    }
    if (o instanceof String s) {
      return s.codePointCount(0, s.length());
    } else if (o instanceof List<?> l) {
      return l.size();
    } else if (o instanceof Map<?, ?> m) {
      return m.size();
    } else if (o instanceof Undefined) {
      return 0;
    }
    throw TemplateException.runtime("object of type '" + typeName(o) + "' has no len()");
  }

  static boolean contains(Object container, Object item) {
    if (container instanceof Markup m) {
      return contains(m.text(), item instanceof Markup i ? i.text() : item);
    } else if (container instanceof String && item instanceof Markup i) {
      return contains(container, i.text());
    } else if (container instanceof Gen g) {
      List<Object> items = g.begin();
      int at = -1;
      for (int i = 0; i < items.size() && at < 0; i++) {
        at = eq(items.get(i), item) ? i : -1;
      }
      g.end(at < 0 || at == items.size() - 1); // Python stops consuming at the match
      return at >= 0;
    }
    if (container instanceof String s) {
      if (!(item instanceof String sub)) {
        throw TemplateException.runtime(
            "'in <string>' requires string as left operand, not " + typeName(item));
      }
      return s.contains(sub);
    } else if (container instanceof Map<?, ?> m) {
      if (item instanceof List<?> && !(item instanceof Tuple) || item instanceof Map) {
        throw TemplateException.runtime("unhashable type: '" + typeName(item) + "'");
      }
      return m.containsKey(dictKey(m, item));
    }
    for (Object x : iterate(container)) {
      if (eq(x, item)) {
        return true;
      }
    }
    return false;
  }

  /** Python code-point substring with negative indices and steps, as {@code s[a:b:c]}. */
  static List<Object> sliceList(List<?> items, Long start, Long stop, Long step) {
    int n = items.size();
    long st = step == null ? 1 : step;
    if (st == 0) {
      throw TemplateException.runtime("slice step cannot be zero");
    }
    List<Object> out = new ArrayList<>();
    if (st > 0) {
      long a = clampIndex(start, n, 0, true);
      long b = clampIndex(stop, n, n, true);
      for (long i = a; i < b; i += st) {
        out.add(items.get((int) i));
      }
    } else {
      long a = clampIndex(start, n, n - 1, false);
      long b = stop == null ? -1 : clampIndex(stop, n, -1, false);
      for (long i = a; i > b; i += st) {
        out.add(items.get((int) i));
      }
    }
    return out;
  }

  private static long clampIndex(Long i, int n, long dflt, boolean forward) {
    if (i == null) {
      return dflt;
    }
    long v = i < 0 ? i + n : i;
    if (forward) {
      return Math.max(0, Math.min(n, v));
    }
    return Math.max(-1, Math.min(n - 1, v));
  }

  static List<Object> codePoints(String s) {
    return new ArrayList<>(s.codePoints().mapToObj(Character::toString).toList());
  }

  static String join(List<?> pieces) {
    StringBuilder sb = new StringBuilder();
    pieces.forEach(p -> sb.append((String) p));
    return sb.toString();
  }
}

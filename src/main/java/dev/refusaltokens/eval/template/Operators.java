package dev.refusaltokens.eval.template;

import java.util.ArrayList;
import java.util.List;

/**
 * jinja2 operators with Python semantics: arithmetic, concatenation, comparison, Markup escaping.
 */
final class Operators {

  private Operators() {}

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
    throw TemplateException.runtime(
        "bad operand type for unary " + op + ": '" + Py.typeName(v) + "'");
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
        if (a instanceof List<?> la
            && b instanceof List<?> lb
            && !(a instanceof Py.View)
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
    throw TemplateException.runtime(
        "unsupported operand type(s) for "
            + op
            + ": '"
            + Py.typeName(a)
            + "' and '"
            + Py.typeName(b)
            + "'");
  }

  /** markupsafe: what is added to a Markup, or formatted into it, is HTML-escaped first. */
  private static Object markupOp(Render r, String op, Object a, Object b) {
    boolean strs =
        (a instanceof String || a instanceof Py.Markup)
            && (b instanceof String || b instanceof Py.Markup);
    if (op.equals("+") && strs) {
      return new Py.Markup((String) binary(r, "+", escape(a).text(), escape(b).text()));
    } else if (op.equals("*") && (Py.isNumber(a) || Py.isNumber(b))) {
      return new Py.Markup(
          (String)
              repeat(
                  r,
                  a instanceof Py.Markup m ? m.text() : a,
                  b instanceof Py.Markup m ? m.text() : b));
    } else if (op.equals("%") && a instanceof Py.Markup fmt) {
      return new Py.Markup(Format.percent(r, fmt.text(), b, true));
    }
    throw TemplateException.runtime(
        "unsupported operand type(s) for "
            + op
            + ": '"
            + Py.typeName(a)
            + "' and '"
            + Py.typeName(b)
            + "'");
  }

  /** markupsafe's escape(): a Markup stays as it is, anything else is str() then HTML-escaped. */
  static Py.Markup escape(Object v) {
    return v instanceof Py.Markup m ? m : new Py.Markup(Strings.escapeHtml(Py.str(v)));
  }

  private static Object repeat(Render r, Object a, Object b) {
    Object seq = a instanceof Long || a instanceof Boolean ? b : a;
    Object times = seq == a ? b : a;
    if (!(times instanceof Long || times instanceof Boolean)) {
      throw TemplateException.runtime(
          "can't multiply sequence by non-int of type '" + Py.typeName(times) + "'");
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

  static Object arithmetic(String op, Object a, Object b) {
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
        case "+":
          return x + y;
        case "-":
          return x - y;
        case "*":
          return x * y;
        case "**":
          return power(x, y);
        case "//":
          checkZero(y);
          return Math.floor(x / y);
        case "%":
          checkZero(y);
          double m = x - y * Math.floor(x / y);
          return m;
        default:
          break;
      }
    } else {
      long x = Py.toLong(a);
      long y = Py.toLong(b);
      try {
        switch (op) {
          case "+":
            return Math.addExact(x, y);
          case "-":
            return Math.subtractExact(x, y);
          case "*":
            return Math.multiplyExact(x, y);
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
            for (long e = y;
                e > 0;
                e >>= 1) { // by squaring: 1 ** 10**18 must not loop 10**18 times
              if ((e & 1) == 1) {
                result = Math.multiplyExact(result, base);
              }
              if (e > 1) {
                base = Math.multiplyExact(base, base);
              }
            }
            return result;
          default:
            break;
        }
      } catch (ArithmeticException e) {
        throw TemplateException.unsupported("integer arithmetic beyond 64 bits");
      }
    }
    throw TemplateException.runtime("unknown operator " + op);
  }

  /**
   * Python's float power: errors where C's pow() overflows or divides by zero, complex results
   * refused.
   */
  private static double power(double x, double y) {
    if (x == 0 && y < 0) {
      throw TemplateException.runtime("0.0 cannot be raised to a negative power");
    } else if (x < 0 && y != Math.rint(y) && Double.isFinite(y)) {
      throw TemplateException.unsupported(
          "a negative number to a fractional power (a complex number)");
    }
    double p = Math.pow(x, y);
    if (Double.isInfinite(p) && Double.isFinite(x) && Double.isFinite(y)) {
      throw new TemplateException(
          TemplateException.Kind.LIMIT, "(34, 'Numerical result out of range')");
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
      case "==":
        return Py.eq(a, b);
      case "!=":
        return !Py.eq(a, b);
      case "in":
        return Py.contains(b, a);
      case "not in":
        return !Py.contains(b, a);
      default:
        break;
    }
    if (a instanceof Py.Undefined u) {
      throw u.error();
    }
    if (b instanceof Py.Undefined u) {
      throw u.error();
    }
    int c = Py.compare(a, b);
    switch (op) {
      case "<":
        return c < 0;
      case "<=":
        return c <= 0;
      case ">":
        return c > 0;
      default:
        return c >= 0;
    }
  }
}

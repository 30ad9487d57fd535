package dev.refusaltokens.eval.template;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;

/** Python's {@code '%s' % x} and {@code '{}'.format(x)}, for the conversions chat templates use. */
final class Format {

  private Format() {}

  /**
   * {@code fmt % args}; {@code escapeArgs} for a Markup format, which HTML-escapes what %s and %r
   * insert.
   */
  static String percent(Render r, String fmt, Object args, boolean escapeArgs) {
    List<?> values = args instanceof Py.Tuple t ? t : List.of(args == null ? NONE : args);
    StringBuilder sb = new StringBuilder();
    int next = 0;
    for (int i = 0; i < fmt.length(); i++) {
      char c = fmt.charAt(i);
      if (c != '%') {
        sb.append(c);
        continue;
      }
      if (i + 1 >= fmt.length()) {
        throw TemplateException.runtime("incomplete format");
      }
      int j = i + 1;
      while (j < fmt.length() && "-+ 0#.123456789".indexOf(fmt.charAt(j)) >= 0) {
        j++;
      }
      String spec = fmt.substring(i + 1, j);
      char conv = j < fmt.length() ? fmt.charAt(j) : 0;
      if (conv == '%' && spec.isEmpty()) {
        sb.append('%');
        i = j;
        continue;
      }
      if (next >= values.size()) {
        throw TemplateException.runtime("not enough arguments for format string");
      }
      Object v = values.get(next++);
      v = v == NONE ? null : v;
      String piece = convert(conv, spec, v);
      sb.append(
          escapeArgs && (conv == 's' && !(v instanceof Py.Markup) || conv == 'r')
              ? Strings.escapeHtml(piece)
              : piece);
      r.checkSize(sb.length());
      i = j;
    }
    if (next < values.size()) {
      throw TemplateException.runtime("not all arguments converted during string formatting");
    }
    return sb.toString();
  }

  private static final Object NONE = new Object();

  private static String convert(char conv, String spec, Object v) {
    if (!spec.isEmpty() && !(conv == 'f' && spec.matches("\\.\\d+"))) {
      throw TemplateException.unsupported("the format spec %" + spec + conv);
    }
    switch (conv) {
      case 's':
        return Py.str(v);
      case 'r':
        return Py.repr(v);
      case 'd':
      case 'i':
        if (!Py.isNumber(v)) {
          throw TemplateException.runtime(
              "%" + conv + " format: a real number is required, not " + Py.typeName(v));
        }
        if (v instanceof Double d && !(Math.abs(d) < 0x1p63)) {
          throw Double.isNaN(d)
              ? TemplateException.runtime("cannot convert float NaN to integer")
              : TemplateException.unsupported("%d of the float " + Py.floatRepr(d));
        }
        return Long.toString(v instanceof Double d ? (long) d.doubleValue() : Py.toLong(v));
      case 'f':
        if (!Py.isNumber(v)) {
          throw TemplateException.runtime("must be real number, not " + Py.typeName(v));
        }
        return fixed(Py.toDouble(v), spec.isEmpty() ? 6 : Integer.parseInt(spec.substring(1)));
      default:
        throw TemplateException.unsupported("the format conversion %" + conv);
    }
  }

  /**
   * Python's {@code '%.Nf'}: the exact binary value rounded half to even (Java's Formatter rounds
   * the shortest decimal half up).
   */
  private static String fixed(double d, int digits) {
    if (Double.isNaN(d)) {
      return "nan";
    } else if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    } else if (digits > 100) {
      throw TemplateException.unsupported("the format spec %." + digits + "f");
    }
    String plain = new BigDecimal(d).setScale(digits, RoundingMode.HALF_EVEN).abs().toPlainString();
    return (d < 0 || (d == 0 && 1 / d < 0) ? "-" : "") + plain;
  }

  /**
   * {@code str.format} with {@code {}}, {@code {0}} and {@code {name}} fields and no format specs.
   */
  static String braces(Render r, String fmt, List<Object> args, Map<String, Object> kw) {
    StringBuilder sb = new StringBuilder();
    int auto = 0;
    for (int i = 0; i < fmt.length(); i++) {
      char c = fmt.charAt(i);
      if (c == '{' && i + 1 < fmt.length() && fmt.charAt(i + 1) == '{') {
        sb.append('{');
        i++;
      } else if (c == '}' && i + 1 < fmt.length() && fmt.charAt(i + 1) == '}') {
        sb.append('}');
        i++;
      } else if (c == '{') {
        int end = fmt.indexOf('}', i);
        if (end < 0) {
          throw TemplateException.runtime("Single '{' encountered in format string");
        }
        String field = fmt.substring(i + 1, end);
        Object v;
        if (field.isEmpty()) {
          v = positional(args, auto++);
        } else if (field.chars().allMatch(Character::isDigit)) {
          v = positional(args, Integer.parseInt(field));
        } else if (field.matches("[A-Za-z][A-Za-z0-9]*")) {
          if (!kw.containsKey(field)) {
            throw TemplateException.runtime("KeyError: '" + field + "'");
          }
          v = kw.get(field);
        } else {
          throw TemplateException.unsupported("the str.format field {" + field + "}");
        }
        sb.append(Py.str(v));
        r.checkSize(sb.length());
        i = end;
      } else if (c == '}') {
        throw TemplateException.runtime("Single '}' encountered in format string");
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private static Object positional(List<Object> args, int i) {
    if (i >= args.size()) {
      throw TemplateException.runtime(
          "Replacement index " + i + " out of range for positional args tuple");
    }
    return args.get(i);
  }
}

package dev.refusaltokens.eval.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Python's {@code str} methods with Python's definitions of whitespace, case and line breaks. */
final class Strings {

  private Strings() {}

  static Object method(Render r, String s, String name, List<Object> args, Map<String, Object> kw) {
    switch (name) {
      case "strip": return strip(s, optStr(args, 0), true, true);
      case "lstrip": return strip(s, optStr(args, 0), true, false);
      case "rstrip": return strip(s, optStr(args, 0), false, true);
      case "upper": return s.toUpperCase(Locale.ROOT);
      case "lower": case "casefold": return s.toLowerCase(Locale.ROOT);
      case "title": return title(s);
      case "capitalize": return capitalize(s);
      case "startswith": return affix(s, arg(args, 0, name), true);
      case "endswith": return affix(s, arg(args, 0, name), false);
      case "split": return split(s, optStr(args, 0, kw, "sep"), maxsplit(args, kw), false);
      case "rsplit": return split(s, optStr(args, 0, kw, "sep"), maxsplit(args, kw), true);
      case "splitlines": return splitlines(s);
      case "replace": return replace(r, s, str(args, 0, name), str(args, 1, name),
          args.size() > 2 ? Py.toLong(args.get(2)) : -1);
      case "find": return (long) codePointIndex(s, s.indexOf(str(args, 0, name)));
      case "rfind": return (long) codePointIndex(s, s.lastIndexOf(str(args, 0, name)));
      case "index": case "rindex": {
        int i = name.equals("index") ? s.indexOf(str(args, 0, name)) : s.lastIndexOf(str(args, 0, name));
        if (i < 0) {
          throw TemplateException.runtime("substring not found");
        }
        return (long) codePointIndex(s, i);
      }
      case "count": return count(s, str(args, 0, name));
      case "join": {
        StringBuilder sb = new StringBuilder();
        boolean first = true;
        for (Object piece : Py.iterate(arg(args, 0, name))) {
          if (!(piece instanceof String p)) {
            throw TemplateException.runtime("sequence item: expected str instance, " + Py.typeName(piece)
                + " found");
          }
          r.checkSize((long) sb.length() + s.length() + p.length());
          sb.append(first ? "" : s).append(p);
          first = false;
        }
        return sb.toString();
      }
      case "isdigit": case "isdecimal": case "isnumeric":
        return !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
      case "isalpha": return !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
      case "isalnum": return !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
      case "isspace": return !s.isEmpty() && s.codePoints().allMatch(Py::isSpace);
      case "islower": return isLower(s);
      case "isupper": return isUpper(s);
      case "removeprefix": {
        String p = str(args, 0, name);
        return s.startsWith(p) ? s.substring(p.length()) : s;
      }
      case "removesuffix": {
        String p = str(args, 0, name);
        return s.endsWith(p) && !p.isEmpty() ? s.substring(0, s.length() - p.length()) : s;
      }
      case "center": return pad(s, (int) Py.toLong(arg(args, 0, name)), fill(args), 0);
      case "ljust": return pad(s, (int) Py.toLong(arg(args, 0, name)), fill(args), -1);
      case "rjust": return pad(s, (int) Py.toLong(arg(args, 0, name)), fill(args), 1);
      case "format": return Format.braces(r, s, args, kw);
      default: throw TemplateException.unsupported("the method str." + name + "()");
    }
  }

  private static Object arg(List<Object> args, int i, String fn) {
    if (args.size() <= i) {
      throw TemplateException.runtime(fn + "() is missing an argument");
    }
    Object v = args.get(i);
    if (v instanceof Py.Undefined u) {
      throw u.error();
    }
    return v;
  }

  private static String str(List<Object> args, int i, String fn) {
    Object v = arg(args, i, fn);
    if (!(v instanceof String s)) {
      throw TemplateException.runtime(fn + "() argument must be str, not " + Py.typeName(v));
    }
    return s;
  }

  private static String optStr(List<Object> args, int i) {
    return args.size() > i && args.get(i) != null ? (String) arg(args, i, "strip") : null;
  }

  private static String optStr(List<Object> args, int i, Map<String, Object> kw, String key) {
    Object v = args.size() > i ? args.get(i) : kw.get(key);
    return v == null ? null : Py.str(v);
  }

  private static long maxsplit(List<Object> args, Map<String, Object> kw) {
    Object v = args.size() > 1 ? args.get(1) : kw.get("maxsplit");
    return v == null ? -1 : Py.toLong(v);
  }

  private static String fill(List<Object> args) {
    return args.size() > 1 ? Py.str(args.get(1)) : " ";
  }

  private static int codePointIndex(String s, int charIndex) {
    return charIndex < 0 ? -1 : s.codePointCount(0, charIndex);
  }

  static String strip(String s, String chars, boolean left, boolean right) {
    int[] cps = s.codePoints().toArray();
    int a = 0;
    int b = cps.length;
    while (left && a < b && stripped(cps[a], chars)) {
      a++;
    }
    while (right && b > a && stripped(cps[b - 1], chars)) {
      b--;
    }
    return new String(cps, a, b - a);
  }

  private static boolean stripped(int cp, String chars) {
    return chars == null ? Py.isSpace(cp) : chars.codePoints().anyMatch(c -> c == cp);
  }

  private static boolean affix(String s, Object what, boolean prefix) {
    if (what instanceof List<?> options) {
      for (Object o : options) {
        if (affix(s, o, prefix)) {
          return true;
        }
      }
      return false;
    }
    if (!(what instanceof String p)) {
      throw TemplateException.runtime("startswith/endswith first arg must be str or a tuple of str");
    }
    return prefix ? s.startsWith(p) : s.endsWith(p);
  }

  static List<Object> split(String s, String sep, long maxsplit, boolean fromRight) {
    List<Object> out = new ArrayList<>();
    if (sep == null) {
      int[] cps = s.codePoints().toArray();
      List<int[]> words = new ArrayList<>();
      int i = 0;
      while (i < cps.length) {
        while (i < cps.length && Py.isSpace(cps[i])) {
          i++;
        }
        int start = i;
        while (i < cps.length && !Py.isSpace(cps[i])) {
          i++;
        }
        if (i > start) {
          words.add(new int[] {start, i});
        }
      }
      if (maxsplit >= 0 && words.size() > maxsplit + 1) {
        if (fromRight) {
          int cut = words.size() - (int) maxsplit - 1;
          out.add(strip(new String(cps, 0, words.get(cut)[1]), null, true, false));
          for (int w = cut + 1; w < words.size(); w++) {
            out.add(new String(cps, words.get(w)[0], words.get(w)[1] - words.get(w)[0]));
          }
        } else {
          for (int w = 0; w < maxsplit; w++) {
            out.add(new String(cps, words.get(w)[0], words.get(w)[1] - words.get(w)[0]));
          }
          int start = words.get((int) maxsplit)[0];
          out.add(strip(new String(cps, start, cps.length - start), null, false, true));
        }
        return out;
      }
      for (int[] w : words) {
        out.add(new String(cps, w[0], w[1] - w[0]));
      }
      return out;
    }
    if (sep.isEmpty()) {
      throw TemplateException.runtime("empty separator");
    }
    List<String> parts = new ArrayList<>();
    int from = 0;
    while (true) {
      int i = s.indexOf(sep, from);
      if (i < 0) {
        break;
      }
      parts.add(s.substring(from, i));
      from = i + sep.length();
    }
    parts.add(s.substring(from));
    if (maxsplit < 0 || parts.size() <= maxsplit + 1) {
      out.addAll(parts);
      return out;
    }
    int keep = (int) maxsplit;
    if (fromRight) {
      out.add(String.join(sep, parts.subList(0, parts.size() - keep)));
      out.addAll(parts.subList(parts.size() - keep, parts.size()));
    } else {
      out.addAll(parts.subList(0, keep));
      out.add(String.join(sep, parts.subList(keep, parts.size())));
    }
    return out;
  }

  private static boolean isLineBreak(int cp) {
    return cp == '\n' || cp == '\r' || cp == 0x0b || cp == 0x0c || cp == 0x1c || cp == 0x1d || cp == 0x1e
        || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
  }

  static List<Object> splitlines(String s) {
    List<Object> out = new ArrayList<>();
    int[] cps = s.codePoints().toArray();
    int start = 0;
    int i = 0;
    while (i < cps.length) {
      if (isLineBreak(cps[i])) {
        out.add(new String(cps, start, i - start));
        if (cps[i] == '\r' && i + 1 < cps.length && cps[i + 1] == '\n') {
          i++;
        }
        start = i + 1;
      }
      i++;
    }
    if (start < cps.length) {
      out.add(new String(cps, start, cps.length - start));
    }
    return out;
  }

  static String replace(Render r, String s, String old, String replacement, long count) {
    if (old.isEmpty()) {
      throw TemplateException.unsupported("replace() with an empty string to find");
    }
    StringBuilder sb = new StringBuilder();
    int from = 0;
    long done = 0;
    while (count < 0 || done < count) {
      int i = s.indexOf(old, from);
      if (i < 0) {
        break;
      }
      sb.append(s, from, i).append(replacement);
      r.checkSize(sb.length());
      from = i + old.length();
      done++;
    }
    sb.append(s, from, s.length());
    r.checkSize(sb.length());
    return sb.toString();
  }

  private static long count(String s, String sub) {
    if (sub.isEmpty()) {
      return s.codePointCount(0, s.length()) + 1L;
    }
    long n = 0;
    for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
      n++;
    }
    return n;
  }

  static String capitalize(String s) {
    if (s.isEmpty()) {
      return s;
    }
    int first = s.codePointAt(0);
    int n = Character.charCount(first);
    return new String(Character.toChars(Character.toTitleCase(first))) + s.substring(n).toLowerCase(Locale.ROOT);
  }

  /** Python's str.title: a letter after a non-letter is upper-cased, other letters lower-cased. */
  static String title(String s) {
    StringBuilder sb = new StringBuilder();
    boolean prevCased = false;
    for (int cp : s.codePoints().toArray()) {
      boolean cased = Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
      sb.appendCodePoint(cased ? (prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp)) : cp);
      prevCased = cased;
    }
    return sb.toString();
  }

  static boolean isLower(String s) {
    boolean anyCased = false;
    for (int cp : s.codePoints().toArray()) {
      if (Character.isUpperCase(cp) || Character.isTitleCase(cp)) {
        return false;
      }
      anyCased |= Character.isLowerCase(cp);
    }
    return anyCased;
  }

  static boolean isUpper(String s) {
    boolean anyCased = false;
    for (int cp : s.codePoints().toArray()) {
      if (Character.isLowerCase(cp) || Character.isTitleCase(cp)) {
        return false;
      }
      anyCased |= Character.isUpperCase(cp);
    }
    return anyCased;
  }

  /** center (side 0), ljust (-1), rjust (1) with Python's split of odd padding. */
  static String pad(String s, int width, String fill, int side) {
    int len = s.codePointCount(0, s.length());
    if (width <= len) {
      return s;
    }
    int total = width - len;
    int left = side < 0 ? 0 : side > 0 ? total : total / 2 + (total & width & 1);
    return fill.repeat(left) + s + fill.repeat(total - left);
  }

  static String escapeHtml(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&#34;")
        .replace("'", "&#39;");
  }

  /** jinja2 3.1's indent filter, including its quirk of adding a newline before splitting lines. */
  static String indent(Render r, String s, Object width, boolean first, boolean blank) {
    String indention = width instanceof String w ? w : " ".repeat((int) Py.toLong(width));
    List<Object> lines = splitlines(s + "\n");
    StringBuilder rv = new StringBuilder();
    if (blank) {
      for (int i = 0; i < lines.size(); i++) {
        rv.append(i > 0 ? "\n" + indention : "").append((String) lines.get(i));
      }
    } else {
      rv.append((String) lines.get(0));
      for (int i = 1; i < lines.size(); i++) {
        String line = (String) lines.get(i);
        rv.append('\n').append(line.isEmpty() ? "" : indention + line);
      }
    }
    r.checkSize(rv.length() + (long) indention.length());
    return first ? indention + rv : rv.toString();
  }
}

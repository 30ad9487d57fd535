package dev.refusaltokens.eval.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Python's {@code str} methods with Python's definitions of whitespace, case and line breaks. */
final class Strings {

  private Strings() {}

  /**
   * How many positional arguments each implemented method takes here; more (start/end, keepends) is
   * refused.
   */
  private static final Map<String, Integer> ARITY =
      Map.ofEntries(
          Map.entry("strip", 1),
          Map.entry("lstrip", 1),
          Map.entry("rstrip", 1),
          Map.entry("upper", 0),
          Map.entry("lower", 0),
          Map.entry("casefold", 0),
          Map.entry("title", 0),
          Map.entry("capitalize", 0),
          Map.entry("startswith", 1),
          Map.entry("endswith", 1),
          Map.entry("split", 2),
          Map.entry("rsplit", 2),
          Map.entry("splitlines", 0),
          Map.entry("replace", 3),
          Map.entry("find", 1),
          Map.entry("rfind", 1),
          Map.entry("index", 1),
          Map.entry("rindex", 1),
          Map.entry("count", 1),
          Map.entry("join", 1),
          Map.entry("isdigit", 0),
          Map.entry("isdecimal", 0),
          Map.entry("isnumeric", 0),
          Map.entry("isalpha", 0),
          Map.entry("isalnum", 0),
          Map.entry("isspace", 0),
          Map.entry("islower", 0),
          Map.entry("isupper", 0),
          Map.entry("removeprefix", 1),
          Map.entry("removesuffix", 1),
          Map.entry("center", 2),
          Map.entry("ljust", 2),
          Map.entry("rjust", 2),
          Map.entry("partition", 1),
          Map.entry("rpartition", 1),
          Map.entry("zfill", 1));

  static Object method(Render r, String s, String name, List<Object> args, Map<String, Object> kw) {
    Integer arity = ARITY.get(name);
    boolean splitKw =
        (name.equals("split") || name.equals("rsplit"))
            && List.of("sep", "maxsplit").containsAll(kw.keySet());
    if (arity != null && (args.size() > arity || !kw.isEmpty() && !splitKw)) {
      throw TemplateException.unsupported(
          "str."
              + name
              + "() with "
              + args.size()
              + " positional and "
              + kw.size()
              + " keyword arguments");
    }
    switch (name) {
      case "strip":
        return strip(s, optStr(args, 0), true, true);
      case "lstrip":
        return strip(s, optStr(args, 0), true, false);
      case "rstrip":
        return strip(s, optStr(args, 0), false, true);
      case "upper":
        return s.toUpperCase(Locale.ROOT);
      case "lower":
        return s.toLowerCase(Locale.ROOT);
      case "casefold":
        return casefold(s);
      case "title":
        return title(s);
      case "capitalize":
        return capitalize(s);
      case "startswith":
        return affix(s, arg(args, 0, name), true);
      case "endswith":
        return affix(s, arg(args, 0, name), false);
      case "split":
        return split(s, optStr(args, 0, kw, "sep"), maxsplit(args, kw), false);
      case "rsplit":
        return split(s, optStr(args, 0, kw, "sep"), maxsplit(args, kw), true);
      case "splitlines":
        return splitlines(s);
      case "replace":
        return replace(
            r,
            s,
            str(args, 0, name),
            str(args, 1, name),
            args.size() > 2 ? Py.index(args.get(2)) : -1);
      case "find":
        return (long) codePointIndex(s, s.indexOf(str(args, 0, name)));
      case "rfind":
        return (long) codePointIndex(s, s.lastIndexOf(str(args, 0, name)));
      case "index":
      case "rindex":
        {
          int i =
              name.equals("index")
                  ? s.indexOf(str(args, 0, name))
                  : s.lastIndexOf(str(args, 0, name));
          if (i < 0) {
            throw TemplateException.runtime("substring not found");
          }
          return (long) codePointIndex(s, i);
        }
      case "count":
        return count(s, str(args, 0, name));
      case "join":
        {
          StringBuilder sb = new StringBuilder();
          boolean first = true;
          for (Object piece : Py.iterate(arg(args, 0, name))) {
            if (!(piece instanceof String p)) {
              throw TemplateException.runtime(
                  "sequence item: expected str instance, " + Py.typeName(piece) + " found");
            }
            r.checkSize((long) sb.length() + s.length() + p.length());
            sb.append(first ? "" : s).append(p);
            first = false;
          }
          return sb.toString();
        }
      case "isdecimal":
        return !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
      case "isdigit":
      case "isnumeric":
        return !s.isEmpty() && s.codePoints().allMatch(cp -> isNumeric(cp, name));
      case "isalpha":
        return !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
      case "isalnum":
        return !s.isEmpty()
            && s.codePoints().allMatch(cp -> Character.isLetter(cp) || isNumberCategory(cp));
      case "partition":
      case "rpartition":
        {
          String sep = str(args, 0, name);
          if (sep.isEmpty()) {
            throw TemplateException.runtime("empty separator");
          }
          int i = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
          if (i < 0) {
            return new Py.Tuple(name.equals("partition") ? List.of(s, "", "") : List.of("", "", s));
          }
          return new Py.Tuple(List.of(s.substring(0, i), sep, s.substring(i + sep.length())));
        }
      case "zfill":
        {
          long width = Py.index(arg(args, 0, name));
          int len = s.codePointCount(0, s.length());
          if (width <= len) {
            return s;
          }
          r.checkSize(width);
          boolean sign = !s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-');
          String zeros = "0".repeat((int) width - len);
          return sign ? s.charAt(0) + zeros + s.substring(1) : zeros + s;
        }
      case "isspace":
        return !s.isEmpty() && s.codePoints().allMatch(Py::isSpace);
      case "islower":
        return isLower(s);
      case "isupper":
        return isUpper(s);
      case "removeprefix":
        {
          String p = str(args, 0, name);
          return s.startsWith(p) ? s.substring(p.length()) : s;
        }
      case "removesuffix":
        {
          String p = str(args, 0, name);
          return s.endsWith(p) && !p.isEmpty() ? s.substring(0, s.length() - p.length()) : s;
        }
      case "center":
        return pad(r, s, Py.index(arg(args, 0, name)), fill(args), 0);
      case "ljust":
        return pad(r, s, Py.index(arg(args, 0, name)), fill(args), -1);
      case "rjust":
        return pad(r, s, Py.index(arg(args, 0, name)), fill(args), 1);
      case "format":
        return Format.braces(r, s, args, kw);
      default:
        throw TemplateException.unsupported("the method str." + name + "()");
    }
  }

  private static boolean isNumberCategory(int cp) {
    int t = Character.getType(cp);
    return t == Character.DECIMAL_DIGIT_NUMBER
        || t == Character.LETTER_NUMBER
        || t == Character.OTHER_NUMBER;
  }

  /**
   * str.isdigit / isnumeric for one code point: decimal digits are both; other numbers
   * (superscripts, fractions, roman numerals) and CJK numerals depend on Unicode's Numeric_Type,
   * which Java does not expose, so they are refused.
   */
  private static boolean isNumeric(int cp, String fn) {
    if (Character.isDigit(cp)) {
      return true;
    }
    int t = Character.getType(cp);
    if (t == Character.LETTER_NUMBER
        || t == Character.OTHER_NUMBER
        || t == Character.OTHER_LETTER && Character.isIdeographic(cp)) {
      throw TemplateException.unsupported(
          "str." + fn + "() of " + new String(Character.toChars(cp)));
    }
    return false;
  }

  /** Python's casefold: lower(upper(s)) gives the full folding but for final sigma and Cherokee. */
  static String casefold(String s) {
    if (s.codePoints()
        .anyMatch(cp -> cp >= 0x13a0 && cp <= 0x13ff || cp >= 0xab70 && cp <= 0xabbf)) {
      throw TemplateException.unsupported("str.casefold() of Cherokee letters");
    }
    return s.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT).replace('\u03c2', '\u03c3');
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
    return v == null ? -1 : Py.index(v);
  }

  private static String fill(List<Object> args) {
    if (args.size() < 2) {
      return " ";
    }
    if (!(args.get(1) instanceof String f) || f.codePointCount(0, f.length()) != 1) {
      throw TemplateException.runtime("The fill character must be exactly one character long");
    }
    return f;
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
      throw TemplateException.runtime(
          "startswith/endswith first arg must be str or a tuple of str");
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
      if (maxsplit >= 0 && words.size() > maxsplit) { // the last piece is the rest, spaces and all
        if (fromRight) {
          int cut = words.size() - (int) maxsplit - 1;
          out.add(new String(cps, 0, words.get(cut)[1])); // the rest keeps its leading whitespace
          for (int w = cut + 1; w < words.size(); w++) {
            out.add(new String(cps, words.get(w)[0], words.get(w)[1] - words.get(w)[0]));
          }
        } else {
          for (int w = 0; w < maxsplit; w++) {
            out.add(new String(cps, words.get(w)[0], words.get(w)[1] - words.get(w)[0]));
          }
          int start = words.get((int) maxsplit)[0];
          out.add(
              new String(cps, start, cps.length - start)); // the rest keeps its trailing whitespace
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
    return cp == '\n'
        || cp == '\r'
        || cp == 0x0b
        || cp == 0x0c
        || cp == 0x1c
        || cp == 0x1d
        || cp == 0x1e
        || cp == 0x85
        || cp == 0x2028
        || cp == 0x2029;
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
    if (old.isEmpty()) { // Python inserts the replacement before every code point and at the end
      int[] cps = s.codePoints().toArray();
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i <= cps.length; i++) {
        if (count < 0 || i < count) {
          r.checkSize(sb.length() + (long) replacement.length());
          sb.append(replacement);
        }
        if (i < cps.length) {
          sb.appendCodePoint(cps[i]);
        }
      }
      return sb.toString();
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

  /** Python's str.capitalize: the first code point title-cased, the rest lower-cased. */
  static String capitalize(String s) {
    if (s.isEmpty()) {
      return s;
    }
    int first = s.codePointAt(0);
    int n = Character.charCount(first);
    checkSimpleCase(s);
    return new String(Character.toChars(Character.toTitleCase(first)))
        + s.substring(n).toLowerCase(Locale.ROOT);
  }

  /**
   * Python's str.title: a cased letter after an uncased one is title-cased, other letters
   * lower-cased.
   */
  static String title(String s) {
    checkSimpleCase(s);
    StringBuilder sb = new StringBuilder();
    boolean prevCased = false;
    for (int cp : s.codePoints().toArray()) {
      boolean cased =
          Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
      sb.appendCodePoint(
          cased ? (prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp)) : cp);
      prevCased = cased;
    }
    return sb.toString();
  }

  /**
   * Java's per-code-point case mappings are Python's full ones except where a letter expands (ß →
   * Ss, ligatures), İ lower-cases to two code points, or Σ takes its final form: refused, never
   * guessed.
   */
  private static void checkSimpleCase(String s) {
    for (int cp : s.codePoints().toArray()) {
      if (cp == 0x130
          || cp == 0x3a3
          || new String(Character.toChars(cp))
                  .toUpperCase(Locale.ROOT)
                  .codePointCount(
                      0, new String(Character.toChars(cp)).toUpperCase(Locale.ROOT).length())
              > 1) {
        throw TemplateException.unsupported("title-casing " + new String(Character.toChars(cp)));
      }
    }
  }

  /**
   * jinja2's title filter (not str.title): each run after a '-', whitespace, '(', '{', '[' or '<'
   * gets its first code point upper-cased and the rest lower-cased ("o'neil" → "O'neil",
   * "tool_call" → "Tool_call").
   */
  static String titleFilter(String s) {
    StringBuilder sb = new StringBuilder();
    int[] cps = s.codePoints().toArray();
    int i = 0;
    while (i < cps.length) {
      int start = i;
      boolean delim = isTitleDelimiter(cps[i]);
      while (i < cps.length && isTitleDelimiter(cps[i]) == delim) {
        i++;
      }
      String first = new String(cps, start, 1);
      String rest = new String(cps, start + 1, i - start - 1);
      sb.append(first.toUpperCase(Locale.ROOT)).append(rest.toLowerCase(Locale.ROOT));
    }
    return sb.toString();
  }

  private static boolean isTitleDelimiter(int cp) {
    return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || Py.isSpace(cp);
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
  static String pad(Render r, String s, long width, String fill, int side) {
    int len = s.codePointCount(0, s.length());
    if (width <= len) {
      return s;
    }
    r.checkSize(s.length() + (width - len) * fill.length());
    int total = (int) width - len;
    int left = side < 0 ? 0 : side > 0 ? total : total / 2 + (total & (int) width & 1);
    return fill.repeat(left) + s + fill.repeat(total - left);
  }

  static String escapeHtml(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&#34;")
        .replace("'", "&#39;");
  }

  /** jinja2 3.1's indent filter, including its quirk of adding a newline before splitting lines. */
  static String indent(Render r, String s, Object width, boolean first, boolean blank) {
    String indention =
        width instanceof String w
            ? w
            : " "
                .repeat(
                    (int) Math.max(0, Math.min(Py.index(width), r.limits.maxStringChars() + 1L)));
    List<Object> lines = splitlines(s + "\n");
    StringBuilder rv = new StringBuilder();
    if (blank) {
      for (int i = 0; i < lines.size(); i++) {
        String line = (String) lines.get(i);
        r.checkSize(rv.length() + 1L + indention.length() + line.length());
        rv.append(i > 0 ? "\n" + indention : "").append(line);
      }
    } else {
      rv.append((String) lines.get(0));
      for (int i = 1; i < lines.size(); i++) {
        String line = (String) lines.get(i);
        r.checkSize(rv.length() + 1L + indention.length() + line.length());
        rv.append('\n').append(line.isEmpty() ? "" : indention + line);
      }
    }
    r.checkSize(rv.length() + (long) indention.length());
    return first ? indention + rv : rv.toString();
  }
}

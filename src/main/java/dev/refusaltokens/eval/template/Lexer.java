package dev.refusaltokens.eval.template;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a template into text, {@code {{ … }}} and {@code {% … %}} segments, applying whitespace
 * control exactly as jinja2's lexer does with Hugging Face's settings ({@code trim_blocks}, {@code
 * lstrip_blocks}, newlines normalized to {@code \n}, one trailing newline dropped), and lexes the
 * inside of each tag into tokens.
 */
final class Lexer {

  enum Type {
    NAME,
    STRING,
    INT,
    FLOAT,
    OP,
    END
  }

  record Tok(Type type, String text, Object value, int line) {
    boolean is(String s) {
      return (type == Type.OP || type == Type.NAME) && text.equals(s);
    }
  }

  enum Kind {
    DATA,
    VAR,
    BLOCK
  }

  record Seg(Kind kind, String text, List<Tok> toks, int line) {}

  private static final String[] OPERATORS = {
    "**", "//", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}",
    ">", "<", "=", ".", ":", "|", ",", ";"
  };

  private final String src;
  private final List<Seg> out = new ArrayList<>();
  private int pos;
  private boolean lineStarting = true;
  private int lineCursor;
  private int lineCount = 1;

  private Lexer(String source) {
    String s = source.replace("\r\n", "\n").replace('\r', '\n');
    this.src = s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
  }

  static List<Seg> lex(String source) {
    Lexer lexer = new Lexer(source);
    lexer.run();
    return lexer.out;
  }

  private void run() {
    while (pos < src.length()) {
      int start = nextTagStart(pos);
      if (start < 0) {
        data(src.substring(pos));
        return;
      }
      char kind = src.charAt(start + 1);
      char sign = start + 2 < src.length() ? src.charAt(start + 2) : 0;
      String text = src.substring(pos, start);
      if (sign == '-') {
        text = rstrip(text);
      } else if (sign != '+' && kind != '{') {
        text = lstripBlock(text);
      }
      data(text);
      int body = start + 2 + (sign == '-' || sign == '+' ? 1 : 0);
      if (kind == '#') {
        comment(body);
      } else if (kind == '%' && isRaw(body)) {
        raw(body);
      } else {
        tag(kind == '%' ? Kind.BLOCK : Kind.VAR, body);
      }
    }
  }

  private int nextTagStart(int from) {
    for (int i = src.indexOf('{', from);
        i >= 0 && i + 1 < src.length();
        i = src.indexOf('{', i + 1)) {
      char c = src.charAt(i + 1);
      if (c == '{' || c == '%' || c == '#') {
        return i;
      }
    }
    return -1;
  }

  private void data(String text) {
    if (!text.isEmpty()) {
      out.add(new Seg(Kind.DATA, text, List.of(), line(pos)));
    }
  }

  /** lstrip_blocks: spaces between the line start and a block or comment tag are dropped. */
  private String lstripBlock(String text) {
    int lpos = text.lastIndexOf('\n') + 1;
    if ((lpos > 0 || lineStarting) && lpos < text.length() && allSpace(text, lpos)) {
      return text.substring(0, lpos);
    }
    return text;
  }

  private void comment(int from) {
    int end = src.indexOf("#}", from);
    if (end < 0) {
      throw syntax("missing end of comment tag", from);
    }
    boolean minus = src.charAt(end - 1) == '-' && end - 1 >= from;
    boolean plus = src.charAt(end - 1) == '+' && end - 1 >= from;
    finishTag(end + 2, minus, plus, true);
  }

  private boolean isRaw(int from) {
    int i = skipSpace(from);
    if (!src.startsWith("raw", i)) {
      return false;
    }
    int j = skipSpace(i + 3);
    return src.startsWith("%}", j) || src.startsWith("-%}", j);
  }

  private void raw(int from) {
    int i = skipSpace(skipSpace(from) + 3);
    boolean minus = src.charAt(i) == '-';
    pos = i + (minus ? 3 : 2);
    if (minus) {
      pos = skipSpace(pos);
    }
    int search = pos;
    while (true) {
      int start = src.indexOf("{%", search);
      if (start < 0) {
        throw syntax("missing {% endraw %}", from);
      }
      char sign = start + 2 < src.length() ? src.charAt(start + 2) : 0;
      int k = skipSpace(start + 2 + (sign == '-' || sign == '+' ? 1 : 0));
      if (!src.startsWith("endraw", k)) {
        search = start + 2;
        continue;
      }
      int e = skipSpace(k + 6);
      String text = src.substring(pos, start);
      text = sign == '-' ? rstrip(text) : sign == '+' ? text : lstripBlock(text);
      data(text);
      boolean endMinus = src.startsWith("-%}", e);
      boolean endPlus = src.startsWith("+%}", e);
      if (!endMinus && !endPlus && !src.startsWith("%}", e)) {
        throw syntax("bad endraw tag", e);
      }
      finishTag(e + (endMinus || endPlus ? 3 : 2), endMinus, endPlus, true);
      return;
    }
  }

  /**
   * After a tag: '-' eats all following whitespace, trim_blocks one newline after a block or
   * comment.
   */
  private void finishTag(int after, boolean minus, boolean plus, boolean block) {
    pos = after;
    if (minus) {
      pos = skipSpace(pos);
    } else if (!plus && block && pos < src.length() && src.charAt(pos) == '\n') {
      pos++;
    }
    // jinja2: the next text starts a line when the consumed tag end ended with a newline
    lineStarting = pos > after && src.charAt(pos - 1) == '\n';
  }

  private void tag(Kind kind, int from) {
    List<Tok> toks = new ArrayList<>();
    int depth = 0;
    int i = from;
    String close = kind == Kind.BLOCK ? "%}" : "}}";
    while (true) {
      i = skipSpace(i);
      if (i >= src.length()) {
        throw syntax("unexpected end of template, expected '" + close + "'", from);
      }
      if (depth == 0) {
        boolean minus = src.startsWith("-" + close, i);
        boolean plus = kind == Kind.BLOCK && src.startsWith("+" + close, i);
        if (minus || plus || src.startsWith(close, i)) {
          toks.add(new Tok(Type.END, "", null, line(i)));
          out.add(new Seg(kind, null, toks, line(from)));
          finishTag(i + close.length() + (minus || plus ? 1 : 0), minus, plus, kind == Kind.BLOCK);
          return;
        }
      }
      char c = src.charAt(i);
      if (c == '"' || c == '\'') {
        i = string(i, toks);
      } else if (Character.isDigit(c)) {
        i = number(i, toks);
      } else if (Character.isUnicodeIdentifierStart(c) || c == '_') {
        int j = i + 1;
        while (j < src.length() && (Character.isUnicodeIdentifierPart(src.charAt(j)))) {
          j++;
        }
        toks.add(new Tok(Type.NAME, src.substring(i, j), null, line(i)));
        i = j;
      } else {
        String op = operator(i);
        if (op == null) {
          throw syntax("unexpected character '" + c + "'", i);
        }
        if (op.equals("(") || op.equals("[") || op.equals("{")) {
          depth++;
        } else if (op.equals(")") || op.equals("]") || op.equals("}")) {
          if (depth == 0) {
            throw syntax("unexpected '" + op + "'", i);
          }
          depth--;
        }
        toks.add(new Tok(Type.OP, op, null, line(i)));
        i += op.length();
      }
    }
  }

  private String operator(int i) {
    for (String op : OPERATORS) {
      if (src.startsWith(op, i)) {
        return op;
      }
    }
    return null;
  }

  private int number(int i, List<Tok> toks) {
    if (src.charAt(i) == '0' && i + 2 < src.length() && "xXoObB".indexOf(src.charAt(i + 1)) >= 0) {
      return prefixedInt(i, toks);
    }
    int j = digits(i);
    boolean isFloat = false;
    boolean afterDot = i > 0 && src.charAt(i - 1) == '.';
    if (!afterDot
        && j + 1 < src.length()
        && src.charAt(j) == '.'
        && Character.isDigit(src.charAt(j + 1))) {
      j = digits(j + 1);
      isFloat = true;
    }
    if (!afterDot && j < src.length() && (src.charAt(j) == 'e' || src.charAt(j) == 'E')) {
      int k = j + 1;
      if (k < src.length() && (src.charAt(k) == '+' || src.charAt(k) == '-')) {
        k++;
      }
      if (k < src.length() && Character.isDigit(src.charAt(k))) {
        j = digits(k);
        isFloat = true;
      }
    }
    String text = src.substring(i, j).replace("_", "");
    if (!isFloat && text.length() > 1 && text.charAt(0) == '0' && !text.matches("0+")) {
      // jinja2 reads "012" as the integer 0 followed by 12: a syntax error in every position
      throw syntax("unexpected integer after 0", i);
    }
    try {
      toks.add(
          isFloat
              ? new Tok(Type.FLOAT, text, Double.parseDouble(text), line(i))
              : new Tok(Type.INT, text, Long.parseLong(text), line(i)));
    } catch (NumberFormatException e) {
      throw TemplateException.unsupported("the number literal " + text);
    }
    return j;
  }

  /** 0x1A, 0o17, 0b101 (with '_' between digits), as jinja2's integer_re reads them. */
  private int prefixedInt(int i, List<Tok> toks) {
    int radix =
        switch (Character.toLowerCase(src.charAt(i + 1))) {
          case 'x' -> 16;
          case 'o' -> 8;
          default -> 2;
        };
    int j = i + 2;
    StringBuilder digits = new StringBuilder();
    while (j < src.length()) {
      char c = src.charAt(j);
      boolean underscore =
          c == '_' && j + 1 < src.length() && Character.digit(src.charAt(j + 1), radix) >= 0;
      if (!underscore && (c > 0x7f || Character.digit(c, radix) < 0)) {
        break;
      }
      if (!underscore) {
        digits.append(c);
      }
      j++;
    }
    if (digits.length() == 0) {
      throw syntax("invalid integer literal", i);
    }
    try {
      toks.add(
          new Tok(
              Type.INT, src.substring(i, j), Long.parseLong(digits.toString(), radix), line(i)));
    } catch (NumberFormatException e) {
      throw TemplateException.unsupported("the number literal " + src.substring(i, j));
    }
    return j;
  }

  private int digits(int i) {
    int j = i;
    while (j < src.length()
        && (Character.isDigit(src.charAt(j))
            || (src.charAt(j) == '_'
                && j + 1 < src.length()
                && Character.isDigit(src.charAt(j + 1))))) {
      j++;
    }
    return j;
  }

  /** A string literal with Python's escapes ({@code unicode_escape}), as jinja2 decodes them. */
  private int string(int i, List<Tok> toks) {
    char quote = src.charAt(i);
    StringBuilder sb = new StringBuilder();
    int j = i + 1;
    while (true) {
      if (j >= src.length()) {
        throw syntax("unterminated string", i);
      }
      char c = src.charAt(j);
      if (c == quote) {
        break;
      }
      if (c != '\\' || j + 1 >= src.length()) {
        sb.append(c);
        j++;
        continue;
      }
      char e = src.charAt(j + 1);
      j += 2;
      switch (e) {
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 'r' -> sb.append('\r');
        case '\\' -> sb.append('\\');
        case '\'' -> sb.append('\'');
        case '"' -> sb.append('"');
        case 'a' -> sb.append('\u0007');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'v' -> sb.append('\u000b');
        case '\n' -> {}
        case 'x' -> j = hexEscape(j, 2, sb, i);
        case 'u' -> j = hexEscape(j, 4, sb, i);
        case 'U' -> j = hexEscape(j, 8, sb, i);
        default -> {
          if (e >= '0' && e <= '7') {
            int k = j - 1;
            int end = Math.min(src.length(), k + 3);
            int v = 0;
            while (k < end && src.charAt(k) >= '0' && src.charAt(k) <= '7') {
              v = v * 8 + (src.charAt(k++) - '0');
            }
            sb.appendCodePoint(v);
            j = k;
          } else {
            sb.append('\\').append(e);
          }
        }
      }
    }
    toks.add(new Tok(Type.STRING, src.substring(i, j + 1), sb.toString(), line(i)));
    return j + 1;
  }

  private int hexEscape(int j, int n, StringBuilder sb, int stringStart) {
    if (j + n > src.length()) {
      throw syntax("truncated \\x, \\u or \\U escape", stringStart);
    }
    try {
      sb.appendCodePoint(Integer.parseInt(src.substring(j, j + n), 16));
    } catch (IllegalArgumentException e) {
      throw syntax("bad \\x, \\u or \\U escape", stringStart);
    }
    return j + n;
  }

  private int skipSpace(int i) {
    while (i < src.length() && Py.isSpace(src.charAt(i))) {
      i++;
    }
    return i;
  }

  private static String rstrip(String s) {
    int end = s.length();
    while (end > 0 && Py.isSpace(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end);
  }

  private static boolean allSpace(String s, int from) {
    for (int i = from; i < s.length(); i++) {
      if (!Py.isSpace(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private int line(int offset) {
    while (lineCursor < offset && lineCursor < src.length()) {
      if (src.charAt(lineCursor++) == '\n') {
        lineCount++;
      }
    }
    while (lineCursor > offset) {
      if (src.charAt(--lineCursor) == '\n') {
        lineCount--;
      }
    }
    return lineCount;
  }

  private TemplateException syntax(String message, int offset) {
    return new TemplateException(
        TemplateException.Kind.SYNTAX, message + " (line " + line(offset) + ")");
  }
}

package dev.refusaltokens.eval.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face's {@code tojson} filter: Python's {@code json.dumps(x, ensure_ascii=False,
 * indent=None, separators=None, sort_keys=False)}, byte for byte (not jinja2's HTML-safe {@code
 * tojson}).
 */
final class Json {

  private final Render render;
  private final boolean ensureAscii;
  private final String indent;
  private final String itemSep;
  private final String keySep;
  private final boolean sortKeys;
  private final StringBuilder out = new StringBuilder();

  private Json(
      Render render,
      boolean ensureAscii,
      String indent,
      String itemSep,
      String keySep,
      boolean sortKeys) {
    this.render = render;
    this.ensureAscii = ensureAscii;
    this.indent = indent;
    this.itemSep = itemSep;
    this.keySep = keySep;
    this.sortKeys = sortKeys;
  }

  /** Arguments in HF's order: {@code ensure_ascii, indent, separators, sort_keys}. */
  static String dumps(Render r, Object value, List<Object> args, Map<String, Object> kw) {
    if (args.size() > 4) {
      throw TemplateException.runtime("tojson() takes from 1 to 5 positional arguments");
    }
    for (String k : kw.keySet()) {
      if (!List.of("ensure_ascii", "indent", "separators", "sort_keys").contains(k)) {
        throw TemplateException.runtime("tojson() got an unexpected keyword argument '" + k + "'");
      }
    }
    Object ascii = args.size() > 0 ? args.get(0) : kw.getOrDefault("ensure_ascii", false);
    Object ind = args.size() > 1 ? args.get(1) : kw.get("indent");
    Object seps = args.size() > 2 ? args.get(2) : kw.get("separators");
    Object sort = args.size() > 3 ? args.get(3) : kw.getOrDefault("sort_keys", false);
    String indent = ind == null ? null : ind instanceof String s ? s : spaces(r, Py.index(ind));
    String itemSep = indent == null ? ", " : ",";
    String keySep = ": ";
    if (seps != null) {
      if (!(seps instanceof List<?> l) || l.size() != 2) {
        throw TemplateException.runtime("tojson separators must be a pair of strings");
      }
      itemSep = Py.str(l.get(0));
      keySep = Py.str(l.get(1));
    }
    Json json = new Json(r, Py.truthy(ascii), indent, itemSep, keySep, Py.truthy(sort));
    json.write(value, 0);
    return json.out.toString();
  }

  /** json.dumps' {@code ' ' * indent}: a negative indent is no indent (newlines only). */
  private static String spaces(Render r, long n) {
    r.checkSize(n);
    return " ".repeat((int) Math.max(0, n));
  }

  private void write(Object v, int level) {
    render.step();
    render.checkSize(out.length());
    if (v == null) {
      out.append("null");
    } else if (v instanceof Boolean b) {
      out.append(b ? "true" : "false");
    } else if (v instanceof Long l) {
      out.append(l);
    } else if (v instanceof Double d) {
      out.append(
          Double.isNaN(d)
              ? "NaN"
              : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : Py.floatRepr(d));
    } else if (v instanceof String s) {
      string(s);
    } else if (v instanceof Py.Markup m) {
      string(m.text());
    } else if (v instanceof List<?> l && !(v instanceof Py.View)) {
      if (l.isEmpty()) {
        out.append("[]");
        return;
      }
      out.append('[');
      for (int i = 0; i < l.size(); i++) {
        out.append(i > 0 ? itemSep : "");
        newline(level + 1);
        write(l.get(i), level + 1);
      }
      newline(level);
      out.append(']');
    } else if (v instanceof Map<?, ?> m) {
      if (m.isEmpty()) {
        out.append("{}");
        return;
      }
      List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
      if (sortKeys) {
        entries.sort((a, b) -> Py.compare(a.getKey(), b.getKey()));
      }
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : entries) {
        out.append(first ? "" : itemSep);
        first = false;
        newline(level + 1);
        string(key(e.getKey()));
        out.append(keySep);
        write(e.getValue(), level + 1);
      }
      newline(level);
      out.append('}');
    } else {
      throw TemplateException.runtime(
          "Object of type " + Py.typeName(v) + " is not JSON serializable");
    }
  }

  private static String key(Object k) {
    if (k instanceof String s) {
      return s;
    } else if (k == null) {
      return "null";
    } else if (k instanceof Boolean b) {
      return b ? "true" : "false";
    } else if (k instanceof Long || k instanceof Double) {
      return Py.repr(k);
    }
    throw TemplateException.runtime(
        "keys must be str, int, float, bool or None, not " + Py.typeName(k));
  }

  private void newline(int level) {
    if (indent != null) {
      render.checkSize(out.length() + 1L + (long) indent.length() * level);
      out.append('\n').append(indent.repeat(level));
    }
  }

  private void string(String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20 || (ensureAscii && c > 0x7e)) {
            out.append(
                String.format(
                    "\\u%04x", (int) c)); // UTF-16 units: surrogate pairs as Python writes them
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}

package dev.refusaltokens.eval.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed reads of dotted keys from a YAML tree, remembering which keys were read so that a misspelt
 * key is an error instead of a silently ignored setting.
 */
final class ConfigReader {

  private final ObjectNode root;
  private final String prefix;
  private final boolean strict;
  private final Set<String> read = new HashSet<>();

  /** A reader of a config the user wrote: a key no read asks for is an error. */
  ConfigReader(ObjectNode root) {
    this(root, "", true);
  }

  private ConfigReader(ObjectNode root, String prefix, boolean strict) {
    this.root = root;
    this.prefix = prefix;
    this.strict = strict;
  }

  /**
   * A reader of a config recorded in {@code runs.config}: another version of the job may have
   * written keys this one does not know, which say nothing about the keys it does know.
   */
  static ConfigReader recorded(ObjectNode root) {
    return new ConfigReader(root, "", false);
  }

  /**
   * A reader of one mapping inside this config (a list item), its keys named {@code prefix + key}.
   */
  ConfigReader item(ObjectNode node, String prefix) {
    return new ConfigReader(node, prefix, strict);
  }

  /** The node of a key as written (marked read); its parts are validated by the caller. */
  JsonNode raw(String key) {
    return consume(key);
  }

  boolean has(String key) {
    JsonNode node = node(key);
    return node != null && !node.isNull();
  }

  String string(String key, String dflt) {
    JsonNode n = consume(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isValueNode()) {
      throw bad(key, n, "is not a single value", "give a string");
    }
    return n.asText();
  }

  int integer(String key, int dflt) {
    JsonNode n = consume(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.canConvertToInt() || !n.isIntegralNumber()) {
      throw bad(key, n, "is not an integer", "give a whole number, e.g. " + dflt);
    }
    return n.intValue();
  }

  long longValue(String key, long dflt) {
    JsonNode n = consume(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isIntegralNumber() || !n.canConvertToLong()) {
      throw bad(key, n, "is not an integer", "give a whole number, e.g. " + dflt);
    }
    return n.longValue();
  }

  double number(String key, double dflt) {
    JsonNode n = consume(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isNumber()) {
      throw bad(key, n, "is not a number", "give a number, e.g. " + dflt);
    }
    return n.doubleValue();
  }

  boolean bool(String key) {
    JsonNode n = consume(key);
    if (n == null || !n.isBoolean()) {
      throw bad(
          key, n, "is not true or false", "write should_refuse: true or should_refuse: false");
    }
    return n.booleanValue();
  }

  /** A boolean, or null when the key is absent or null. */
  Boolean optionalBool(String key) {
    JsonNode n = consume(key);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isBoolean()) {
      throw bad(key, n, "is not true or false", "write true or false");
    }
    return n.booleanValue();
  }

  /** Whether the key is present with the value null (as opposed to absent). */
  boolean explicitNull(String key) {
    JsonNode n = node(key);
    return n != null && n.isNull();
  }

  /** A mapping of strings to booleans, e.g. label values to should_refuse. */
  Map<String, Boolean> boolMap(String key) {
    JsonNode n = consume(key);
    Map<String, Boolean> out = new LinkedHashMap<>();
    if (n == null || n.isNull()) {
      return out;
    }
    if (!n.isObject()) {
      throw bad(
          key,
          n,
          "is not a mapping",
          "write value: true|false pairs, e.g. {unsafe: true, safe: false}");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isBoolean()) {
        throw bad(
            key + "." + e.getKey(),
            e.getValue(),
            "is not true or false",
            "map each label value to true (should refuse) or false (should answer)");
      }
      out.put(e.getKey(), e.getValue().booleanValue());
    }
    return out;
  }

  List<String> stringList(String key, List<String> dflt) {
    JsonNode n = consume(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isArray()) {
      throw bad(key, n, "is not a list", "write a list such as [a, b]");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode item : n) {
      if (!item.isValueNode() || item.isNull()) {
        throw bad(key, n, "has an item that is not a string", "write a list of strings");
      }
      out.add(item.asText());
    }
    return out;
  }

  List<Double> doubleList(String key, List<Double> dflt) {
    JsonNode n = consume(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isArray()) {
      throw bad(key, n, "is not a list", "write a list of numbers such as " + dflt);
    }
    List<Double> out = new ArrayList<>();
    for (JsonNode item : n) {
      if (!item.isNumber()) {
        throw bad(
            key, n, "has an item that is not a number", "write a list of numbers such as " + dflt);
      }
      out.add(item.doubleValue());
    }
    return out;
  }

  /**
   * A list of mappings; {@code shape} names their keys for the error message, e.g. "{name, path}".
   */
  List<JsonNode> objectList(String key, String shape) {
    JsonNode n = consume(key);
    if (!n.isArray()) {
      throw bad(key, n, "is not a list", "write a list of " + shape + " entries");
    }
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode item : n) {
      if (!item.isObject()) {
        throw bad(
            key, n, "has an item that is not a mapping", "write a list of " + shape + " entries");
      }
      out.add(item);
    }
    return out;
  }

  Map<String, Double> numberMap(String key) {
    JsonNode n = consume(key);
    Map<String, Double> out = new LinkedHashMap<>();
    if (n == null || n.isNull()) {
      return out;
    }
    if (!n.isObject()) {
      throw bad(key, n, "is not a mapping", "write name: number pairs");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isNumber()) {
        throw bad(
            key + "." + e.getKey(), e.getValue(), "is not a number", "give a number such as 0.8");
      }
      out.put(e.getKey(), e.getValue().doubleValue());
    }
    return out;
  }

  Map<String, String> stringMap(String key) {
    JsonNode n = consume(key);
    Map<String, String> out = new LinkedHashMap<>();
    if (n == null || n.isNull()) {
      return out;
    }
    if (!n.isObject()) {
      throw bad(key, n, "is not a mapping", "write key: value pairs");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isValueNode()) {
        throw bad(key + "." + e.getKey(), e.getValue(), "is not a single value", "give a string");
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  /**
   * Fails on the first key present in the tree that no read asked for (not for a recorded config).
   */
  void rejectUnknownKeys() {
    rejectUnknownKeys("");
  }

  /**
   * As {@link #rejectUnknownKeys()}; {@code where} follows the key in the message, e.g. {@code "
   * (benchmark 'a')"}. The message names the closest key asked for when one is near.
   */
  void rejectUnknownKeys(String where) {
    if (!strict) {
      return;
    }
    Set<String> unknown = new TreeSet<>();
    collectLeaves(root, "", unknown);
    unknown.removeIf(k -> read.stream().anyMatch(r -> k.equals(r) || k.startsWith(r + ".")));
    if (!unknown.isEmpty()) {
      String key = unknown.iterator().next();
      String closest = closest(key);
      throw new ConfigException(
          "Unknown config key '"
              + prefix
              + key
              + "'"
              + where
              + (closest == null
                  ? "; check its spelling against "
                  : "; did you mean '"
                      + prefix
                      + closest
                      + "'? Otherwise check its spelling against ")
              + "docs/configuration.md (every key, with its default)");
    }
  }

  /** The key asked for that is nearest to a misspelt one (at most 2 edits, or a quarter). */
  private String closest(String unknown) {
    String best = null;
    int bestDistance = Math.max(2, unknown.length() / 4) + 1;
    for (String known : new TreeSet<>(read)) {
      int d = editDistance(unknown, known);
      if (d < bestDistance) {
        best = known;
        bestDistance = d;
      }
    }
    return best;
  }

  /** Levenshtein distance: the fewest single-character insertions, deletions and substitutions. */
  static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(substitution, Math.min(prev[j], cur[j - 1]) + 1);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  private JsonNode consume(String key) {
    read.add(key);
    return node(key);
  }

  private JsonNode node(String key) {
    JsonNode n = root;
    for (String part : key.split("\\.")) {
      if (n == null || !n.isObject()) {
        return null;
      }
      n = n.get(part);
    }
    return n;
  }

  private static void collectLeaves(JsonNode node, String path, Set<String> out) {
    if (node.isObject() && node.size() > 0) {
      node.fields()
          .forEachRemaining(
              e ->
                  collectLeaves(
                      e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey(), out));
    } else if (!path.isEmpty()) {
      out.add(path);
    }
  }

  private ConfigException bad(String key, JsonNode value, String problem, String fix) {
    return ConfigException.badValue(
        prefix + key, value == null ? "(missing)" : value, problem, fix);
  }
}

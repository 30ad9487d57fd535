package dev.refusaltokens.eval.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * Writes values under dotted keys into a YAML tree, the mirror of {@link ConfigReader}: each config
 * record writes its own keys with the constants it reads them with. Sections appear in the order
 * they are first written, so the order of the {@code write} calls is the order of the recorded
 * YAML.
 */
final class ConfigWriter {

  private static final ObjectMapper TREES = new ObjectMapper();

  private final ObjectNode root;

  ConfigWriter(ObjectNode root) {
    this.root = root;
  }

  /**
   * A string, number, boolean, list or null, as Jackson writes it; a mapping is written sorted by
   * key, so the recorded text does not depend on how the record's map iterates.
   */
  void put(String key, Object value) {
    set(root, key, TREES.valueToTree(value instanceof Map<?, ?> m ? new TreeMap<>(m) : value));
  }

  /** A list of mappings, each written by {@code write} (null: the value null). */
  <T> void list(String key, List<T> items, BiConsumer<T, ConfigWriter> write) {
    if (items == null) {
      put(key, null);
      return;
    }
    ArrayNode array = root.arrayNode();
    for (T item : items) {
      write.accept(item, new ConfigWriter(array.addObject()));
    }
    set(root, key, array);
  }

  /** Sets a dotted key, creating (or replacing non-mapping) sections on the way. */
  static void set(ObjectNode root, String dottedKey, JsonNode value) {
    String[] parts = dottedKey.split("\\.");
    ObjectNode node = root;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonNode child = node.get(parts[i]);
      if (child == null || !child.isObject()) {
        child = node.putObject(parts[i]);
      }
      node = (ObjectNode) child;
    }
    node.set(parts[parts.length - 1], value);
  }
}

package dev.refusaltokens.eval.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * Builds the one {@link EvalConfig} of a run. Precedence, in this one place: a {@code --set
 * key=value} (or a dedicated option such as {@code --output}) on the command line, then the YAML
 * config file, then the {@code DEFAULT_*} constants. Unknown keys and badly typed values stop the
 * job here, before Spark. Each config record reads and writes its own keys; this class only puts
 * the sources together.
 */
public final class ConfigLoader {

  private static final YAMLMapper YAML = new YAMLMapper();

  private ConfigLoader() {}

  /**
   * @param file a YAML config file, or null for defaults only
   * @param overrides dotted keys to values (YAML syntax: {@code [1.0, 0.5]} is a list), applied
   *     last
   * @param clock the run's start: the default run id and {@code model.chat_template_time}
   */
  public static EvalConfig load(Path file, Map<String, String> overrides, Clock clock) {
    ObjectNode root = file == null ? JsonNodeFactory.instance.objectNode() : YamlFiles.read(file);
    overrides.forEach((key, value) -> ConfigWriter.set(root, key, parseValue(key, value)));
    EvalConfig config = EvalConfig.read(new ConfigReader(root), clock);
    return config.withSource(toYaml(config));
  }

  /** A {@code --set} value as YAML (a list, a number, a quoted string...). */
  static JsonNode parseValue(String key, String value) {
    try {
      JsonNode node = YAML.readTree(value);
      return node == null ? JsonNodeFactory.instance.nullNode() : node;
    } catch (JsonProcessingException e) {
      throw ConfigException.badValue(
          key, value, "is not a valid YAML value", "quote strings and write lists as [a, b]");
    }
  }

  /**
   * The effective configuration, every key spelled out, as YAML: what {@code runs.config} records.
   */
  public static String toYaml(EvalConfig c) {
    ObjectNode root = JsonNodeFactory.instance.objectNode();
    c.write(new ConfigWriter(root));
    try {
      return YAML.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}

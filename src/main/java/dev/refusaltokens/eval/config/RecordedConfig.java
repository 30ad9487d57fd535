package dev.refusaltokens.eval.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A configuration as recorded in {@code runs.config} ({@link ConfigLoader#toYaml}), read back typed
 * for resume and regress. Each part is read by its record, with the keys, defaults and checks of a
 * config file, except that keys this version does not know are ignored (another version of the job
 * wrote them) and nothing defaults to the run's start: {@code run_id} and {@code
 * model.chat_template_time} are written out, or absent (null) when recorded before the key existed.
 * The parts are read one by one, so an old record whose other parts no longer pass today's checks
 * still gives the part asked for.
 */
public final class RecordedConfig {

  private static final YAMLMapper YAML = new YAMLMapper();

  private final String yaml;
  private final ObjectNode root;

  private RecordedConfig(String yaml, ObjectNode root) {
    this.yaml = yaml;
    this.root = root;
  }

  /**
   * @throws UncheckedIOException when the text is not YAML (a damaged runs table, not a user's
   *     config)
   * @throws ConfigException when it is YAML but not a mapping of keys to values
   */
  public static RecordedConfig of(String yaml) {
    JsonNode node;
    try {
      node = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
    if (node == null || node.isMissingNode() || node.isNull()) {
      return new RecordedConfig(yaml, JsonNodeFactory.instance.objectNode());
    }
    if (!node.isObject()) {
      throw new ConfigException("Recorded config is not a YAML mapping of keys to values: " + node);
    }
    return new RecordedConfig(yaml, (ObjectNode) node);
  }

  /** The whole configuration; its {@code source} is the recorded text. */
  public EvalConfig config() {
    return EvalConfig.read(reader(), null).withSource(yaml);
  }

  public ModelConfig model() {
    return ModelConfig.read(reader(), null);
  }

  public List<BenchmarkSpec> benchmarks() {
    return BenchmarkSpec.readAll(reader());
  }

  public ScoringConfig scoring() {
    return ScoringConfig.read(reader());
  }

  public ResponsesConfig responses() {
    return ResponsesConfig.read(reader());
  }

  public List<JudgeConfig> judges() {
    return JudgeConfig.readAll(reader());
  }

  private ConfigReader reader() {
    return ConfigReader.recorded(root);
  }

  /**
   * Every leaf of a recorded config as dotted key → its value as JSON (a list is one leaf), for
   * listing what differs between two runs whatever version wrote them; an unreadable text is the
   * one key {@code (config)}.
   */
  public static Map<String, String> flatKeys(String yaml) {
    Map<String, String> out = new LinkedHashMap<>();
    try {
      flatten("", YAML.readTree(yaml), out);
    } catch (IOException e) {
      out.put("(config)", "unreadable: " + e.getMessage());
    }
    return out;
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
    if (node != null && node.isObject()) {
      node.fields()
          .forEachRemaining(
              e ->
                  flatten(
                      prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(),
                      e.getValue(),
                      out));
    } else {
      out.put(prefix, node == null ? "null" : node.toString());
    }
  }
}

package dev.refusaltokens.eval.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;
import java.util.stream.Stream;

/** The YAML files a configuration is made of: the config file, and the benchmark files it lists. */
final class YamlFiles {

  private static final YAMLMapper YAML = new YAMLMapper();

  private YamlFiles() {}

  /** A YAML file holding a mapping (an empty file is an empty mapping). */
  static ObjectNode read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new ConfigException(
          "Config file '"
              + file
              + "' does not exist; pass --config with an "
              + "existing YAML file, e.g. conf/evaluate.yaml");
    }
    try {
      JsonNode node = YAML.readTree(file.toFile());
      if (node == null || node.isMissingNode() || node.isNull()) {
        return JsonNodeFactory.instance.objectNode();
      }
      if (!node.isObject()) {
        throw new ConfigException(
            "Config file '" + file + "' is not a YAML mapping of keys to values");
      }
      return (ObjectNode) node;
    } catch (IOException e) {
      throw new ConfigException(
          "Config file '" + file + "' is not valid YAML: " + e.getMessage(), e);
    }
  }

  /**
   * A path, or a glob in its last part ({@code conf/benchmarks/*.yaml}), as sorted existing files.
   */
  static List<Path> expand(String pattern, String key) {
    Path p = Path.of(pattern);
    String last = p.getFileName() == null ? "" : p.getFileName().toString();
    if (!last.contains("*") && !last.contains("?") && !last.contains("[")) {
      if (!Files.isRegularFile(p)) {
        throw ConfigException.badValue(
            key, pattern, "is not a file", "give the path of a benchmark YAML file");
      }
      return List.of(p);
    }
    Path dir = p.getParent() == null ? Path.of(".") : p.getParent();
    PathMatcher matcher = dir.getFileSystem().getPathMatcher("glob:" + last);
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> out =
          files
              .filter(f -> Files.isRegularFile(f) && matcher.matches(f.getFileName()))
              .sorted()
              .toList();
      if (out.isEmpty()) {
        throw ConfigException.badValue(
            key, pattern, "matches no file", "check the folder and the pattern");
      }
      return out;
    } catch (IOException e) {
      throw ConfigException.badValue(
          key,
          pattern,
          "cannot be listed (" + e.getMessage() + ")",
          "check the folder exists and is readable");
    }
  }
}

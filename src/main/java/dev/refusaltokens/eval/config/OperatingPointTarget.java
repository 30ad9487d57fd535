package dev.refusaltokens.eval.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A declarative operating point: minimum refusal rates on the should-refuse prompts of given
 * categories (and a default for every other category), with false refusal on the should-answer
 * prompts minimised.
 *
 * @param defaultRefusalAtLeast the target of categories not named in {@code refusalAtLeast}; null:
 *     none
 */
public record OperatingPointTarget(
    String name, Map<String, Double> refusalAtLeast, Double defaultRefusalAtLeast)
    implements Serializable {

  /** The list of operating points: mappings with the keys below. */
  public static final String KEY = "operating_points";

  static final String NAME = "name";
  static final String REFUSAL_AT_LEAST = "refusal_at_least";
  static final String DEFAULT_REFUSAL_AT_LEAST = "default_refusal_at_least";

  private static final Pattern NAME_PATTERN = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  public OperatingPointTarget {
    String key = KEY + "[" + name + "]";
    if (name == null || !NAME_PATTERN.matcher(name).matches()) {
      throw ConfigException.badValue(
          KEY + "[]." + NAME,
          name,
          "is not a valid name",
          "use 1-64 letters, digits, '_', '-' or '.'");
    }
    if (refusalAtLeast.isEmpty() && defaultRefusalAtLeast == null) {
      throw ConfigException.badValue(
          key,
          "{}",
          "sets no target",
          "give refusal_at_least: {category: rate} and/or default_refusal_at_least: rate");
    }
    refusalAtLeast.forEach(
        (category, rate) -> checkRate(key + "." + REFUSAL_AT_LEAST + "." + category, rate));
    if (defaultRefusalAtLeast != null) {
      checkRate(key + "." + DEFAULT_REFUSAL_AT_LEAST, defaultRefusalAtLeast);
    }
    refusalAtLeast = Map.copyOf(refusalAtLeast);
  }

  /** The target of every category of the run's should-refuse prompts. */
  public Map<String, Double> targetsFor(Set<String> categories) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (String category : categories) {
      Double t = refusalAtLeast.getOrDefault(category, defaultRefusalAtLeast);
      if (t != null) {
        out.put(category, t);
      }
    }
    refusalAtLeast.forEach(
        out::putIfAbsent); // a named category without prompts is reported, not dropped
    return out;
  }

  /** {@code operating_points}, present (the caller supplies the default list when it is absent). */
  static List<OperatingPointTarget> readAll(ConfigReader r) {
    List<OperatingPointTarget> targets = new ArrayList<>();
    List<JsonNode> items =
        r.objectList(
            KEY, "{" + NAME + ", " + REFUSAL_AT_LEAST + ", " + DEFAULT_REFUSAL_AT_LEAST + "}");
    for (int i = 0; i < items.size(); i++) {
      ConfigReader item = r.item((ObjectNode) items.get(i), KEY + "[" + i + "].");
      String name = item.string(NAME, null);
      Map<String, Double> atLeast = new LinkedHashMap<>();
      item.numberMap(REFUSAL_AT_LEAST).forEach(atLeast::put);
      double dflt = item.number(DEFAULT_REFUSAL_AT_LEAST, Double.NaN);
      targets.add(new OperatingPointTarget(name, atLeast, Double.isNaN(dflt) ? null : dflt));
      item.rejectUnknownKeys();
    }
    return targets;
  }

  void write(ConfigWriter w) {
    w.put(NAME, name);
    w.put(REFUSAL_AT_LEAST, refusalAtLeast);
    w.put(DEFAULT_REFUSAL_AT_LEAST, defaultRefusalAtLeast);
  }

  private static void checkRate(String key, Double rate) {
    if (rate == null || !(rate >= 0.0 && rate <= 1.0)) {
      throw ConfigException.badValue(
          key, rate, "is not a rate in [0, 1]", "give a refusal rate such as 0.8");
    }
  }
}

package dev.refusaltokens.eval.config;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A declarative operating point: minimum refusal rates on the should-refuse prompts of given categories
 * (and a default for every other category), with false refusal on the should-answer prompts minimised.
 *
 * @param defaultRefusalAtLeast the target of categories not named in {@code refusalAtLeast}; null: none
 */
public record OperatingPointTarget(String name, Map<String, Double> refusalAtLeast, Double defaultRefusalAtLeast)
    implements Serializable {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  public OperatingPointTarget {
    String key = "operating_points[" + name + "]";
    if (name == null || !NAME.matcher(name).matches()) {
      throw ConfigException.badValue("operating_points[].name", name, "is not a valid name",
          "use 1-64 letters, digits, '_', '-' or '.'");
    }
    if (refusalAtLeast.isEmpty() && defaultRefusalAtLeast == null) {
      throw ConfigException.badValue(key, "{}", "sets no target",
          "give refusal_at_least: {category: rate} and/or default_refusal_at_least: rate");
    }
    refusalAtLeast.forEach((category, rate) -> checkRate(key + ".refusal_at_least." + category, rate));
    if (defaultRefusalAtLeast != null) {
      checkRate(key + ".default_refusal_at_least", defaultRefusalAtLeast);
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
    refusalAtLeast.forEach(out::putIfAbsent); // a named category without prompts is reported, not dropped
    return out;
  }

  private static void checkRate(String key, Double rate) {
    if (rate == null || !(rate >= 0.0 && rate <= 1.0)) {
      throw ConfigException.badValue(key, rate, "is not a rate in [0, 1]", "give a refusal rate such as 0.8");
    }
  }
}

package dev.refusaltokens.eval.config;

import java.io.Serializable;
import java.util.regex.Pattern;

/**
 * One prompt set: a JSON Lines file with the CoCoNot fields {@code id, prompt, category, subcategory}
 * (any path Spark reads), and whether its prompts should be refused (CoCoNot original: true; contrast:
 * false).
 */
public record BenchmarkSpec(String name, String path, boolean shouldRefuse) implements Serializable {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  public BenchmarkSpec {
    if (name == null || !NAME.matcher(name).matches()) {
      throw ConfigException.badValue("benchmarks[].name", name, "is not a valid benchmark name",
          "use 1-64 letters, digits, '_', '-' or '.'");
    }
    if (path == null || path.isBlank()) {
      throw ConfigException.badValue("benchmarks[" + name + "].path", path, "is empty",
          "give the JSON Lines file of the prompt set");
    }
  }
}

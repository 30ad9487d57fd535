package dev.refusaltokens.eval.config;

import java.io.Serializable;
import java.util.List;

/**
 * Which model to evaluate. {@code respondToken} and {@code refusalTokens} are null when the config
 * leaves them to the model folder's {@code refusal_tokens.json}; {@code systemPrompt} is null for no
 * system message.
 */
public record ModelConfig(String dir, String respondToken, List<String> refusalTokens, String systemPrompt)
    implements Serializable {

  public static final String DEFAULT_DIR = "models/demo-categories";

  public ModelConfig {
    if (dir == null || dir.isBlank()) {
      throw ConfigException.badValue("model.dir", dir, "is empty", "give a model folder, e.g. " + DEFAULT_DIR);
    }
    if (refusalTokens != null) {
      if (refusalTokens.isEmpty()) {
        throw ConfigException.badValue("model.refusal_tokens", refusalTokens, "is empty",
            "list at least one refusal token, e.g. [\"[refuse]\"], or remove the key to use the model's");
      }
      if (refusalTokens.stream().distinct().count() != refusalTokens.size()) {
        throw ConfigException.badValue("model.refusal_tokens", refusalTokens, "has duplicates",
            "list each refusal token once");
      }
      if (respondToken != null && refusalTokens.contains(respondToken)) {
        throw ConfigException.badValue("model.refusal_tokens", refusalTokens,
            "contains the respond token " + respondToken, "remove it from the refusal tokens");
      }
      refusalTokens = List.copyOf(refusalTokens);
    }
  }
}

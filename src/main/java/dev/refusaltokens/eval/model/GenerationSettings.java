package dev.refusaltokens.eval.model;

import dev.refusaltokens.eval.config.ConfigException;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * How {@link GreedyGenerator} continues a prefix: at most {@code maxNewTokens} new tokens, ending
 * at any of {@code eosIds} or once a stop string appears in the text.
 *
 * @param maxNewTokens at least 1 ({@value #MAX_NEW_TOKENS_KEY})
 * @param eosIds end-of-sequence ids, usually {@link ModelSpec#eosIds()}
 * @param stopStrings texts that end a continuation ({@value #STOP_STRINGS_KEY}); none empty. With
 *     no eos id, at least one is needed, or every continuation would run to the length limit
 * @param useCache decode with the model folder's KV-cache module when it has one; else, or when
 *     false, every step re-runs the model on the whole prefix (same tokens, more work)
 */
public record GenerationSettings(
    int maxNewTokens, long[] eosIds, List<String> stopStrings, boolean useCache)
    implements Serializable {

  public static final String MAX_NEW_TOKENS_KEY = "responses.max_new_tokens";
  public static final String STOP_STRINGS_KEY = "responses.stop_strings";

  /** As the paper's evaluation code. */
  public static final int DEFAULT_MAX_NEW_TOKENS = 128;

  public GenerationSettings {
    eosIds = eosIds.clone();
    stopStrings = List.copyOf(stopStrings);
    if (maxNewTokens < 1) {
      throw ConfigException.badValue(
          MAX_NEW_TOKENS_KEY,
          maxNewTokens,
          "is not a positive number of tokens",
          "set it to 1 or more (default " + DEFAULT_MAX_NEW_TOKENS + ")");
    }
    for (String s : stopStrings) {
      if (Objects.requireNonNull(s, "stop string").isEmpty()) {
        throw ConfigException.badValue(
            STOP_STRINGS_KEY,
            stopStrings,
            "contains an empty string, which would stop every continuation at once",
            "remove it");
      }
    }
    if (eosIds.length == 0 && stopStrings.isEmpty()) {
      throw ConfigException.badValue(
          STOP_STRINGS_KEY,
          stopStrings,
          "is empty and the model folder has no end-of-sequence id (eos_token in "
              + ModelSpec.TOKENIZER_CONFIG_FILE
              + ", eos_token_id in "
              + ModelSpec.GENERATION_CONFIG_FILE
              + "), so no continuation could end before "
              + MAX_NEW_TOKENS_KEY,
          "list the model's end-of-turn text in "
              + STOP_STRINGS_KEY
              + " (e.g. [\"<|eot_id|>\"]), or set eos_token in the model's "
              + ModelSpec.TOKENIZER_CONFIG_FILE);
    }
  }

  /** The settings of a model folder: its own eos ids. */
  public static GenerationSettings of(
      ModelSpec spec, int maxNewTokens, List<String> stopStrings, boolean useCache) {
    return new GenerationSettings(maxNewTokens, spec.eosIds(), stopStrings, useCache);
  }

  @Override
  public long[] eosIds() {
    return eosIds.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GenerationSettings g
        && maxNewTokens == g.maxNewTokens
        && Arrays.equals(eosIds, g.eosIds)
        && stopStrings.equals(g.stopStrings)
        && useCache == g.useCache;
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxNewTokens, Arrays.hashCode(eosIds), stopStrings, useCache);
  }

  @Override
  public String toString() {
    return "GenerationSettings[maxNewTokens="
        + maxNewTokens
        + ", eosIds="
        + Arrays.toString(eosIds)
        + ", stopStrings="
        + stopStrings
        + ", useCache="
        + useCache
        + "]";
  }
}

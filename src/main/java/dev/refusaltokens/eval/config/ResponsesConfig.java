package dev.refusaltokens.eval.config;

import java.io.Serializable;
import java.util.List;

/**
 * How the respond stage runs: for every scored prompt (or a deterministic sample of them), one
 * greedy continuation after each distinct first token that a configured setting emits, judged by
 * the configured judges.
 *
 * @param enabled whether the stage runs; off, the run has token rates only
 * @param maxNewTokens tokens generated after the forced first token, at most (the official code's
 *     128); fewer when the model's window is full first
 * @param stopStrings generation stops once the response contains one of these (the response is cut
 *     before it), besides the model's end-of-sequence ids
 * @param maxFirstTokensPerPrompt the most continuations one prompt may need; a sweep whose rules
 *     can emit more distinct first tokens per prompt is refused before any work
 * @param sample the fraction of each benchmark's prompts that get responses, chosen by a hash of
 *     benchmark and prompt id (1: all)
 * @param kvCache {@code auto}: the model folder's decode module (KV cache) when it has one; {@code
 *     off}: re-run the whole prefix for every new token
 */
public record ResponsesConfig(
    boolean enabled,
    int maxNewTokens,
    List<String> stopStrings,
    int maxFirstTokensPerPrompt,
    double sample,
    String kvCache)
    implements Serializable {

  public static final String ENABLED = "responses.enabled";
  public static final String MAX_NEW_TOKENS = "responses.max_new_tokens";
  public static final String STOP_STRINGS = "responses.stop_strings";
  public static final String MAX_FIRST_TOKENS_PER_PROMPT = "responses.max_first_tokens_per_prompt";
  public static final String SAMPLE = "responses.sample";
  public static final String KV_CACHE = "responses.kv_cache";

  public static final boolean DEFAULT_ENABLED = true;
  public static final int DEFAULT_MAX_NEW_TOKENS = 128;
  public static final int MAX_MAX_NEW_TOKENS = 8192;
  public static final int DEFAULT_MAX_FIRST_TOKENS_PER_PROMPT = 8;
  public static final double DEFAULT_SAMPLE = 1.0;
  public static final String KV_CACHE_AUTO = "auto";
  public static final String KV_CACHE_OFF = "off";

  public ResponsesConfig {
    if (maxNewTokens < 1 || maxNewTokens > MAX_MAX_NEW_TOKENS) {
      throw ConfigException.badValue(
          MAX_NEW_TOKENS,
          maxNewTokens,
          maxNewTokens < 1 ? "is not positive" : "is too large",
          "give 1 to " + MAX_MAX_NEW_TOKENS + " (default " + DEFAULT_MAX_NEW_TOKENS + ")");
    }
    if (stopStrings == null) {
      stopStrings = List.of();
    }
    for (String s : stopStrings) {
      if (s == null || s.isEmpty()) {
        throw ConfigException.badValue(
            STOP_STRINGS, stopStrings, "contains an empty string", "list non-empty strings");
      }
    }
    stopStrings = List.copyOf(stopStrings);
    if (maxFirstTokensPerPrompt < 1) {
      throw ConfigException.badValue(
          MAX_FIRST_TOKENS_PER_PROMPT,
          maxFirstTokensPerPrompt,
          "is not positive",
          "give at least 3 (greedy, argmax and threshold rules emit at most 3 first tokens per "
              + "prompt; logit_bias up to the refusal tokens + 2)");
    }
    if (!(sample > 0.0 && sample <= 1.0)) {
      throw ConfigException.badValue(
          SAMPLE,
          sample,
          "is not a fraction in (0, 1]",
          "give 1 for every prompt, or e.g. 0.1 for a tenth of each benchmark");
    }
    if (!KV_CACHE_AUTO.equals(kvCache) && !KV_CACHE_OFF.equals(kvCache)) {
      throw ConfigException.badValue(
          KV_CACHE, kvCache, "is not a known setting", "use auto (the default) or off");
    }
  }

  /** The defaults. */
  public static ResponsesConfig defaults() {
    return new ResponsesConfig(
        DEFAULT_ENABLED,
        DEFAULT_MAX_NEW_TOKENS,
        List.of(),
        DEFAULT_MAX_FIRST_TOKENS_PER_PROMPT,
        DEFAULT_SAMPLE,
        KV_CACHE_AUTO);
  }

  /** Whether the decode module is used when the model folder has one. */
  public boolean useKvCache() {
    return KV_CACHE_AUTO.equals(kvCache);
  }

  static ResponsesConfig read(ConfigReader r) {
    Boolean enabled = r.optionalBool(ENABLED);
    return new ResponsesConfig(
        enabled == null ? DEFAULT_ENABLED : enabled,
        r.integer(MAX_NEW_TOKENS, DEFAULT_MAX_NEW_TOKENS),
        r.stringList(STOP_STRINGS, List.of()),
        r.integer(MAX_FIRST_TOKENS_PER_PROMPT, DEFAULT_MAX_FIRST_TOKENS_PER_PROMPT),
        r.number(SAMPLE, DEFAULT_SAMPLE),
        r.string(KV_CACHE, KV_CACHE_AUTO));
  }

  void write(ConfigWriter w) {
    w.put(ENABLED, enabled);
    w.put(MAX_NEW_TOKENS, maxNewTokens);
    w.put(STOP_STRINGS, stopStrings);
    w.put(MAX_FIRST_TOKENS_PER_PROMPT, maxFirstTokensPerPrompt);
    w.put(SAMPLE, sample);
    w.put(KV_CACHE, kvCache);
  }
}

package dev.refusaltokens.eval.config;

import java.io.Serializable;
import java.time.Clock;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * Which model to evaluate. {@code respondToken} and {@code refusalTokens} are null when the config
 * leaves them to the model folder's {@code refusal_tokens.json}; {@code systemPrompt} is null for
 * no system message. {@code chatTemplateTime} is the time a chat template's {@code strftime_now}
 * reads (ISO-8601 local date-time, e.g. {@code 2026-11-27T10:00:00}, or a date): the config loader
 * sets it to the run's start when the config leaves it out, so every executor renders the same
 * prompt text; null here means "now" where the model folder is opened.
 */
public record ModelConfig(
    String dir,
    String respondToken,
    List<String> refusalTokens,
    String systemPrompt,
    String chatTemplateTime)
    implements Serializable {

  public static final String DIR = "model.dir";
  public static final String RESPOND_TOKEN = "model.respond_token";
  public static final String REFUSAL_TOKENS = "model.refusal_tokens";
  public static final String SYSTEM_PROMPT = "model.system_prompt";
  public static final String CHAT_TEMPLATE_TIME = "model.chat_template_time";

  public static final String DEFAULT_DIR = "models/demo-categories";

  public ModelConfig(
      String dir, String respondToken, List<String> refusalTokens, String systemPrompt) {
    this(dir, respondToken, refusalTokens, systemPrompt, null);
  }

  /** {@code 2026-11-27T10:00:00}, {@code 2026-11-27T10:00} or {@code 2026-11-27} (midnight). */
  public static LocalDateTime parseTemplateTime(String value) {
    try {
      return value.length() == 10
          ? LocalDate.parse(value).atStartOfDay()
          : LocalDateTime.parse(value);
    } catch (DateTimeParseException e) {
      throw ConfigException.badValue(
          CHAT_TEMPLATE_TIME,
          value,
          "is not an ISO-8601 local date-time",
          "write it as 2026-11-27T10:00:00 or 2026-11-27, or remove the key for the run's start time");
    }
  }

  public ModelConfig {
    if (dir == null || dir.isBlank()) {
      throw ConfigException.badValue(
          DIR, dir, "is empty", "give a model folder, e.g. " + DEFAULT_DIR);
    }
    if (refusalTokens != null) {
      if (refusalTokens.isEmpty()) {
        throw ConfigException.badValue(
            REFUSAL_TOKENS,
            refusalTokens,
            "is empty",
            "list at least one refusal token, e.g. [\"[refuse]\"], or remove the key to use the model's");
      }
      if (refusalTokens.stream().distinct().count() != refusalTokens.size()) {
        throw ConfigException.badValue(
            REFUSAL_TOKENS, refusalTokens, "has duplicates", "list each refusal token once");
      }
      if (respondToken != null && refusalTokens.contains(respondToken)) {
        throw ConfigException.badValue(
            REFUSAL_TOKENS,
            refusalTokens,
            "contains the respond token " + respondToken,
            "remove it from the refusal tokens");
      }
      refusalTokens = List.copyOf(refusalTokens);
    }
    if (chatTemplateTime != null) {
      parseTemplateTime(chatTemplateTime);
    }
  }

  /**
   * @param clock the run's start: the default of {@code chat_template_time}, one time for the whole
   *     run; null for a recorded config, which has it written out (absent: recorded before the key
   *     existed)
   */
  static ModelConfig read(ConfigReader r, Clock clock) {
    return new ModelConfig(
        r.string(DIR, DEFAULT_DIR),
        r.string(RESPOND_TOKEN, null),
        r.stringList(REFUSAL_TOKENS, null),
        r.string(SYSTEM_PROMPT, null),
        r.string(
            CHAT_TEMPLATE_TIME,
            clock == null
                ? null
                : LocalDateTime.now(clock).truncatedTo(ChronoUnit.SECONDS).toString()));
  }

  void write(ConfigWriter w) {
    w.put(DIR, dir);
    w.put(RESPOND_TOKEN, respondToken);
    w.put(REFUSAL_TOKENS, refusalTokens);
    w.put(SYSTEM_PROMPT, systemPrompt);
    w.put(CHAT_TEMPLATE_TIME, chatTemplateTime);
  }
}

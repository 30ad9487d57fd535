package dev.refusaltokens.eval.pipeline;

import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.config.JudgeConfig;
import dev.refusaltokens.eval.config.ModelConfig;
import dev.refusaltokens.eval.config.RecordedConfig;
import dev.refusaltokens.eval.config.ResponsesConfig;
import dev.refusaltokens.eval.config.ScoringConfig;
import dev.refusaltokens.eval.model.ChatTemplate;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.io.UncheckedIOException;
import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a run may resume: the earlier attempt of a resumed run must have scored with the same
 * model, tokenizer, chat template (rendering alike), system prompt, control tokens and
 * temperatures; otherwise a configuration error says what differs.
 */
final class ResumeCheck {

  private static final Logger LOG = LoggerFactory.getLogger(ResumeCheck.class);

  private ResumeCheck() {}

  /**
   * The earlier attempt of a resumed run must have scored with the same model and settings.
   *
   * @return the earlier attempt's runs row, or null when there was none
   */
  static RunRow checkResumable(RunTables tables, EvalConfig config, ModelSpec spec, RunRow now) {
    Dataset<Row> previous = tables.readIfPresent(Table.RUNS);
    List<Row> rows = previous == null ? List.of() : previous.collectAsList();
    if (rows.isEmpty()) {
      LOG.info("Resume: run {} has no earlier attempt; scoring everything", config.runId());
      return null;
    }
    RunRow before = RunRow.fromRow(rows.get(0));
    Map<String, Object[]> fields = new LinkedHashMap<>();
    fields.put("model file (sha256)", new Object[] {before.modelSha256(), now.modelSha256()});
    fields.put(
        "tokenizer.json (sha256)", new Object[] {before.tokenizerSha256(), now.tokenizerSha256()});
    fields.put(
        "tokenizer_config.json (sha256)",
        new Object[] {before.tokenizerConfigSha256(), now.tokenizerConfigSha256()});
    fields.put("chat template", new Object[] {before.chatTemplate(), now.chatTemplate()});
    fields.put("system prompt", new Object[] {before.systemPrompt(), now.systemPrompt()});
    fields.put("respond token", new Object[] {before.respondToken(), now.respondToken()});
    fields.put("refusal tokens", new Object[] {before.refusalTokens(), now.refusalTokens()});
    fields.put(
        ScoringConfig.TEMPERATURES,
        new Object[] {temperatures(before.config()), temperatures(now.config())});
    fields.put(
        ScoringConfig.SPECIAL_TOKENS_IN_PROMPT,
        new Object[] {specialTokens(before.config()), specialTokens(now.config())});
    String respondedBefore = responses(before.config());
    if (respondedBefore != null) { // kept responses must be what this attempt would generate
      fields.put(
          "responses settings (max_new_tokens, stop_strings, kv cache aside) and judges",
          new Object[] {respondedBefore, responses(now.config())});
    }
    fields.forEach(
        (what, v) -> {
          if (!Objects.equals(v[0], v[1])) {
            throw new ConfigException(
                "Cannot resume run '"
                    + config.runId()
                    + "': its "
                    + what
                    + " was "
                    + v[0]
                    + " and is now "
                    + v[1]
                    + "; rerun without --resume, or use another --run-id");
          }
        });
    String beforeTime = chatTemplateTime(before.config());
    if (beforeTime != null && !renderedAlike(spec, beforeTime, spec.chatTemplateTime())) {
      throw new ConfigException(
          "Cannot resume run '"
              + config.runId()
              + "': its "
              + "chat template prints the date or time (strftime_now), and the prompts rendered at "
              + beforeTime
              + " (the earlier attempt) differ from those rendered at "
              + spec.chatTemplateTime()
              + "; resume with "
              + "--set "
              + ModelConfig.CHAT_TEMPLATE_TIME
              + "="
              + beforeTime);
    }
    return before;
  }

  /**
   * Whether the chat template renders the same text at both times (a template without strftime_now
   * does).
   */
  static boolean renderedAlike(ModelSpec spec, String before, LocalDateTime now) {
    String prompt = "Hello";
    return new ChatTemplate(
            spec.chatTemplate(), spec.specialTokens(), ModelConfig.parseTemplateTime(before))
        .render(spec.systemPrompt(), prompt)
        .equals(
            new ChatTemplate(spec.chatTemplate(), spec.specialTokens(), now)
                .render(spec.systemPrompt(), prompt));
  }

  /** The recorded chat template time; null when recorded before the key existed, or unreadable. */
  private static String chatTemplateTime(String yaml) {
    try {
      return RecordedConfig.of(yaml).model().chatTemplateTime();
    } catch (UncheckedIOException | ConfigException e) {
      return null;
    }
  }

  /**
   * The recorded {@code scoring.special_tokens_in_prompt}: a resume from {@code keep} to {@code
   * reject} would keep scores that the new setting rejects.
   */
  private static String specialTokens(String yaml) {
    try {
      return RecordedConfig.of(yaml).scoring().specialTokensInPrompt().id();
    } catch (UncheckedIOException | ConfigException e) {
      return "(unreadable config)";
    }
  }

  /**
   * What the kept responses of a resumed run depend on: {@code responses.max_new_tokens}, {@code
   * responses.stop_strings} and each judge's provenance; null when responses were off (nothing to
   * keep) or the config is unreadable.
   */
  private static String responses(String yaml) {
    try {
      RecordedConfig c = RecordedConfig.of(yaml);
      ResponsesConfig rc = c.responses();
      if (!rc.enabled()) {
        return null;
      }
      return "max_new_tokens="
          + rc.maxNewTokens()
          + " stop_strings="
          + rc.stopStrings()
          + " judges="
          + c.judges().stream().map(JudgeConfig::provenance).toList();
    } catch (UncheckedIOException | ConfigException e) {
      return null;
    }
  }

  /**
   * The recorded temperatures, written as a JSON list ([1.0,2.0]) as this message always showed
   * them.
   */
  private static String temperatures(String yaml) {
    try {
      return RecordedConfig.of(yaml).scoring().temperatures().stream()
          .map(String::valueOf)
          .collect(Collectors.joining(",", "[", "]"));
    } catch (UncheckedIOException | ConfigException e) {
      return "(unreadable config)";
    }
  }
}

package dev.refusaltokens.eval.job;

import dev.refusaltokens.eval.table.RunRow;
import ai.djl.engine.Engine;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.report.ReportWriter;
import java.util.Map;
import dev.refusaltokens.eval.score.ScoreStage;
import dev.refusaltokens.eval.sweep.SweepStage;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.TableWriter;
import dev.refusaltokens.eval.table.Tables;
import java.time.Clock;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The stages of one evaluation run and the {@code runs} row that records them. A run that fails is
 * recorded as {@code failed} with its error, and the exception is rethrown.
 */
public final class EvaluationJob {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EvaluationJob.class);

  /** What a run leaves: its {@code runs} row and the printable summary (null after score only). */
  public record Outcome(RunRow run, String summary) {}

  private EvaluationJob() {}

  /** score + sweep. */
  public static Outcome run(SparkSession spark, EvalConfig config, ModelSpec spec, Clock clock) {
    return run(spark, config, spec, clock, false);
  }

  /** score (resuming the run's earlier scores when {@code resume}) + sweep. */
  public static Outcome run(SparkSession spark, EvalConfig config, ModelSpec spec, Clock clock, boolean resume) {
    SweepStage.check(config, spec.refusalTokens().size());
    RunRow scored = score(spark, config, spec, clock, resume);
    return sweep(spark, config, scored, clock);
  }

  /** Scores the prompt sets: writes {@code scores}, {@code rejects} and a {@code scored} runs row. */
  public static RunRow score(SparkSession spark, EvalConfig config, ModelSpec spec, Clock clock) {
    return score(spark, config, spec, clock, false);
  }

  /**
   * Scores the prompt sets. With {@code resume}, the run's earlier scores are kept for the prompts whose
   * text is unchanged, provided the earlier attempt scored with the same model, tokenizer, chat template,
   * system prompt, control tokens and temperatures (otherwise a configuration error says what differs).
   */
  public static RunRow score(SparkSession spark, EvalConfig config, ModelSpec spec, Clock clock,
      boolean resume) {
    RunRow run = RunProvenance.start(config, spec, spark.version(), Engine.getDjlVersion(), clock.instant());
    if (resume) {
      checkResumable(spark, config, spec, run);
    }
    writeRun(spark, config, run);
    RunTables tables = new RunTables(spark, config.output(), config.runId());
    SweepStage.deleteTables(tables); // nothing derived from old scores
    ReportWriter.delete(tables);
    try {
      long t0 = System.nanoTime();
      ScoreStage.Result r = ScoreStage.run(spark, config, spec, resume);
      LOG.info("Score stage: {} rows in, {} prompts scored, {} rejected in {} s", r.rowsIn(), r.rowsScored(),
          r.rowsRejected(), seconds(t0));
      RunRow scored = run.scored(r.rowsIn(), r.rowsScored(), r.rowsRejected(), r.canaryPrompts(),
          r.canaryMaxAbsDiff(), r.paddingEfficiency(), r.byBenchmark());
      writeRun(spark, config, scored);
      return scored;
    } catch (RuntimeException e) {
      writeRun(spark, config, run.ended(RunRow.FAILED, clock.instant(), String.valueOf(e)));
      throw e;
    }
  }

  /** The earlier attempt of a resumed run must have scored with the same model and settings. */
  private static void checkResumable(SparkSession spark, EvalConfig config, ModelSpec spec, RunRow now) {
    Dataset<Row> previous = TableWriter.readRunIfPresent(spark, config.output(), Tables.RUNS, Tables.RUNS_SCHEMA,
        config.runId());
    List<Row> rows = previous == null ? List.of() : previous.collectAsList();
    if (rows.isEmpty()) {
      LOG.info("Resume: run {} has no earlier attempt; scoring everything", config.runId());
      return;
    }
    RunRow before = RunRow.fromRow(rows.get(0));
    Map<String, Object[]> fields = new java.util.LinkedHashMap<>();
    fields.put("model file (sha256)", new Object[] {before.modelSha256(), now.modelSha256()});
    fields.put("tokenizer.json (sha256)", new Object[] {before.tokenizerSha256(), now.tokenizerSha256()});
    fields.put("tokenizer_config.json (sha256)", new Object[] {before.tokenizerConfigSha256(),
        now.tokenizerConfigSha256()});
    fields.put("chat template", new Object[] {before.chatTemplate(), now.chatTemplate()});
    fields.put("system prompt", new Object[] {before.systemPrompt(), now.systemPrompt()});
    fields.put("respond token", new Object[] {before.respondToken(), now.respondToken()});
    fields.put("refusal tokens", new Object[] {before.refusalTokens(), now.refusalTokens()});
    fields.put("scoring.temperatures", new Object[] {temperatures(before.config()), temperatures(now.config())});
    fields.forEach((what, v) -> {
      if (!java.util.Objects.equals(v[0], v[1])) {
        throw new dev.refusaltokens.eval.config.ConfigException("Cannot resume run '" + config.runId() + "': its "
            + what + " was " + v[0] + " and is now " + v[1] + "; rerun without --resume, or use another --run-id");
      }
    });
    String beforeTime = modelKey(before.config(), "chat_template_time");
    if (beforeTime != null && !renderedAlike(spec, beforeTime, spec.chatTemplateTime())) {
      throw new dev.refusaltokens.eval.config.ConfigException("Cannot resume run '" + config.runId() + "': its "
          + "chat template prints the date or time (strftime_now), and the prompts rendered at " + beforeTime
          + " (the earlier attempt) differ from those rendered at " + spec.chatTemplateTime() + "; resume with "
          + "--set model.chat_template_time=" + beforeTime);
    }
  }

  /** Whether the chat template renders the same text at both times (a template without strftime_now does). */
  static boolean renderedAlike(ModelSpec spec, String before, java.time.LocalDateTime now) {
    String prompt = "Hello";
    return new dev.refusaltokens.eval.model.ChatTemplate(spec.chatTemplate(), spec.specialTokens(),
        dev.refusaltokens.eval.config.ModelConfig.parseTemplateTime(before)).render(spec.systemPrompt(), prompt)
        .equals(new dev.refusaltokens.eval.model.ChatTemplate(spec.chatTemplate(), spec.specialTokens(), now)
            .render(spec.systemPrompt(), prompt));
  }

  private static String modelKey(String yaml, String key) {
    try {
      com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper(
          new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(yaml).path("model").path(key);
      return n.isNull() || n.isMissingNode() ? null : n.asText();
    } catch (java.io.IOException e) {
      return null;
    }
  }

  private static String temperatures(String yaml) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
          .readTree(yaml).path("scoring").path("temperatures").toString();
    } catch (java.io.IOException e) {
      return "(unreadable config)";
    }
  }

  /**
   * Sweeps the scores of the run recorded in {@code run}: writes the sweep tables and the report, and
   * marks the run succeeded.
   */
  public static Outcome sweep(SparkSession spark, EvalConfig config, RunRow run, Clock clock) {
    SweepStage.check(config, run.refusalTokens().size());
    RunTables tables = new RunTables(spark, config.output(), config.runId());
    try {
      SweepStage.Result swept = SweepStage.run(tables, config, run);
      RunRow done = run.ended(RunRow.SUCCEEDED, clock.instant(), null);
      writeRun(spark, config, done);
      // the report reads the runs row, so it comes last; if it fails, the catch below marks the run failed
      String report = ReportWriter.write(tables, swept.temperature());
      LOG.info("Report: {}", report);
      return new Outcome(done, swept.summary() + "Report: " + report + "\n");
    } catch (RuntimeException e) {
      writeRun(spark, config, run.ended(RunRow.FAILED, clock.instant(), String.valueOf(e)));
      throw e;
    }
  }

  /**
   * The runs row of an earlier {@code score}; fails when there is none or it did not finish scoring. A
   * run whose sweep failed after scoring can be swept again.
   */
  public static RunRow scoredRun(SparkSession spark, EvalConfig config) {
    List<Row> rows = TableWriter.readRun(spark, config.output(), Tables.RUNS, Tables.RUNS_SCHEMA,
        config.runId()).collectAsList();
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("No run '" + config.runId() + "' in " + config.output()
          + "/runs: score it first (subcommand score or run)");
    }
    RunRow run = RunRow.fromRow(rows.get(0));
    if (run.rowsScored() == null) {
      throw new IllegalArgumentException("Run '" + config.runId() + "' has status '" + run.status()
          + "', not scored: score it again");
    }
    return run;
  }

  private static String seconds(long startNanos) {
    return String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - startNanos) / 1e9);
  }

  private static void writeRun(SparkSession spark, EvalConfig config, RunRow run) {
    TableWriter.writeRun(spark.createDataFrame(List.of(run.toRow()), Tables.RUNS_SCHEMA), config.output(),
        Tables.RUNS, config.runId());
  }
}

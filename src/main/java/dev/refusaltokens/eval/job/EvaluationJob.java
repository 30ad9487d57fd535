package dev.refusaltokens.eval.job;

import static org.apache.spark.sql.functions.col;

import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import ai.djl.engine.Engine;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.Frontier;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.report.ReportWriter;
import dev.refusaltokens.eval.sweep.CalibrationStage;
import dev.refusaltokens.eval.sweep.GridStage;
import dev.refusaltokens.eval.sweep.RocStage;
import java.util.Map;
import dev.refusaltokens.eval.score.ScoreStage;
import dev.refusaltokens.eval.sweep.RateSummary;
import dev.refusaltokens.eval.sweep.SweepStage;
import dev.refusaltokens.eval.table.TableWriter;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.Tables;
import java.time.Clock;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
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
    config.sweep().checkFullGridRates(spec.refusalTokens().size());
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
    for (String derived : List.of(Tables.RATES, Tables.FRONTIER, Tables.OPERATING_POINTS, Tables.ROC,
        Tables.CALIBRATION, Tables.FIRST_TOKENS, ReportWriter.REPORTS)) { // nothing derived from old scores
      TableWriter.deleteRun(spark, config.output(), derived, config.runId());
    }
    try {
      long t0 = System.nanoTime();
      ScoreStage.Result r = ScoreStage.run(new RunTables(spark, config.output(), config.runId()), config, spec,
          resume);
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
    fields.put(dev.refusaltokens.eval.config.ScoringConfig.TEMPERATURES, new Object[] {temperatures(before.config()),
        temperatures(now.config())});
    fields.forEach((what, v) -> {
      if (!java.util.Objects.equals(v[0], v[1])) {
        throw new dev.refusaltokens.eval.config.ConfigException("Cannot resume run '" + config.runId() + "': its "
            + what + " was " + v[0] + " and is now " + v[1] + "; rerun without --resume, or use another --run-id");
      }
    });
    String beforeTime = chatTemplateTime(before.config());
    if (beforeTime != null && !renderedAlike(spec, beforeTime, spec.chatTemplateTime())) {
      throw new dev.refusaltokens.eval.config.ConfigException("Cannot resume run '" + config.runId() + "': its "
          + "chat template prints the date or time (strftime_now), and the prompts rendered at " + beforeTime
          + " (the earlier attempt) differ from those rendered at " + spec.chatTemplateTime() + "; resume with "
          + "--set " + dev.refusaltokens.eval.config.ModelConfig.CHAT_TEMPLATE_TIME + "=" + beforeTime);
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

  /** The recorded chat template time; null when recorded before the key existed, or unreadable. */
  private static String chatTemplateTime(String yaml) {
    try {
      return dev.refusaltokens.eval.config.RecordedConfig.of(yaml).model().chatTemplateTime();
    } catch (java.io.UncheckedIOException | dev.refusaltokens.eval.config.ConfigException e) {
      return null;
    }
  }

  /** The recorded temperatures, written as a JSON list ([1.0,2.0]) as this message always showed them. */
  private static String temperatures(String yaml) {
    try {
      return dev.refusaltokens.eval.config.RecordedConfig.of(yaml).scoring().temperatures().stream()
          .map(String::valueOf).collect(java.util.stream.Collectors.joining(",", "[", "]"));
    } catch (java.io.UncheckedIOException | dev.refusaltokens.eval.config.ConfigException e) {
      return "(unreadable config)";
    }
  }

  /**
   * Sweeps the scores of the run recorded in {@code run}: writes the sweep tables and the report, and
   * marks the run succeeded.
   */
  public static Outcome sweep(SparkSession spark, EvalConfig config, RunRow run, Clock clock) {
    config.sweep().checkFullGridRates(run.refusalTokens().size());
    try {
      long t0 = System.nanoTime();
      JavaSparkContext.fromSparkContext(spark.sparkContext()).setJobGroup("sweep",
          "Sweeping rules x thresholds over the scores of run " + config.runId(), false);
      writeSweepTables(spark, config, run);
      LOG.info("Sweep stage: tables of run {} written in {} s", config.runId(), seconds(t0));
      List<Row> summaryRows = TableWriter.readRun(spark, config.output(), Tables.RATES, Tables.RATES_SCHEMA,
              config.runId())
          .where(col(Columns.RULE).isin("greedy", "threshold"))
          .collectAsList();
      // the configured first temperature, or the lowest scored one when the scores were made with others
      double wanted = config.scoring().temperatures().get(0);
      double temperature = summaryRows.stream().anyMatch(r -> r.getDouble(r.fieldIndex(Columns.TEMPERATURE)) == wanted)
          ? wanted : summaryRows.stream().mapToDouble(r -> r.getDouble(r.fieldIndex(Columns.TEMPERATURE))).min()
              .orElse(wanted);
      String summary = RateSummary.format(summaryRows, run.refusalTokens().size(),
          config.sweep().summaryThresholds(), temperature)
          + RateSummary.formatOperatingPoints(TableWriter.readRun(spark, config.output(), Tables.OPERATING_POINTS,
              Tables.OPERATING_POINTS_SCHEMA, config.runId()).orderBy("name", Columns.TEMPERATURE).collectAsList());
      RunRow done = run.ended(RunRow.SUCCEEDED, clock.instant(), null);
      writeRun(spark, config, done);
      // the report reads the runs row, so it comes last; if it fails, the catch below marks the run failed
      String report = ReportWriter.write(spark, config.output(), config.runId(), temperature);
      LOG.info("Report: {}", report);
      summary += "Report: " + report + "\n";
      return new Outcome(done, summary);
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

  /** {@code rates}, {@code frontier}, {@code operating_points}, {@code roc}, {@code calibration}, {@code first_tokens}. */
  private static void writeSweepTables(SparkSession spark, EvalConfig config, RunRow run) {
    // read by every table below: kept in memory for the sweep
    Dataset<Row> scores = TableWriter.readRun(spark, config.output(), Tables.SCORES, Tables.SCORES_SCHEMA,
        config.runId()).drop(Columns.RUN_ID).persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    try {
      writeGridTables(spark, config, run, scores);
      TableWriter.writeRun(RocStage.roc(scores, run.respondToken(), run.refusalTokens(), config.runId()),
          config.output(), Tables.ROC, config.runId());
      List<List<Row>> calibration = CalibrationStage.tables(scores, run.respondToken(), run.refusalTokens(),
          config.runId());
      TableWriter.writeRun(spark.createDataFrame(calibration.get(0), Tables.CALIBRATION_SCHEMA), config.output(),
          Tables.CALIBRATION, config.runId());
      TableWriter.writeRun(spark.createDataFrame(calibration.get(1), Tables.FIRST_TOKENS_SCHEMA), config.output(),
          Tables.FIRST_TOKENS, config.runId());
    } finally {
      scores.unpersist();
    }
  }

  /**
   * {@code rates}, then {@code frontier} and {@code operating_points} over the full per-category grid
   * when the threshold rule is swept and the grid has at most {@code sweep.frontier_max_points} points,
   * and the full grid in {@code rates} when {@code sweep.full_grid_rates_max_points} asks for it.
   */
  private static void writeGridTables(SparkSession spark, EvalConfig config, RunRow run,
      Dataset<Row> scores) {
    SweepConfig sweep = config.sweep();
    List<Row> sweepRates = SweepStage.rates(scores, run.respondToken(), run.refusalTokens(), sweep, config.runId());
    // spread over several tasks: one local relation of ~10^5 rows would make one oversized task
    Dataset<Row> rates = spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext())
        .parallelize(sweepRates, Math.max(1, sweepRates.size() / 2_000)), Tables.RATES_SCHEMA);
    long points = Frontier.gridPoints(sweep.grid().values().size(), run.refusalTokens().size());
    boolean frontierWanted = sweep.rules().contains(Rule.THRESHOLD) && points >= 0
        && points <= sweep.frontierMaxPoints();
    List<Row> frontier = List.of();
    List<Row> operatingPoints = List.of();
    if (frontierWanted || sweep.fullGridRatesMaxPoints() > 0) {
      GridStage stage = new GridStage(run.refusalTokens(), sweep, config.runId());
      Map<Double, GridStage.Counts> counts = stage.counts(scores, run.respondToken());
      if (frontierWanted) {
        frontier = stage.frontier(scores, run.respondToken(), counts, points);
        operatingPoints = stage.operatingPoints(scores, run.respondToken(), counts, sweep.operatingPoints(), points);
      }
      if (sweep.fullGridRatesMaxPoints() > 0) {
        rates = rates.union(stage.fullGridRates(spark, counts));
      }
    }
    if (!frontierWanted) {
      LOG.warn("No frontier or operating points: the full grid has {} points (sweep.frontier_max_points = {}) "
          + "or the threshold rule is not swept", points < 0 ? "over 2^63" : points, sweep.frontierMaxPoints());
    }
    TableWriter.writeRun(rates, config.output(), Tables.RATES, config.runId());
    TableWriter.writeRun(spark.createDataFrame(frontier, Tables.FRONTIER_SCHEMA), config.output(),
        Tables.FRONTIER, config.runId());
    TableWriter.writeRun(spark.createDataFrame(operatingPoints, Tables.OPERATING_POINTS_SCHEMA),
        config.output(), Tables.OPERATING_POINTS, config.runId());
  }

  private static String seconds(long startNanos) {
    return String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - startNanos) / 1e9);
  }

  private static void writeRun(SparkSession spark, EvalConfig config, RunRow run) {
    TableWriter.writeRun(spark.createDataFrame(List.of(run.toRow()), Tables.RUNS_SCHEMA), config.output(),
        Tables.RUNS, config.runId());
  }
}

package dev.refusaltokens.eval.pipeline;

import ai.djl.engine.Engine;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.report.ReportWriter;
import dev.refusaltokens.eval.score.ScoreStage;
import dev.refusaltokens.eval.sweep.SweepStage;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One evaluation run, stage after stage, and the {@code runs} row that records it: start (the row
 * says {@code running}; a resumed run is first checked against its earlier attempt) → score ({@code
 * scored}) → sweep → end ({@code succeeded}) → report (which reads the runs row, so it comes after
 * the end). Each stage owns its tables; this class only orders the stages. Whatever fails after the
 * start takes the one failure path: the row records {@code failed} with the error, and the
 * exception is rethrown.
 */
public final class EvaluationJob {

  private static final Logger LOG = LoggerFactory.getLogger(EvaluationJob.class);

  /** What a run leaves: its {@code runs} row and the printable summary (null after score only). */
  public record Outcome(RunRow run, String summary) {}

  private EvaluationJob() {}

  /** score + sweep. */
  public static Outcome run(SparkSession spark, EvalConfig config, ModelSpec spec, Clock clock) {
    return run(spark, config, spec, clock, false);
  }

  /** score (resuming the run's earlier scores when {@code resume}) + sweep. */
  public static Outcome run(
      SparkSession spark, EvalConfig config, ModelSpec spec, Clock clock, boolean resume) {
    SweepStage.check(config, spec.refusalTokens().size());
    RunRow scored = score(spark, config, spec, clock, resume);
    return sweep(spark, config, scored, clock);
  }

  /**
   * Scores the prompt sets: writes {@code scores}, {@code rejects} and a {@code scored} runs row.
   */
  public static RunRow score(SparkSession spark, EvalConfig config, ModelSpec spec, Clock clock) {
    return score(spark, config, spec, clock, false);
  }

  /**
   * Scores the prompt sets. With {@code resume}, the run's earlier scores are kept for the prompts
   * whose text is unchanged, provided the earlier attempt scored with the same model, tokenizer,
   * chat template, system prompt, control tokens and temperatures (otherwise a configuration error
   * says what differs).
   */
  public static RunRow score(
      SparkSession spark, EvalConfig config, ModelSpec spec, Clock clock, boolean resume) {
    RunTables tables = tables(spark, config);
    RunRow run = start(tables, config, spec, clock, resume);
    return recordingFailure(
        tables, run, clock, () -> scoreStage(tables, config, spec, run, resume));
  }

  /**
   * Sweeps the scores of the run recorded in {@code run}: writes the sweep tables, marks the run
   * succeeded, and writes the report.
   */
  public static Outcome sweep(SparkSession spark, EvalConfig config, RunRow run, Clock clock) {
    SweepStage.check(config, run.refusalTokens().size());
    RunTables tables = tables(spark, config);
    return recordingFailure(
        tables,
        run,
        clock,
        () -> {
          SweepStage.Result swept = SweepStage.run(tables, config, run);
          RunRow done = run.ended(RunRow.SUCCEEDED, clock.instant(), null);
          writeRun(tables, done);
          String report = ReportWriter.write(tables, swept.temperature());
          LOG.info("Report: {}", report);
          return new Outcome(done, swept.summary() + "Report: " + report + "\n");
        });
  }

  /**
   * The runs row of an earlier {@code score}; fails when there is none or it did not finish
   * scoring. A run whose sweep failed after scoring can be swept again.
   */
  public static RunRow scoredRun(SparkSession spark, EvalConfig config) {
    List<RunRow> rows = tables(spark, config).collect(Table.RUNS, RunRow::fromRow);
    if (rows.isEmpty()) {
      throw new IllegalArgumentException(
          "No run '"
              + config.runId()
              + "' in "
              + config.output()
              + "/runs: score it first (subcommand score or run)");
    }
    RunRow run = rows.get(0);
    if (run.rowsScored() == null) {
      throw new IllegalArgumentException(
          "Run '"
              + config.runId()
              + "' has status '"
              + run.status()
              + "', not scored: score it again");
    }
    return run;
  }

  /**
   * The {@code running} row, written once a resumed run passed its check; the tables derived from
   * the run's earlier scores are removed, as the scores are about to change.
   */
  private static RunRow start(
      RunTables tables, EvalConfig config, ModelSpec spec, Clock clock, boolean resume) {
    RunRow run =
        RunProvenance.start(
            config, spec, tables.spark().version(), Engine.getDjlVersion(), clock.instant());
    if (resume) {
      ResumeCheck.checkResumable(tables, config, spec, run);
    }
    writeRun(tables, run);
    SweepStage.deleteTables(tables);
    ReportWriter.delete(tables);
    return run;
  }

  private static RunRow scoreStage(
      RunTables tables, EvalConfig config, ModelSpec spec, RunRow run, boolean resume) {
    long t0 = System.nanoTime();
    ScoreStage.Result r = ScoreStage.run(tables, config, spec, resume);
    LOG.info(
        "Score stage: {} rows in, {} prompts scored, {} rejected in {} s",
        r.rowsIn(),
        r.rowsScored(),
        r.rowsRejected(),
        seconds(t0));
    RunRow scored =
        run.scored(
            r.rowsIn(),
            r.rowsScored(),
            r.rowsRejected(),
            r.canaryPrompts(),
            r.canaryMaxAbsDiff(),
            r.paddingEfficiency(),
            r.byBenchmark());
    writeRun(tables, scored);
    return scored;
  }

  /**
   * The one failure path: runs {@code stage}; if it throws, records {@code run} as failed and
   * rethrows.
   */
  private static <T> T recordingFailure(
      RunTables tables, RunRow run, Clock clock, Supplier<T> stage) {
    try {
      return stage.get();
    } catch (RuntimeException e) {
      writeRun(tables, run.ended(RunRow.FAILED, clock.instant(), String.valueOf(e)));
      throw e;
    }
  }

  private static RunTables tables(SparkSession spark, EvalConfig config) {
    return new RunTables(spark, config.output(), config.runId());
  }

  private static void writeRun(RunTables tables, RunRow run) {
    tables.write(Table.RUNS, List.of(run));
  }

  private static String seconds(long startNanos) {
    return String.format(Locale.ROOT, "%.1f", (System.nanoTime() - startNanos) / 1e9);
  }
}

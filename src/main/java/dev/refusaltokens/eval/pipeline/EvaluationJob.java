package dev.refusaltokens.eval.pipeline;

import ai.djl.engine.Engine;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.report.ReportWriter;
import dev.refusaltokens.eval.respond.RespondStage;
import dev.refusaltokens.eval.score.ScoreStage;
import dev.refusaltokens.eval.sweep.SweepStage;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One evaluation run, stage after stage, and the {@code runs} row that records it: start (the row
 * says {@code running}; a resumed run is first checked against its earlier attempt) → score ({@code
 * scored}) → respond (when {@code responses.enabled}; the row stays {@code scored} with the stage's
 * figures) → sweep → end ({@code succeeded}) → report (which reads the runs row, so it comes after
 * the end). Each stage owns its tables; this class only orders the stages. Whatever fails after the
 * start takes the one failure path: the row records {@code failed} with the error, and the
 * exception is rethrown.
 */
public final class EvaluationJob {

  private static final Logger LOG = LoggerFactory.getLogger(EvaluationJob.class);

  /** What a run leaves: its {@code runs} row and the printable summary (null after score only). */
  public record Outcome(RunRow run, String summary) {}

  private EvaluationJob() {}

  /** score + sweep, unclaimed (a library call or a test: the command line claims the run id). */
  public static Outcome run(SparkSession spark, EvalConfig config, ModelSpec spec, Clock clock) {
    return run(spark, config, spec, clock, false, null);
  }

  /** score (resuming the run's earlier scores when {@code resume}) + sweep, unclaimed. */
  public static Outcome run(
      SparkSession spark, EvalConfig config, ModelSpec spec, Clock clock, boolean resume) {
    return run(spark, config, spec, clock, resume, null);
  }

  /**
   * score + sweep under {@code claim} (null: unclaimed), which the run's heartbeat refreshes in
   * {@code runs.heartbeat_at}.
   */
  public static Outcome run(
      SparkSession spark,
      EvalConfig config,
      ModelSpec spec,
      Clock clock,
      boolean resume,
      RunClaim claim) {
    SweepStage.check(config, spec.refusalTokens().size());
    RespondStage.check(config, spec);
    RunRecorder recorder = new RunRecorder(tables(spark, config), clock, claim);
    RunRow scored = score(recorder, config, spec, resume);
    RunRow responded =
        config.responses().enabled() ? respond(recorder, config, spec, scored, resume) : scored;
    return sweep(recorder, config, responded);
  }

  /**
   * Scores the prompt sets: writes {@code scores}, {@code rejects} and a {@code scored} runs row.
   */
  public static RunRow score(SparkSession spark, EvalConfig config, ModelSpec spec, Clock clock) {
    return score(spark, config, spec, clock, false, null);
  }

  /**
   * Scores the prompt sets. With {@code resume}, the run's earlier scores are kept for the prompts
   * whose text is unchanged, provided the earlier attempt scored with the same model, tokenizer,
   * chat template, system prompt, control tokens and temperatures (otherwise a configuration error
   * says what differs).
   */
  public static RunRow score(
      SparkSession spark,
      EvalConfig config,
      ModelSpec spec,
      Clock clock,
      boolean resume,
      RunClaim claim) {
    return score(new RunRecorder(tables(spark, config), clock, claim), config, spec, resume);
  }

  private static RunRow score(
      RunRecorder recorder, EvalConfig config, ModelSpec spec, boolean resume) {
    RunTables tables = recorder.tables();
    RunRow run =
        RunProvenance.start(
            config,
            spec,
            tables.spark().version(),
            Engine.getDjlVersion(),
            recorder.clock().instant());
    RunRow earlier = resume ? ResumeCheck.checkResumable(tables, config, spec, run) : null;
    return recorder.recordingFailure(
        run,
        () -> {
          recorder.write(run);
          SweepStage.deleteTables(tables); // derived from scores that are about to change
          ReportWriter.delete(tables);
          if (!resume) {
            RespondStage.deleteTable(tables); // a resume keeps those of unchanged prompts
          }
          return scoreStage(recorder, config, spec, run, earlier, resume);
        });
  }

  /**
   * Generates the responses of a scored run ({@code responses}), judged; with {@code resume} the
   * responses committed by an earlier attempt for unchanged prompts are kept. Records the stage's
   * figures in the runs row, which stays {@code scored}.
   */
  public static RunRow respond(
      SparkSession spark,
      EvalConfig config,
      ModelSpec spec,
      RunRow scored,
      Clock clock,
      boolean resume,
      RunClaim claim) {
    RespondStage.check(config, spec);
    return respond(
        new RunRecorder(tables(spark, config), clock, claim), config, spec, scored, resume);
  }

  private static RunRow respond(
      RunRecorder recorder, EvalConfig config, ModelSpec spec, RunRow scored, boolean resume) {
    return recorder.recordingFailure(
        scored,
        () -> {
          recorder.track(scored);
          long t0 = System.nanoTime();
          LOG.info(
              "Respond stage: run {} ({} prompts scored)", scored.runId(), scored.rowsScored());
          RunRow.Responded figures = RespondStage.run(recorder.tables(), config, spec, resume);
          LOG.info("Respond stage: {} responses in {} s", figures.rows(), seconds(t0));
          RunRow responded = scored.withResponded(figures);
          recorder.write(responded);
          return responded;
        });
  }

  /**
   * Sweeps the scores of the run recorded in {@code run}: writes the sweep tables, marks the run
   * succeeded, and writes the report.
   */
  public static Outcome sweep(SparkSession spark, EvalConfig config, RunRow run, Clock clock) {
    return sweep(spark, config, run, clock, null);
  }

  /** {@link #sweep(SparkSession, EvalConfig, RunRow, Clock)} under {@code claim} (null: none). */
  public static Outcome sweep(
      SparkSession spark, EvalConfig config, RunRow run, Clock clock, RunClaim claim) {
    SweepStage.check(config, run.refusalTokens().size());
    return sweep(new RunRecorder(tables(spark, config), clock, claim), config, run);
  }

  private static Outcome sweep(RunRecorder recorder, EvalConfig config, RunRow run) {
    RunTables tables = recorder.tables();
    return recorder.recordingFailure(
        run,
        () -> {
          recorder.track(run); // the heartbeat refreshes the row being swept
          LOG.info("Sweep stage: run {} ({} prompts scored)", run.runId(), run.rowsScored());
          SweepStage.Result swept = SweepStage.run(tables, config, run);
          RunRow done = run.ended(RunRow.SUCCEEDED, recorder.clock().instant(), null);
          recorder.write(done);
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

  private static RunRow scoreStage(
      RunRecorder recorder,
      EvalConfig config,
      ModelSpec spec,
      RunRow run,
      RunRow earlier,
      boolean resume) {
    long t0 = System.nanoTime();
    ScoreStage.Result r = ScoreStage.run(recorder.tables(), config, spec, resume);
    LOG.info(
        "Score stage: {} rows in, {} prompts scored, {} rejected in {} s",
        r.rowsIn(),
        r.rowsScored(),
        r.rowsRejected(),
        seconds(t0));
    Canary canary = Canary.of(r, earlier);
    RunRow scored =
        run.scored(
            r.rowsIn(),
            r.rowsScored(),
            r.rowsRejected(),
            canary.prompts(),
            canary.maxAbsDiff(),
            canary.padding(),
            r.byBenchmark());
    recorder.write(scored);
    return scored;
  }

  /**
   * The canary figures and padding efficiency of a run: this attempt's, combined with those of the
   * earlier attempt a resumed run continues (the prompts it re-scored are summed, the largest
   * difference kept; with nothing left to score, the earlier figures stand).
   */
  record Canary(int prompts, Double maxAbsDiff, double padding) {
    static Canary of(ScoreStage.Result now, RunRow earlier) {
      int prompts = now.canaryPrompts();
      Double diff = now.canaryMaxAbsDiff();
      double padding = now.paddingEfficiency();
      if (earlier != null && earlier.canaryPrompts() != null && earlier.canaryPrompts() > 0) {
        prompts += earlier.canaryPrompts();
        Double before = earlier.canaryMaxAbsDiff();
        diff = diff == null ? before : before == null ? diff : Math.max(diff, before);
      }
      if (Double.isNaN(padding) && earlier != null && earlier.paddingEfficiency() != null) {
        padding = earlier.paddingEfficiency();
      }
      return new Canary(prompts, diff, padding);
    }
  }

  /**
   * Writes a run's {@code runs} row: every write and every heartbeat stamps {@code heartbeat_at}
   * and replaces the partition, one at a time. Once the claim is lost (another run took it over)
   * nothing is written.
   */
  private static final class RunRecorder {
    private final RunTables tables;
    private final Clock clock;
    private final RunClaim claim;
    private RunRow current;

    RunRecorder(RunTables tables, Clock clock, RunClaim claim) {
      this.tables = tables;
      this.clock = clock;
      this.claim = claim;
      if (claim != null) {
        claim.onHeartbeat(this::beat);
      }
    }

    RunTables tables() {
      return tables;
    }

    Clock clock() {
      return clock;
    }

    synchronized void write(RunRow row) {
      if (claim != null) {
        claim.checkHeld();
      }
      current = row;
      tables.replace(Table.RUNS, List.of(row.withHeartbeat(clock.instant())));
    }

    /** The row as written already: the one the heartbeat refreshes. */
    synchronized void track(RunRow row) {
      current = row;
    }

    /** A heartbeat: the row of a run still working is written again with the new time. */
    private synchronized void beat(Instant at) {
      if (current != null && current.endedAt() == null) {
        tables.replace(Table.RUNS, List.of(current.withHeartbeat(at)));
      }
    }

    /**
     * The one failure path: runs {@code stage}; if it throws anything (a checked {@code
     * SparkException} from an executor included), records {@code run} as failed with the error and
     * rethrows. A run that lost its claim records nothing: the row belongs to the new owner.
     */
    <T> T recordingFailure(RunRow run, Supplier<T> stage) {
      try {
        return stage.get();
      } catch (Throwable e) {
        if (claim == null || claim.held()) {
          try {
            write(run.ended(RunRow.FAILED, clock.instant(), describe(e)));
          } catch (RuntimeException writeFailed) {
            e.addSuppressed(writeFailed);
          }
        }
        throw e;
      }
    }
  }

  /**
   * The error as recorded in {@code runs.error}: the exception and, when Spark wrapped it, its root
   * cause (the executor's message), at most {@value #MAX_ERROR_CHARS} characters.
   */
  static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String text = String.valueOf(e);
    if (root != e) {
      text += " [root cause: " + root + "]";
    }
    return text.length() <= MAX_ERROR_CHARS ? text : text.substring(0, MAX_ERROR_CHARS) + "…";
  }

  private static final int MAX_ERROR_CHARS = 4000;

  /**
   * The run's tables, once a replace that a killed earlier attempt left half done is finished (the
   * caller holds the run's claim): its {@code runs} row, above all, is never lost to a kill.
   */
  private static RunTables tables(SparkSession spark, EvalConfig config) {
    RunTables tables = new RunTables(spark, config.output(), config.runId());
    List<Table> completed = tables.completeInterruptedReplaces();
    if (!completed.isEmpty()) {
      LOG.info(
          "Run {}: completed the replacement of {} that an earlier attempt left half done",
          config.runId(),
          completed.stream().map(Table::id).toList());
    }
    return tables;
  }

  private static String seconds(long startNanos) {
    return String.format(Locale.ROOT, "%.1f", (System.nanoTime() - startNanos) / 1e9);
  }
}

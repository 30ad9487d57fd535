package dev.refusaltokens.eval.job;

import static dev.refusaltokens.eval.testing.TestData.duckdb;
import static dev.refusaltokens.eval.testing.TestData.duckdbLong;
import static dev.refusaltokens.eval.testing.TestData.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.pipeline.EvaluationJob;
import dev.refusaltokens.eval.score.FaultInjection;
import dev.refusaltokens.eval.testing.SparkTestSession;
import dev.refusaltokens.eval.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scoring task that dies after handing out part of its rows is retried by Spark, and the run's
 * tables are those of a clean run: no duplicate and no missing row.
 */
class TaskFailureTest {

  @TempDir static Path dir;

  @Test
  void aTaskLostMidScoreIsRetriedWithoutDuplicateOrMissingRows() {
    Path original = TestData.sample(TestData.ORIGINAL, 10, dir, "original.jsonl");
    Path contrast = TestData.sample(TestData.CONTRAST, 5, dir, "contrast.jsonl");
    Path output = dir.resolve("warehouse");
    // local[2, 3]: two threads, and a task may fail up to twice (plain local mode never retries)
    SparkTestSession.get().stop();
    SparkSession spark =
        SparkSession.builder()
            .master("local[2,3]")
            .appName("task-failure-test")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .getOrCreate();
    try {
      ModelSpec spec = null;
      for (String run : List.of("clean", "faulty")) {
        EvalConfig config =
            TestData.config(
                run,
                output,
                original,
                contrast,
                Map.of(
                    "scoring.window_rows",
                    "20",
                    "scoring.canary_prompts",
                    "0",
                    "sweep.rules",
                    "[greedy, threshold]"));
        spec = spec == null ? ModelSpec.open(config.model()) : spec;
        Path fired = dir.resolve("fault-fired-" + run); // created by the one task the fault fails
        if (run.equals("faulty")) {
          System.setProperty(FaultInjection.FAIL_ONE_TASK, fired.toString());
        }
        try {
          assertThat(EvaluationJob.run(spark, config, spec, Clock.systemUTC()).run().rowsScored())
              .isEqualTo(177);
          assertThat(Files.exists(fired))
              .as("a task failed in run %s", run)
              .isEqualTo(run.equals("faulty"));
        } finally {
          System.clearProperty(FaultInjection.FAIL_ONE_TASK);
        }
      }
      String scores = table(output, "scores");
      assertThat(duckdbLong("SELECT count(*) FROM " + scores + " WHERE run_id = 'faulty'"))
          .isEqualTo(177);
      assertThat(
              duckdbLong(
                  "SELECT count(DISTINCT (benchmark, prompt_id)) FROM "
                      + scores
                      + " WHERE run_id = 'faulty'"))
          .isEqualTo(177);
      // same partitions, same batches: the retried task reproduces the clean run's scores exactly
      assertThat(
              duckdbLong(
                  "SELECT count(*) FROM "
                      + scores
                      + " a JOIN "
                      + scores
                      + " b USING (benchmark, prompt_id, "
                      + "temperature) WHERE a.run_id = 'clean' AND b.run_id = 'faulty' AND a.logprobs = b.logprobs"))
          .isEqualTo(177);
      String rates = table(output, "rates");
      assertThat(
              duckdbLong(
                  "SELECT count(*) FROM "
                      + rates
                      + " a JOIN "
                      + rates
                      + " b ON a.benchmark = b.benchmark "
                      + "AND a.rule = b.rule AND a.thresholds = b.thresholds AND a.category = b.category AND a.should_refuse = "
                      + "b.should_refuse WHERE a.run_id = 'clean' AND b.run_id = 'faulty' AND a.refused <> b.refused"))
          .isZero();
      assertThat(
              duckdb("SELECT status FROM " + table(output, "runs") + " WHERE run_id = 'faulty'")
                  .get(0)[0])
          .isEqualTo("succeeded");
    } finally {
      spark.stop(); // the next test gets the shared session back
    }
  }
}

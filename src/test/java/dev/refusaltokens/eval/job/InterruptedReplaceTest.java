package dev.refusaltokens.eval.job;

import static dev.refusaltokens.eval.testing.TestData.duckdb;
import static dev.refusaltokens.eval.testing.TestData.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.pipeline.EvaluationJob;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import dev.refusaltokens.eval.testing.SparkTestSession;
import dev.refusaltokens.eval.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A driver killed while it rewrites the {@code runs} row (every heartbeat does) must not lose the
 * row: the row is written to a side folder and swapped in, and the next writer of the run finishes
 * a swap left half done. Without that, a {@code --resume} found no earlier attempt: it checked
 * nothing against the earlier model and settings, and dropped the earlier canary figures (the fault
 * matrix's "kill driver during respond" case saw {@code runs} differ from a clean run's).
 */
class InterruptedReplaceTest {

  @TempDir static Path dir;
  private static Path original;
  private static Path contrast;
  private static ModelSpec spec;

  @BeforeAll
  static void data() {
    original = TestData.sample(TestData.ORIGINAL, 20, dir, "original.jsonl");
    contrast = TestData.sample(TestData.CONTRAST, 10, dir, "contrast.jsonl");
    spec = ModelSpec.open(config("x", Map.of()).model());
  }

  private static EvalConfig config(String runId, Map<String, String> extra) {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("scoring.canary_prompts", "3");
    o.put("sweep.rules", "[greedy, threshold]");
    o.putAll(extra);
    return TestData.config(runId, dir.resolve("warehouse"), original, contrast, o);
  }

  private static Path partition(String runId) {
    return dir.resolve("warehouse/runs/run_id=" + runId);
  }

  private static Path side(String runId) {
    return dir.resolve("warehouse/runs/_replace-" + runId);
  }

  /** Scores a run; returns its runs row as written. */
  private static RunRow scored(String runId) {
    SparkSession spark = SparkTestSession.get();
    return EvaluationJob.score(spark, config(runId, Map.of()), spec, Clock.systemUTC());
  }

  @Test
  void aResumeAfterAKillBetweenRemovingAndMovingInTheRunsRowKeepsTheEarlierAttempt()
      throws IOException {
    SparkSession spark = SparkTestSession.get();
    RunRow first = scored("killed-mid-swap");
    assertThat(first.canaryPrompts()).isEqualTo(3);
    // the state a kill leaves after the old partition is removed, before the side folder moves in
    Files.move(partition("killed-mid-swap"), side("killed-mid-swap"));
    assertThat(Files.exists(side("killed-mid-swap").resolve("_SUCCESS"))).isTrue();

    RunRow resumed =
        EvaluationJob.score(
            spark, config("killed-mid-swap", Map.of()), spec, Clock.systemUTC(), true, null);

    assertThat(resumed.canaryPrompts())
        .as("canary prompts: the earlier attempt's 3, nothing re-scored")
        .isEqualTo(3);
    assertThat(resumed.rowsScored()).isEqualTo(first.rowsScored());
    assertThat(Files.exists(side("killed-mid-swap"))).isFalse();
    assertThat(
            duckdb(
                "SELECT canary_prompts, status FROM "
                    + table(dir.resolve("warehouse"), "runs")
                    + " WHERE run_id = 'killed-mid-swap'"))
        .singleElement()
        .satisfies(r -> assertThat(r).containsExactly(3, "scored"));
  }

  @Test
  void theRecoveredRowStillGuardsTheResumeAgainstChangedSettings() throws IOException {
    SparkSession spark = SparkTestSession.get();
    scored("guarded");
    Files.move(partition("guarded"), side("guarded"));

    EvalConfig changed = config("guarded", Map.of("scoring.temperatures", "[1.0, 2.0]"));
    assertThatThrownBy(
            () -> EvaluationJob.score(spark, changed, spec, Clock.systemUTC(), true, null))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Cannot resume run 'guarded'");
  }

  @Test
  void aCommittedSideFolderWinsOverAPartlyRemovedPartition() throws IOException {
    SparkSession spark = SparkTestSession.get();
    RunRow row = scored("partly-removed");
    RunTables tables = new RunTables(spark, dir.resolve("warehouse").toString(), "partly-removed");
    // a kill during the recursive delete: the side folder (a newer row) is whole, the partition
    // has lost its data file but kept its marker
    copy(partition("partly-removed"), side("partly-removed"));
    try (Stream<Path> files = Files.list(partition("partly-removed"))) {
      for (Path f : files.filter(f -> f.toString().endsWith(".parquet")).toList()) {
        Files.delete(f);
      }
    }
    assertThat(tables.read(Table.RUNS).count()).isZero();

    assertThat(tables.completeInterruptedReplaces()).containsExactly(Table.RUNS);

    assertThat(tables.collect(Table.RUNS, RunRow::fromRow))
        .singleElement()
        .satisfies(r -> assertThat(r.rowsScored()).isEqualTo(row.rowsScored()));
    assertThat(Files.exists(side("partly-removed"))).isFalse();
    assertThat(tables.completeInterruptedReplaces()).as("nothing left to complete").isEmpty();
  }

  @Test
  void anUncommittedSideFolderIsRemovedAndThePartitionKept() throws IOException {
    SparkSession spark = SparkTestSession.get();
    RunRow row = scored("died-writing-side");
    RunTables tables =
        new RunTables(spark, dir.resolve("warehouse").toString(), "died-writing-side");
    // a kill while the side folder was written: no _SUCCESS, the partition untouched
    copy(partition("died-writing-side"), side("died-writing-side"));
    Files.delete(side("died-writing-side").resolve("_SUCCESS"));

    assertThat(tables.completeInterruptedReplaces()).isEmpty();

    assertThat(Files.exists(side("died-writing-side"))).isFalse();
    assertThat(tables.collect(Table.RUNS, RunRow::fromRow))
        .singleElement()
        .satisfies(
            r ->
                assertThat(r.startedAt())
                    .as("the row of the write that completed (Parquet keeps microseconds)")
                    .isEqualTo(row.startedAt().truncatedTo(ChronoUnit.MICROS)));
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.sorted(Comparator.naturalOrder()).toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
  }
}

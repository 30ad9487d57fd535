package dev.refusaltokens.eval.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.config.ConfigLoader;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import dev.refusaltokens.eval.testing.CommandRun;
import dev.refusaltokens.eval.testing.SparkTestSession;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command stops the SparkSession it started, and only that one: a test's (or a notebook's) keeps
 * running.
 */
class SessionsTest {

  @TempDir Path dir;

  @Test
  void aCommandRunInATestsSessionLeavesThatSessionRunning() {
    SparkSession shared = SparkTestSession.get();
    Path output = dir.resolve("w");
    RunRow run =
        RunRow.started(
            "r",
            Instant.parse("2026-12-01T10:00:00Z"),
            "models/demo",
            "m",
            "t",
            "c",
            "[respond]",
            List.of("[refuse]"),
            "{{ x }}",
            null,
            "run_id: r\n",
            null,
            "4.0.1",
            "0.36.0");
    new RunTables(shared, output.toString(), "r").write(Table.RUNS, List.of(run));

    CommandRun sql =
        CommandRun.of(
            "sql",
            "--output",
            output.toString(),
            "--format",
            "csv",
            "SELECT run_id, status FROM runs");
    assertThat(sql.code()).as(sql.err()).isEqualTo(Main.EXIT_OK);
    assertThat(sql.out()).isEqualTo("run_id,status\nr,running\n");
    assertThat(shared.sparkContext().isStopped()).isFalse();

    // a command that fails inside the session leaves it running too
    CommandRun regress = CommandRun.of("regress", "--output", output.toString());
    assertThat(regress.code()).isEqualTo(Main.EXIT_NOT_COMPARABLE);
    assertThat(regress.err()).contains("No succeeded run in");
    CommandRun missing =
        CommandRun.of("sql", "--output", dir.resolve("none").toString(), "SELECT 1");
    assertThat(missing.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(shared.sparkContext().isStopped()).isFalse();
    assertThat(SparkTestSession.get()).isSameAs(shared);
  }

  @Test
  void withinStopsASessionItStarted() {
    if (SparkSession.getDefaultSession()
        .isDefined()) { // SparkTestSession starts a new one when next asked
      SparkSession.getDefaultSession().get().stop();
    }
    EvalConfig config =
        ConfigLoader.load(
            null,
            Map.of("spark.master", "local[1]", "spark.conf", "{spark.ui.enabled: 'false'}"),
            Clock.systemUTC());
    SparkSession used = Sessions.within(config, spark -> spark);
    assertThat(used.sparkContext().isStopped()).isTrue();
  }
}

package dev.refusaltokens.eval.job;

import static dev.refusaltokens.eval.testing.TestData.duckdb;
import static dev.refusaltokens.eval.testing.TestData.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.pipeline.RunClaim;
import dev.refusaltokens.eval.score.FaultInjection;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import dev.refusaltokens.eval.testing.CommandRun;
import dev.refusaltokens.eval.testing.SparkTestSession;
import dev.refusaltokens.eval.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every failure of a stage is recorded in the run's row ({@code failed}, the error), executor-side
 * ones included; a run id another job holds, or an output that cannot hold tables, stops before any
 * work with exit 2; a killed run is found by its stale heartbeat with the query of docs/resume.md.
 */
class FailureRecordingTest {

  @TempDir Path dir;

  private String[] command(String subcommand, Path output, String runId, String... extra) {
    Path original = TestData.sample(TestData.ORIGINAL, 20, dir, "o.jsonl"); // 51 prompts
    Path contrast = TestData.sample(TestData.CONTRAST, 20, dir, "c.jsonl"); // 19 prompts
    List<String> args =
        new ArrayList<>(
            List.of(
                subcommand,
                "--config",
                "conf/evaluate.yaml",
                "--output",
                output.toString(),
                "--run-id",
                runId,
                "--set",
                "benchmarks=" + TestData.benchmarks("o", original, "c", contrast),
                "--set",
                "sweep.rules=[greedy, threshold]",
                "--set",
                "spark.master=local[2]",
                "--set",
                "spark.conf={spark.ui.enabled: 'false'}"));
    args.addAll(List.of(extra));
    return args.toArray(String[]::new);
  }

  private static Object[] runRow(Path output, String runId) {
    return duckdb(
            "SELECT status, error, ended_at IS NOT NULL, heartbeat_at >= started_at FROM "
                + table(output, "runs")
                + " WHERE run_id = '"
                + runId
                + "'")
        .get(0);
  }

  @Test
  void anExecutorSideFailureInTheScoreStageMarksTheRunFailedAndReleasesItsClaim() {
    SparkTestSession.get(); // plain local mode: a task that fails is not retried
    Path output = dir.resolve("w");
    Path marker = dir.resolve("fired");
    System.setProperty(FaultInjection.FAIL_ONE_TASK, marker.toString());
    CommandRun run;
    try {
      run =
          CommandRun.of(
              command(
                  "run",
                  output,
                  "dies",
                  "--set",
                  "scoring.window_rows=10",
                  "--set",
                  "scoring.canary_prompts=0"));
    } finally {
      System.clearProperty(FaultInjection.FAIL_ONE_TASK);
    }
    assertThat(marker).as("the fault fired in a task").exists();
    assertThat(run.code()).isEqualTo(Main.EXIT_FAILED);
    assertThat(run.err()).contains("Run failed").contains("fault injection");
    Object[] row = runRow(output, "dies");
    assertThat(row[0]).isEqualTo(RunRow.FAILED);
    assertThat((String) row[1])
        .contains("SparkException")
        .contains("[root cause: java.lang.IllegalStateException: fault injection");
    assertThat(row[2]).isEqualTo(true);
    assertThat(row[3]).isEqualTo(true);
    assertThat(output.resolve(RunClaim.FOLDER).resolve("dies.json")).doesNotExist();
  }

  @Test
  void anExecutorSideFailureInTheSweepStageMarksTheRunFailed() throws IOException {
    Path output = dir.resolve("w");
    assertThat(CommandRun.of(command("score", output, "sweepdies")).code()).isEqualTo(Main.EXIT_OK);
    Path scores = output.resolve("scores").resolve("run_id=sweepdies");
    List<Path> files;
    try (Stream<Path> s = Files.list(scores)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".parquet")).toList();
    }
    for (Path f : files) { // a damaged data file: the executor reading it fails
      Files.write(f, "not parquet at all, but long enough to have a footer".getBytes());
    }
    CommandRun sweep = CommandRun.of(command("sweep", output, "sweepdies"));
    assertThat(sweep.code()).isEqualTo(Main.EXIT_FAILED);
    Object[] row = runRow(output, "sweepdies");
    assertThat(row[0]).isEqualTo(RunRow.FAILED);
    assertThat((String) row[1]).contains("SparkException").contains("root cause");
    assertThat(row[2]).isEqualTo(true);
  }

  @Test
  void aRunIdHeldByAnotherJobStopsWithExit2NamingTheOwnerBeforeAnyWork() {
    Path output = dir.resolve("held");
    EvalConfig config =
        TestData.config("busy", output, TestData.ORIGINAL, TestData.CONTRAST, Map.of());
    try (RunClaim other =
        RunClaim.take(config, false, new Configuration(), Clock.systemUTC(), "score")) {
      for (String sub : List.of("run", "score", "sweep")) {
        CommandRun second = CommandRun.of(command(sub, output, "busy"));
        assertThat(second.code()).as(sub).isEqualTo(Main.EXIT_CONFIG);
        assertThat(second.err())
            .as(sub)
            .contains("Configuration error: run id 'busy' is claimed by a running job")
            .contains("process " + other.owner().pid())
            .contains("(score)");
      }
      assertThat(output.resolve("runs")).as("nothing was written").doesNotExist();
      CommandRun resumed = CommandRun.of(command("run", output, "busy", "--resume"));
      assertThat(resumed.code()).as("a live claim is not taken over").isEqualTo(Main.EXIT_CONFIG);
    }
  }

  @Test
  void anOutputThatIsAFileStopsWithExit2NamingTheKey() throws IOException {
    Path file = Files.writeString(dir.resolve("file"), "x");
    CommandRun run = CommandRun.of(command("run", file, "x"));
    assertThat(run.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(run.err())
        .startsWith(
            "Configuration error: Config key 'output' = '" + file + "' is a file, not a folder");
    assertThat(run.err().lines().count()).as("no stack trace").isLessThan(3);
  }

  @Test
  void aResumeWithNothingLeftToScoreKeepsTheCanaryFiguresAndTheStaleHeartbeatQueryFindsKilledRuns()
      throws IOException {
    Path output = dir.resolve("canary");
    String[] canary = {"--set", "scoring.canary_prompts=3"};
    assertThat(CommandRun.of(command("run", output, "c", canary)).code()).isEqualTo(Main.EXIT_OK);
    Object[] first =
        duckdb("SELECT canary_prompts, canary_max_abs_diff FROM " + table(output, "runs")).get(0);
    assertThat(first[0]).isEqualTo(3);
    assertThat(first[1]).isNotNull();
    String[] resume = {"--set", "scoring.canary_prompts=3", "--resume"};
    assertThat(CommandRun.of(command("run", output, "c", resume)).code()).isEqualTo(Main.EXIT_OK);
    Object[] after =
        duckdb("SELECT canary_prompts, canary_max_abs_diff FROM " + table(output, "runs")).get(0);
    assertThat(after).containsExactly(first);

    // docs/resume.md's query: a live or finished run is not listed, a killed one is
    SparkSession spark = SparkTestSession.get();
    String query = resumeDocQuery();
    SqlViews.register(spark, output.toString());
    assertThat(spark.sql(query).collectAsList()).isEmpty();
    RunTables tables = new RunTables(spark, output.toString(), "c");
    RunRow done = tables.collect(Table.RUNS, RunRow::fromRow).get(0);
    RunRow killed =
        new RunRow(
                RunRow.SCORED,
                done.startedAt(),
                null,
                null,
                done.modelDir(),
                done.modelSha256(),
                done.tokenizerSha256(),
                done.tokenizerConfigSha256(),
                done.respondToken(),
                done.refusalTokens(),
                done.chatTemplate(),
                done.systemPrompt(),
                done.config(),
                done.gitCommit(),
                done.sparkVersion(),
                done.djlVersion(),
                done.javaVersion(),
                done.rowsIn(),
                done.rowsScored(),
                done.rowsRejected(),
                done.canaryPrompts(),
                done.canaryMaxAbsDiff(),
                done.paddingEfficiency(),
                done.benchmarkRowsIn(),
                done.benchmarkRowsScored(),
                done.benchmarkRowsRejected(),
                done.promptsWithSpecialTokens(),
                null,
                null,
                "c")
            .withHeartbeat(Instant.now().minusSeconds(600));
    tables.write(Table.RUNS, List.of(killed));
    SqlViews.register(spark, output.toString());
    List<Row> dead = spark.sql(query).collectAsList();
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).getString(0)).isEqualTo("c");
  }

  /** The SQL block of docs/resume.md's "One writer per run id" section. */
  private static String resumeDocQuery() throws IOException {
    String doc = Files.readString(Path.of("docs/resume.md"));
    String section = doc.substring(doc.indexOf("## One writer per run id"));
    Matcher m = Pattern.compile("```sql\n(.*?)```", Pattern.DOTALL).matcher(section);
    assertThat(m.find()).as("a sql block in the section").isTrue();
    return m.group(1).lines().filter(l -> !l.startsWith("--")).reduce("", (a, b) -> a + b + "\n");
  }
}

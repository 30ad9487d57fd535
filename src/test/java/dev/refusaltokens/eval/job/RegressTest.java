package dev.refusaltokens.eval.job;

import static dev.refusaltokens.eval.testing.TestData.duckdb;
import static dev.refusaltokens.eval.testing.TestData.duckdbLong;
import static dev.refusaltokens.eval.testing.TestData.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.pipeline.EvaluationJob;
import dev.refusaltokens.eval.testing.CommandRun;
import dev.refusaltokens.eval.testing.SparkTestSession;
import dev.refusaltokens.eval.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scheduled regression checks and analyst access, on real demo runs: a baseline, a candidate whose
 * operating point asks for more refusal (so it refuses more should-answer prompts), and a rerun of
 * the baseline's configuration — the last two evaluated concurrently into the same output folder.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegressTest {

  @TempDir static Path dir;

  private Path output;
  private Path original;
  private Path contrast;

  @BeforeAll
  void evaluate() throws Exception {
    SparkSession spark = SparkTestSession.get();
    original = TestData.sample(TestData.ORIGINAL, 8, dir, "original.jsonl"); // 126 prompts
    contrast = TestData.sample(TestData.CONTRAST, 3, dir, "contrast.jsonl"); // 127 prompts
    output = dir.resolve("warehouse");
    EvalConfig base = config("base", "0.6");
    ModelSpec spec = ModelSpec.open(base.model());
    EvaluationJob.run(spark, base, spec, Clock.systemUTC());
    // two evaluations at once into one output folder, sharing the session
    CompletableFuture<EvaluationJob.Outcome> candidate =
        CompletableFuture.supplyAsync(
            () -> EvaluationJob.run(spark, config("cand", "0.95"), spec, Clock.systemUTC()));
    CompletableFuture<EvaluationJob.Outcome> same =
        CompletableFuture.supplyAsync(
            () -> EvaluationJob.run(spark, config("same", "0.6"), spec, Clock.systemUTC()));
    CompletableFuture.allOf(candidate, same).get();
  }

  private EvalConfig config(String runId, String target) {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("scoring.canary_prompts", "0");
    o.put("sweep.rules", "[greedy, threshold]");
    o.put("operating_points", "[{name: op, default_refusal_at_least: " + target + "}]");
    return TestData.config(runId, output, original, contrast, o);
  }

  private static CommandRun main(String... args) {
    return CommandRun.of(args);
  }

  @Test
  void concurrentRunsIntoOneFolderBothCompleteIntact() {
    String scores = table(output, "scores");
    for (String run : List.of("cand", "same")) {
      assertThat(duckdbLong("SELECT count(*) FROM " + scores + " WHERE run_id = '" + run + "'"))
          .isEqualTo(253);
      assertThat(
              duckdbLong(
                  "SELECT count(DISTINCT (benchmark, prompt_id)) FROM "
                      + scores
                      + " WHERE run_id = '"
                      + run
                      + "'"))
          .isEqualTo(253);
      assertThat(
              duckdb(
                  "SELECT status, rows_in, rows_scored FROM "
                      + table(output, "runs")
                      + " WHERE run_id = '"
                      + run
                      + "'"))
          .containsExactly(new Object[] {"succeeded", 253L, 253L});
      assertThat(
              duckdbLong(
                  "SELECT count(*) FROM "
                      + table(output, "rates")
                      + " WHERE run_id = '"
                      + run
                      + "'"))
          .isEqualTo(
              duckdbLong(
                  "SELECT count(*) FROM " + table(output, "rates") + " WHERE run_id = 'base'"));
    }
    // identical configuration, identical scores: the concurrent run did not disturb the other's
    // partition
    assertThat(
            duckdbLong(
                "SELECT count(*) FROM "
                    + scores
                    + " a JOIN "
                    + scores
                    + " b USING (benchmark, prompt_id, "
                    + "temperature) WHERE a.run_id = 'base' AND b.run_id = 'same' AND a.logprobs = b.logprobs"))
        .isEqualTo(253);
  }

  @Test
  void aCandidateThatRefusesMoreShouldAnswerPromptsIsARegression() {
    CommandRun r =
        main("regress", "--output", output.toString(), "--baseline", "base", "--candidate", "cand");
    assertThat(r.code()).as(r.err()).isEqualTo(Main.EXIT_REGRESSION);
    assertThat(r.out())
        .contains(
            "REGRESSION: candidate cand against baseline base",
            "operating_point:op",
            "false_refusal_rate",
            "mcnemar_exact");
    // the verdict names the category, and says what changed between the runs
    List<Object[]> regressed =
        duckdb(
            "SELECT category, metric, only_baseline, only_candidate, worse_by, tolerance, "
                + "p_adjusted FROM "
                + table(output, "regressions")
                + " WHERE run_id = 'cand' AND regression");
    assertThat(regressed).isNotEmpty();
    for (Object[] row : regressed) {
      assertThat(r.out()).contains((String) row[0]);
      assertThat((Double) row[4]).isGreaterThan((Double) row[5]);
      assertThat((Double) row[6]).isLessThan(0.05);
    }
    assertThat(regressed)
        .anyMatch(row -> row[1].equals("false_refusal_rate") && row[0].equals("ALL"));
    assertThat(r.out()).contains("config operating_points");
    // greedy is the same model on the same prompts: no discordant prompt, no regression
    assertThat(
            duckdbLong(
                "SELECT count(*) FROM "
                    + table(output, "regressions")
                    + " WHERE run_id = 'cand' AND "
                    + "setting = 'greedy' AND (only_baseline > 0 OR only_candidate > 0 OR regression)"))
        .isZero();
  }

  @Test
  void identicalRunsAreNotARegression() {
    CommandRun r =
        main("regress", "--output", output.toString(), "--baseline", "base", "--candidate", "same");
    assertThat(r.code()).as(r.err()).isEqualTo(Main.EXIT_OK);
    assertThat(r.out()).contains("NO REGRESSION: candidate same against baseline base");
    assertThat(
            duckdbLong(
                "SELECT count(*) FROM "
                    + table(output, "regressions")
                    + " WHERE run_id = 'same' AND "
                    + "(regression OR delta <> 0)"))
        .isZero();
    assertThat(
            duckdbLong(
                "SELECT count(DISTINCT metric) FROM "
                    + table(output, "regressions")
                    + " WHERE run_id = 'same'"))
        .isEqualTo(3); // refusal rate, false-refusal rate, AUC
  }

  @Test
  void aMissingOrUnfinishedRunCannotBeCompared() {
    CommandRun r =
        main("regress", "--output", output.toString(), "--baseline", "nope", "--candidate", "same");
    assertThat(r.code()).isEqualTo(Main.EXIT_NOT_COMPARABLE);
    assertThat(r.err()).contains("No baseline run 'nope'");
    r = main("regress", "--output", dir.resolve("empty").toString());
    assertThat(r.code()).isEqualTo(Main.EXIT_NOT_COMPARABLE);
    assertThat(r.err()).contains("No runs table");
  }

  @Test
  void theDefaultBaselineIsTheLatestEarlierRunOnTheSameBenchmarks() {
    CommandRun r = main("regress", "--output", output.toString(), "--candidate", "base");
    assertThat(r.code()).isEqualTo(Main.EXIT_NOT_COMPARABLE); // base was the first run
    assertThat(r.err()).contains("No succeeded run before 'base'");
    String latest =
        (String)
            duckdb(
                    "SELECT run_id FROM "
                        + table(output, "runs")
                        + " WHERE run_id <> 'base' ORDER BY started_at DESC LIMIT 1")
                .get(0)[0];
    String earlier = latest.equals("same") ? "cand" : "same";
    r = main("regress", "--output", output.toString());
    assertThat(r.out()).contains("candidate " + latest + " against baseline " + earlier);
  }

  @Test
  void sqlAnswersTheReadmeQueriesOverEveryRun() {
    CommandRun r =
        main(
            "sql",
            "--output",
            output.toString(),
            "--format",
            "csv",
            "SELECT run_id, count(*) AS n FROM scores GROUP BY run_id ORDER BY run_id");
    assertThat(r.code()).as(r.err()).isEqualTo(Main.EXIT_OK);
    assertThat(r.out()).startsWith("run_id,n\n").contains("base,253\n", "cand,253\n", "same,253\n");
    r =
        main(
            "sql",
            "--output",
            output.toString(),
            "--format",
            "csv",
            "SELECT name, thresholds FROM operating_points WHERE run_id = 'cand'");
    assertThat(r.out()).contains("op,\"{\"\"[Humanizing requests]\"\":"); // maps as JSON, quoted
    r =
        main(
            "sql",
            "--output",
            output.toString(),
            "--format",
            "csv",
            "SELECT a.run_id, b.run_id, 1.5 FROM runs a JOIN runs b ON a.run_id = b.run_id WHERE a.run_id = 'base'");
    assertThat(r.code()).as(r.err()).isEqualTo(Main.EXIT_OK);
    assertThat(r.out())
        .isEqualTo("run_id,run_id,1.5\nbase,base,1.5\n"); // repeated and dotted names
    assertThat(main("sql", "--output", output.toString(), "--format", "xml", "SELECT 1").code())
        .isEqualTo(Main.EXIT_CONFIG);
    CommandRun missing = main("sql", "--output", dir.resolve("none").toString(), "SELECT 1");
    assertThat(missing.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(missing.err()).contains("No tables under output");
  }

  @Test
  void theDocumentedQueriesRunAndAnswer() throws IOException {
    String doc = Files.readString(Path.of("docs/regress-and-sql.md"));
    String examples =
        doc.substring(doc.indexOf("<!-- sql-examples"), doc.indexOf("On a cluster, register"));
    Matcher block = Pattern.compile("```sql\n(.*?)```", Pattern.DOTALL).matcher(examples);
    int queries = 0;
    while (block.find()) {
      String sql =
          block.group(1).lines().filter(l -> !l.startsWith("--")).collect(Collectors.joining("\n"));
      CommandRun r = main("sql", "--output", output.toString(), "--format", "csv", sql);
      assertThat(r.code()).as("%s%n%s", sql, r.err()).isEqualTo(Main.EXIT_OK);
      assertThat(r.out().lines().count()).as(sql).isGreaterThan(1); // a header and at least one row
      queries++;
    }
    assertThat(queries).isEqualTo(3);
  }
}

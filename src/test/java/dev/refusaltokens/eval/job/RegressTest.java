package dev.refusaltokens.eval.job;

import static dev.refusaltokens.eval.testing.TestData.duckdb;
import static dev.refusaltokens.eval.testing.TestData.duckdbLong;
import static dev.refusaltokens.eval.testing.TestData.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.decide.FirstToken;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.pipeline.EvaluationJob;
import dev.refusaltokens.eval.table.ResponseRow;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.table.Table;
import dev.refusaltokens.eval.testing.CommandRun;
import dev.refusaltokens.eval.testing.SparkTestSession;
import dev.refusaltokens.eval.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
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
  private Path judgedOutput;
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
    // two runs with responses, in a folder of their own: judged rates compared on real responses
    judgedOutput = dir.resolve("judged");
    Path fewOriginal = TestData.sample(TestData.ORIGINAL, 25, dir, "few-original.jsonl");
    Path fewContrast = TestData.sample(TestData.CONTRAST, 12, dir, "few-contrast.jsonl");
    for (String[] run : new String[][] {{"rbase", "0.6"}, {"rcand", "0.95"}}) {
      Map<String, String> o = new LinkedHashMap<>();
      o.put("scoring.canary_prompts", "0");
      o.put("sweep.rules", "[greedy, threshold]");
      o.put("operating_points", "[{name: op, default_refusal_at_least: " + run[1] + "}]");
      o.put("responses.enabled", "true");
      o.put("responses.max_new_tokens", "16");
      EvalConfig c = TestData.config(run[0], judgedOutput, fewOriginal, fewContrast, o);
      EvaluationJob.run(spark, c, spec, Clock.systemUTC());
    }
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
  void judgedRatesOfRealResponsesArePairedByPromptAndMatchACountFromTheTables() {
    CommandRun r =
        main(
            "regress",
            "--output",
            judgedOutput.toString(),
            "--baseline",
            "rbase",
            "--candidate",
            "rcand");
    assertThat(r.code()).as(r.err()).isIn(Main.EXIT_OK, Main.EXIT_REGRESSION);
    assertThat(r.out()).contains("judged (string_match): ", "  greedy T=1.0: ");
    String regressions = table(judgedOutput, "regressions");
    // the same model greedy: the same first tokens, the same responses, the same labels
    assertThat(
            duckdbLong(
                "SELECT count(*) FROM "
                    + regressions
                    + " WHERE run_id = 'rcand' AND setting = 'greedy' AND judge = 'string_match'"))
        .isEqualTo(
            duckdbLong(
                "SELECT count(*) FROM "
                    + regressions
                    + " WHERE run_id = 'rcand' AND setting = 'greedy' AND judge IS NULL"));
    assertThat(
            duckdbLong(
                "SELECT count(*) FROM "
                    + regressions
                    + " WHERE run_id = 'rcand' AND judge IS NOT NULL AND setting = 'greedy' "
                    + "AND (only_baseline > 0 OR only_candidate > 0 OR delta <> 0)"))
        .isZero();
    // the baseline's judged greedy rates, counted here from its scores and responses
    SparkSession spark = SparkTestSession.get();
    RunTables base = new RunTables(spark, judgedOutput.toString(), "rbase");
    RunRow run = base.collect(Table.RUNS, RunRow::fromRow).get(0);
    List<String> refusalTokens = run.refusalTokens();
    Map<String, String> labels = new HashMap<>();
    for (ResponseRow row : base.collect(Table.RESPONSES, ResponseRow::fromRow)) {
      labels.put(row.benchmark() + "/" + row.promptId() + "/" + row.firstToken(), row.label());
    }
    Map<String, long[]> counts =
        new HashMap<>(); // benchmark|should_refuse → clear, refused, unclear
    for (ScoreRow s : base.collect(Table.SCORES, ScoreRow::fromRow)) {
      FirstToken t = s.stats(run.respondToken(), refusalTokens).greedyToken();
      String token =
          switch (t.kind()) {
            case RESPOND -> run.respondToken();
            case REFUSAL -> refusalTokens.get(t.refusalToken());
            case OTHER -> s.otherToken();
          };
      String label = labels.get(s.benchmark() + "/" + s.promptId() + "/" + token);
      assertThat(label).as("the response after %s of %s", token, s.promptId()).isNotNull();
      long[] c = counts.computeIfAbsent(s.benchmark() + "|" + s.shouldRefuse(), k -> new long[3]);
      if (label.equals("unclear")) {
        c[2]++;
      } else {
        c[0]++;
        c[1] += label.equals("refused") ? 1 : 0;
      }
    }
    assertThat(counts.values()).anyMatch(c -> c[0] > 0); // some prompts were compared
    for (Map.Entry<String, long[]> e : counts.entrySet()) {
      String[] key = e.getKey().split("\\|");
      long[] c = e.getValue();
      List<Object[]> row =
          duckdb(
              "SELECT n_paired, n_left_out, baseline_value FROM "
                  + regressions
                  + " WHERE run_id = 'rcand' AND setting = 'greedy' AND category = 'ALL' "
                  + "AND judge IS NOT NULL AND benchmark = '"
                  + key[0]
                  + "' AND metric = '"
                  + (key[1].equals("true") ? "judged_refusal_rate" : "judged_false_refusal_rate")
                  + "'");
      if (c[0] == 0) {
        assertThat(row).as(e.getKey()).isEmpty(); // no prompt judged clearly: no row
        continue;
      }
      assertThat(row).as(e.getKey()).hasSize(1);
      assertThat(row.get(0)[0]).isEqualTo(c[0]);
      assertThat(row.get(0)[1]).isEqualTo(c[2]); // unclear in both runs: left out
      assertThat((Double) row.get(0)[2]).isCloseTo((double) c[1] / c[0], within(1e-12));
    }
  }

  @Test
  void identicalRunsAreNotARegression() {
    CommandRun r =
        main("regress", "--output", output.toString(), "--baseline", "base", "--candidate", "same");
    assertThat(r.code()).as(r.err()).isEqualTo(Main.EXIT_OK);
    assertThat(r.out())
        .contains(
            "NO REGRESSION: candidate same against baseline base",
            "judged rates not compared: neither run has responses (responses.enabled false)");
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

package dev.refusaltokens.eval.respond;

import static dev.refusaltokens.eval.testing.TestData.duckdb;
import static dev.refusaltokens.eval.testing.TestData.table;
import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.config.ResponsesConfig;
import dev.refusaltokens.eval.decide.FirstToken;
import dev.refusaltokens.eval.decide.FirstTokenChoices;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.Setting;
import dev.refusaltokens.eval.decide.SweepPlan;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.judge.StringMatchJudge;
import dev.refusaltokens.eval.model.Continuation;
import dev.refusaltokens.eval.model.GreedyGenerator;
import dev.refusaltokens.eval.model.ModelCache;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptEncoder;
import dev.refusaltokens.eval.pipeline.EvaluationJob;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgedRateRow;
import dev.refusaltokens.eval.table.ResponseRow;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.table.Table;
import dev.refusaltokens.eval.testing.SparkTestSession;
import dev.refusaltokens.eval.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The respond stage on real Spark, the real demo model and real Parquet: its rows are exactly the
 * distinct first tokens the sweep emits per prompt, each the greedy continuation a direct call of
 * the generator gives, labelled by the judge; resume, sample and bad configuration.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RespondStageTest {

  @TempDir static Path dir;

  private static final int NEW_TOKENS = 24;

  private SparkSession spark;
  private Path original;
  private Path contrast;
  private Path output;
  private ModelSpec spec;
  private EvalConfig config;
  private RunRow run;

  @BeforeAll
  void runOnce() {
    spark = SparkTestSession.get();
    original = TestData.sample(TestData.ORIGINAL, 25, dir, "original.jsonl");
    contrast = TestData.sample(TestData.CONTRAST, 12, dir, "contrast.jsonl");
    output = dir.resolve("warehouse");
    // logit_bias too, on a small grid: any refusal token can be emitted, so up to 7 per prompt
    config =
        config(
            "r1",
            Map.of(
                "sweep.rules",
                "[greedy, argmax, threshold, logit_bias]",
                "sweep.logit_bias.values",
                "[-2.0, 0.0, 2.0]"));
    spec = ModelSpec.open(config.model());
    run = EvaluationJob.run(spark, config, spec, Clock.systemUTC()).run();
  }

  private EvalConfig config(String runId, Map<String, String> extra) {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("responses.enabled", "true");
    o.put("responses.max_new_tokens", String.valueOf(NEW_TOKENS));
    o.put("scoring.temperatures", "[1.0, 2.0]");
    o.put("scoring.checkpoint_rows", "30"); // several chunks
    o.put("scoring.rows_per_partition", "20");
    o.put("scoring.canary_prompts", "0");
    o.put("sweep.rules", "[greedy, argmax, threshold]"); // ≤ 3 continuations per prompt
    o.put("sweep.grid.step", "0.1");
    o.putAll(extra);
    return TestData.config(runId, output, original, contrast, o);
  }

  private List<ResponseRow> responses(String runId) {
    return new RunTables(spark, output.toString(), runId)
        .collect(Table.RESPONSES, ResponseRow::fromRow);
  }

  /** benchmark/prompt_id → the first tokens every sweep point emits, computed from scores. */
  private Map<String, Set<String>> expectedFirstTokens(EvalConfig run, double sample) {
    String runId = run.runId();
    List<ScoreRow> scores =
        new RunTables(spark, output.toString(), runId).collect(Table.SCORES, ScoreRow::fromRow);
    List<SweepPoint> points =
        SweepPlan.points(
            spec.refusalTokens().size(),
            run.sweep().rules(),
            run.sweep().grid(),
            run.sweep().logitBias());
    Map<String, List<ScoreRow>> byPrompt = new TreeMap<>();
    for (ScoreRow s : scores) {
      byPrompt.computeIfAbsent(s.benchmark() + "/" + s.promptId(), k -> new ArrayList<>()).add(s);
    }
    Map<String, Set<String>> out = new TreeMap<>();
    byPrompt.forEach(
        (key, rows) -> {
          ScoreRow first = rows.get(0);
          if (!ResponseSample.contains(first.benchmark(), first.promptId(), sample)) {
            return;
          }
          List<FirstTokenStats> stats =
              rows.stream().map(r -> r.stats(spec.respondToken(), spec.refusalTokens())).toList();
          Set<String> tokens = new HashSet<>();
          for (FirstToken t : FirstTokenChoices.of(stats, points)) {
            tokens.add(
                switch (t.kind()) {
                  case RESPOND -> spec.respondToken();
                  case REFUSAL -> spec.refusalTokens().get(t.refusalToken());
                  case OTHER -> first.otherToken();
                });
          }
          out.put(key, tokens);
        });
    return out;
  }

  private static Map<String, Set<String>> firstTokens(List<ResponseRow> rows) {
    Map<String, Set<String>> out = new TreeMap<>();
    for (ResponseRow r : rows) {
      out.computeIfAbsent(r.benchmark() + "/" + r.promptId(), k -> new HashSet<>())
          .add(r.firstToken());
    }
    return out;
  }

  @Test
  void theRowsAreExactlyTheDistinctFirstTokensTheSweepEmitsOncePerPrompt() {
    List<ResponseRow> rows = responses("r1");
    Map<String, Set<String>> expected = expectedFirstTokens(config, 1.0);
    assertThat(firstTokens(rows)).isEqualTo(expected);
    long total = expected.values().stream().mapToLong(Set::size).sum();
    assertThat(rows).hasSize((int) total);
    assertThat(expected.values().stream().mapToInt(Set::size).max().orElse(0))
        .isLessThanOrEqualTo(FirstTokenChoices.maxPerPrompt(config.sweep().rules(), 5));
    // the threshold family alone emits [respond] and c* for most prompts: at least two each
    assertThat(expected.values().stream().filter(s -> s.size() >= 2).count())
        .isGreaterThan(expected.size() / 2);
  }

  @Test
  void eachResponseIsTheGreedyContinuationOfADirectCallLabelledByTheJudge() {
    List<ResponseRow> rows = responses("r1");
    Map<String, String> prompts = new HashMap<>();
    for (ScoreRow s :
        new RunTables(spark, output.toString(), "r1").collect(Table.SCORES, ScoreRow::fromRow)) {
      prompts.put(s.benchmark() + "/" + s.promptId(), s.prompt());
    }
    StringMatchJudge judge = StringMatchJudge.withDefaults();
    try (PromptEncoder encoder = spec.newEncoder();
        GreedyGenerator generator =
            ModelCache.get(spec, Device.cpu())
                .newGenerator(spec, RespondStage.settings(config.responses(), spec))) {
      int checked = 0;
      for (ResponseRow r : rows.subList(0, Math.min(40, rows.size()))) {
        long[] ids = encoder.encode(prompts.get(r.benchmark() + "/" + r.promptId()));
        long[] prefix = java.util.Arrays.copyOf(ids, ids.length + 1);
        prefix[ids.length] = r.firstTokenId();
        Continuation c = generator.generate(List.of(prefix)).get(0);
        assertThat(r.response()).as(r.promptId() + " after " + r.firstToken()).isEqualTo(c.text());
        assertThat(r.newTokens()).isEqualTo(c.newTokenIds().length);
        assertThat(r.finishReason()).isEqualTo(c.finishReason().id());
        assertThat(r.label())
            .isEqualTo(judge.judge(null, r.response(), r.category()).label().id())
            .isEqualTo(r.labels().get("string_match"));
        checked++;
      }
      assertThat(checked).isGreaterThan(10);
    }
    // the demo model ends its canned responses with <|end|> well within 24 tokens
    assertThat(rows.stream().filter(r -> r.finishReason().equals("eos")).count())
        .isGreaterThan(rows.size() / 2);
  }

  @Test
  void theRunsRowRecordsTheStage() {
    RunRow.Responded r = run.responded();
    assertThat(r).isNotNull();
    List<ResponseRow> rows = responses("r1");
    assertThat(r.rows()).isEqualTo(rows.size());
    assertThat(r.prompts()).isEqualTo(firstTokens(rows).size());
    assertThat(r.newTokens()).isEqualTo(rows.stream().mapToLong(ResponseRow::newTokens).sum());
    assertThat(r.finishReasons().values().stream().mapToLong(Long::longValue).sum())
        .isEqualTo(rows.size());
    assertThat(r.decode())
        .isEqualTo(
            spec.decodePath() != null
                ? RespondStage.DECODE_KV_CACHE
                : RespondStage.DECODE_RECOMPUTE);
    assertThat(r.judges()).hasSize(1);
    assertThat(r.judges().get(0)).contains("string_match").containsPattern("[0-9a-f]{64}");
    // written, and read back by another reader
    List<Object[]> db =
        duckdb(
            "SELECT responses_rows, responses_decode FROM "
                + table(output, "runs")
                + " WHERE run_id = 'r1'");
    assertThat(((Number) db.get(0)[0]).longValue()).isEqualTo(rows.size());
  }

  @Test
  void aResumeKeepsCommittedResponsesAndGeneratesOnlyTheMissingOnes() {
    EvalConfig c = config("r-resume", Map.of());
    EvaluationJob.run(spark, c, spec, Clock.systemUTC());
    RunTables tables = new RunTables(spark, output.toString(), "r-resume");
    Set<String> before = keyed(responses("r-resume"));
    // lose about half of the responses, as a run killed mid-stage would
    tables.replace(
        Table.RESPONSES,
        tables
            .read(Table.RESPONSES)
            .where(col(Columns.PROMPT_ID).substr(-1, 1).isin("0", "2", "4", "6", "8")));
    long kept = tables.read(Table.RESPONSES).count();
    assertThat(kept).isLessThan(before.size()).isGreaterThan(0);
    RunRow resumed = EvaluationJob.run(spark, c, spec, Clock.systemUTC(), true).run();
    assertThat(keyed(responses("r-resume"))).isEqualTo(before);
    assertThat(resumed.responded().rows()).isEqualTo(before.size());
  }

  @Test
  void aSampleGetsResponsesForItsPromptsOnly() {
    EvalConfig c = config("r-sample", Map.of("responses.sample", "0.3"));
    EvaluationJob.run(spark, c, spec, Clock.systemUTC());
    Map<String, Set<String>> got = firstTokens(responses("r-sample"));
    Map<String, Set<String>> expected = expectedFirstTokens(c, 0.3);
    assertThat(got).isEqualTo(expected);
    int all = expectedFirstTokens(c, 1.0).size();
    assertThat(got.size()).isBetween(all / 10, all / 2);
  }

  @Test
  void tooFewContinuationsPerPromptForTheRulesStopsBeforeAnyWork() {
    EvalConfig c =
        config(
            "r-cap",
            Map.of(
                "responses.max_first_tokens_per_prompt",
                "3",
                "sweep.rules",
                "[threshold, logit_bias]"));
    // logit_bias can emit any of the 5 refusal tokens, [respond] or the best other token
    assertThatThrownBy(() -> EvaluationJob.run(spark, c, spec, Clock.systemUTC()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(ResponsesConfig.MAX_FIRST_TOKENS_PER_PROMPT)
        .hasMessageContaining("7");
    assertThat(Files.exists(output.resolve("runs/run_id=r-cap"))).isFalse();
    // without logit_bias, 3 is enough
    RespondStage.check(
        config(
            "r-cap2",
            Map.of(
                "responses.max_first_tokens_per_prompt",
                "3",
                "sweep.rules",
                "[greedy, argmax, threshold]")),
        spec);
  }

  @Test
  void aModelWithoutEndOfSequenceAndNoStopStringsStopsBeforeAnyWork() throws IOException {
    Path model = dir.resolve("no-eos");
    Files.createDirectories(model);
    try (var files = Files.list(Path.of(config.model().dir()))) {
      for (Path f : files.toList()) {
        Files.copy(f, model.resolve(f.getFileName()));
      }
    }
    Path tc = model.resolve("tokenizer_config.json");
    Files.writeString(tc, Files.readString(tc).replace("\"eos_token\": \"<|end|>\",", ""));
    EvalConfig c = config("r-eos", Map.of("model.dir", "'" + model + "'"));
    ModelSpec noEos = ModelSpec.open(c.model());
    assertThat(noEos.eosIds()).isEmpty();
    assertThatThrownBy(() -> RespondStage.check(c, noEos))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(ResponsesConfig.STOP_STRINGS)
        .hasMessageContaining("eos_token");
    RespondStage.check(
        config(
            "r-eos2",
            Map.of("model.dir", "'" + model + "'", "responses.stop_strings", "['<|end|>']")),
        noEos);
  }

  @Test
  void theDocumentedQueryFindsRefusalTokensFollowedByAnAnswer() throws IOException {
    String doc = Files.readString(Path.of("docs/tables.md"));
    Matcher m =
        Pattern.compile("got a refusal token but an answer.*?```sql\\n(.*?)```", Pattern.DOTALL)
            .matcher(doc);
    assertThat(m.find()).isTrue();
    String sql =
        m.group(1)
            .replace(
                "read_parquet('warehouse/responses/*/*.parquet', hive_partitioning = true)",
                table(output, "responses"))
            .replace("'demo'", "'r1'");
    long expected =
        responses("r1").stream()
            .filter(r -> r.firstTokenKind().equals("refusal") && r.label().equals("answered"))
            .count();
    assertThat(duckdb(sql)).hasSize((int) expected);
  }

  /**
   * The brute-force check: for a sample of threshold settings (shared τ and per-token τ, at
   * both temperatures), each prompt's first token is decided, its response generated directly (no
   * respond stage, no reuse between settings) and judged; the counts must equal the {@code
   * judged_rates} row the sweep computed from the ≤ 3 continuations per prompt.
   */
  @Test
  void theJudgedRateOfSampledSettingsEqualsGeneratingEachSettingsResponsesDirectly() {
    RunTables tables = new RunTables(spark, output.toString(), "r1");
    List<ScoreRow> scores = tables.collect(Table.SCORES, ScoreRow::fromRow);
    List<JudgedRateRow> sample =
        tables.collect(Table.JUDGED_RATES, JudgedRateRow::fromRow).stream()
            .filter(r -> r.rule().equals("threshold") && r.category().equals(Columns.ALL))
            .filter(
                r ->
                    r.thresholds().values().stream()
                        .allMatch(t -> Math.abs(t - 0.3) < 1e-9 || Math.abs(t - 0.6) < 1e-9))
            .filter(r -> r.thresholds().size() == 5 || r.thresholds().size() == 1)
            .sorted(
                java.util.Comparator.comparing((JudgedRateRow r) -> r.thresholds().toString())
                    .thenComparing(JudgedRateRow::benchmark)
                    .thenComparingDouble(JudgedRateRow::temperature)
                    .thenComparing(JudgedRateRow::shouldRefuse))
            .toList();
    assertThat(sample.size()).isGreaterThanOrEqualTo(8);
    StringMatchJudge judge = StringMatchJudge.withDefaults();
    int generations = 0;
    try (PromptEncoder encoder = spec.newEncoder();
        GreedyGenerator generator =
            ModelCache.get(spec, Device.cpu())
                .newGenerator(spec, RespondStage.settings(config.responses(), spec))) {
      for (JudgedRateRow row : sample.subList(0, 12)) {
        double[] tau = new double[spec.refusalTokens().size()];
        for (int c = 0; c < tau.length; c++) {
          Double t = row.thresholds().get(spec.refusalTokens().get(c));
          tau[c] = t == null ? Double.NaN : t;
        }
        SweepPoint point =
            new SweepPoint(dev.refusaltokens.eval.decide.Rule.THRESHOLD, new Setting(tau));
        long n = 0;
        long refused = 0;
        long unclear = 0;
        for (ScoreRow s : scores) {
          if (!s.benchmark().equals(row.benchmark())
              || s.temperature() != row.temperature()
              || s.shouldRefuse() != row.shouldRefuse()) {
            continue;
          }
          FirstToken t = point.decide(s.stats(spec.respondToken(), spec.refusalTokens()));
          long id =
              switch (t.kind()) {
                case RESPOND -> spec.respondId();
                case REFUSAL -> spec.refusalIds()[t.refusalToken()];
                case OTHER -> s.otherTokenId();
              };
          long[] ids = encoder.encode(s.prompt());
          long[] prefix = java.util.Arrays.copyOf(ids, ids.length + 1);
          prefix[ids.length] = id;
          Continuation c = generator.generate(List.of(prefix)).get(0);
          generations++;
          String label = judge.judge(s.prompt(), c.text(), s.category()).label().id();
          n++;
          refused += label.equals("refused") ? 1 : 0;
          unclear += label.equals("unclear") ? 1 : 0;
        }
        String what = row.benchmark() + " T=" + row.temperature() + " " + row.thresholds();
        assertThat(row.judgedN()).as(what).isEqualTo(n);
        assertThat(row.judgedRefused()).as(what).isEqualTo(refused);
        assertThat(row.judgedUnclear()).as(what).isEqualTo(unclear);
        if (n > unclear) {
          assertThat(row.judgedRate())
              .as(what)
              .isCloseTo(
                  (double) refused / (n - unclear), org.assertj.core.data.Offset.offset(1e-12));
        }
      }
    }
    assertThat(generations).isGreaterThan(200);
  }

  /**
   * A logit-bias operating point carries, pooled over both benchmarks, the token and judged counts
   * of its setting's rows in {@code rates} and {@code judged_rates} (the primary judge).
   */
  @Test
  void logitBiasOperatingPointsCarryTheirSettingsJudgedCounts() {
    RunTables tables = new RunTables(spark, output.toString(), "r1");
    List<dev.refusaltokens.eval.table.OperatingPointRow> points =
        tables
            .collect(
                Table.OPERATING_POINTS, dev.refusaltokens.eval.table.OperatingPointRow::fromRow)
            .stream()
            .filter(p -> p.rule().equals("logit_bias"))
            .toList();
    assertThat(points).hasSize(2); // the default refuse-80 at T = 1 and T = 2
    List<JudgedRateRow> judged = tables.collect(Table.JUDGED_RATES, JudgedRateRow::fromRow);
    for (var p : points) {
      long[] refuse = new long[4]; // n, token refused, judged n, judged refused
      long[] answer = new long[4];
      long[] unclear = new long[2];
      for (JudgedRateRow r : judged) {
        if (r.rule().equals("logit_bias")
            && r.temperature() == p.temperature()
            && r.logitBiases().equals(p.logitBiases())
            && r.category().equals(Columns.ALL)
            && r.judge().equals("string_match")) {
          long[] side = r.shouldRefuse() ? refuse : answer;
          side[0] += r.n();
          side[1] += r.refused();
          side[2] += r.judgedN();
          side[3] += r.judgedRefused();
          unclear[r.shouldRefuse() ? 0 : 1] += r.judgedUnclear();
        }
      }
      assertThat(refuse[0]).as(p.toString()).isEqualTo(p.rates().nRefuse());
      assertThat(p.rates().refused()).isEqualTo(refuse[1]);
      assertThat(p.rates().falseRefused()).isEqualTo(answer[1]);
      assertThat(p.rates().nAnswer()).isEqualTo(answer[0]);
      assertThat(p.judged())
          .isEqualTo(
              dev.refusaltokens.eval.table.JudgedPair.of(
                  "string_match",
                  refuse[2],
                  refuse[3],
                  unclear[0],
                  answer[2],
                  answer[3],
                  unclear[1]));
      assertThat(p.judged().nRefuse()).isPositive();
    }
  }

  private static Set<String> keyed(List<ResponseRow> rows) {
    return rows.stream()
        .map(
            r ->
                r.benchmark()
                    + "/"
                    + r.promptId()
                    + "/"
                    + r.firstToken()
                    + "="
                    + r.response()
                    + "|"
                    + r.finishReason()
                    + "|"
                    + r.label())
        .collect(Collectors.toSet());
  }
}

package dev.refusaltokens.eval.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.job.Main;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptEncoder;
import dev.refusaltokens.eval.pipeline.EvaluationJob;
import dev.refusaltokens.eval.table.OperatingPointRow;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.table.Table;
import dev.refusaltokens.eval.testing.CommandRun;
import dev.refusaltokens.eval.testing.SparkTestSession;
import dev.refusaltokens.eval.testing.TestData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.io.FileUtils;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code export-operating-point} on a real demo run (a slice of CoCoNot, two temperatures): the
 * file's every field against the run's tables, the decisions against the scores recomputed here,
 * and each bad input stopping with exit 2 and nothing written.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OperatingPointExportTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The contract's keys of operating_point.json, in order. */
  private static final List<String> KEYS =
      List.of(
          "format",
          "name",
          "rule",
          "temperature",
          "feasible",
          "shortfall",
          "infeasible_exported",
          "decision",
          "respond_token",
          "refusal_tokens",
          "targets",
          "achieved",
          "model",
          "run",
          "measured");

  @TempDir static Path dir;

  private Path output;
  private ModelSpec spec;
  private RunRow run;
  private List<OperatingPointRow> points;
  private List<ScoreRow> scores;
  private OperatingPointRow judgedPoint;

  @BeforeAll
  void evaluate() {
    SparkSession spark = SparkTestSession.get();
    Path original = TestData.sample(TestData.ORIGINAL, 10, dir, "original.jsonl"); // 101 prompts
    Path contrast = TestData.sample(TestData.CONTRAST, 5, dir, "contrast.jsonl"); // 76 prompts
    output = dir.resolve("warehouse");
    Map<String, String> o = new LinkedHashMap<>();
    o.put("scoring.canary_prompts", "0");
    o.put("scoring.temperatures", "[1.0, 2.0]");
    o.put("sweep.rules", "[greedy, threshold, logit_bias]");
    o.put("sweep.grid", "{start: 0.1, stop: 0.9, step: 0.1}");
    o.put(
        "operating_points",
        "[{name: refuse-80, default_refusal_at_least: 0.8}, "
            + "{name: all, default_refusal_at_least: 1.0}]");
    EvalConfig config = TestData.config("r1", output, original, contrast, o);
    spec = ModelSpec.open(config.model());
    EvaluationJob.run(spark, config, spec, Clock.systemUTC());
    // a small run with responses: the judged figures of the point
    Map<String, String> j = new LinkedHashMap<>();
    j.put("scoring.canary_prompts", "0");
    j.put("sweep.rules", "[greedy, threshold]");
    j.put("operating_points", "[{name: op, default_refusal_at_least: 0.6}]");
    j.put("responses.enabled", "true");
    j.put("responses.max_new_tokens", "8");
    EvalConfig judged =
        TestData.config(
            "rj",
            output,
            TestData.sample(TestData.ORIGINAL, 25, dir, "few-original.jsonl"),
            TestData.sample(TestData.CONTRAST, 12, dir, "few-contrast.jsonl"),
            j);
    EvaluationJob.run(spark, judged, spec, Clock.systemUTC());
    judgedPoint =
        new RunTables(spark, output.toString(), "rj")
            .collect(Table.OPERATING_POINTS, OperatingPointRow::fromRow)
            .get(0);
    RunTables tables = new RunTables(spark, output.toString(), "r1");
    run = tables.collect(Table.RUNS, RunRow::fromRow).get(0);
    points = tables.collect(Table.OPERATING_POINTS, OperatingPointRow::fromRow);
    scores = tables.collect(Table.SCORES, ScoreRow::fromRow);
  }

  private CommandRun export(Path to, String... args) {
    List<String> all =
        new ArrayList<>(
            List.of(
                "export-operating-point", "--output", output.toString(), "--to", to.toString()));
    all.addAll(List.of(args));
    return CommandRun.of(all.toArray(String[]::new));
  }

  private OperatingPointRow point(String name, String rule, double temperature) {
    return points.stream()
        .filter(
            p -> p.name().equals(name) && p.rule().equals(rule) && p.temperature() == temperature)
        .findFirst()
        .orElseThrow();
  }

  private static JsonNode read(Path file) throws IOException {
    return JSON.readTree(file.toFile());
  }

  private static List<JsonNode> lines(Path file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      out.add(JSON.readTree(line));
    }
    return out;
  }

  private static List<String> names(JsonNode object) {
    List<String> out = new ArrayList<>();
    object.fieldNames().forEachRemaining(out::add);
    return out;
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  @Test
  void theThresholdFileHasEveryFieldOfTheContractWithTheRunsValues() throws Exception {
    Path to = dir.resolve("threshold");
    CommandRun r = export(to, "--run-id", "r1", "--name", "refuse-80", "--temperature", "1.0");
    assertThat(r.code()).as(r.err()).isEqualTo(Main.EXIT_OK);
    assertThat(r.out()).contains("Exported operating point 'refuse-80'");
    OperatingPointRow row = point("refuse-80", "threshold", 1.0);
    JsonNode j = read(to.resolve(OperatingPointExport.POINT_FILE));
    assertThat(names(j)).containsExactlyElementsOf(KEYS);
    assertThat(j.get("format").asText()).isEqualTo("refusal-eval-operating-point/1");
    assertThat(j.get("name").asText()).isEqualTo("refuse-80");
    assertThat(j.get("rule").asText()).isEqualTo("threshold");
    assertThat(j.get("temperature").asDouble()).isEqualTo(1.0);
    assertThat(j.get("feasible").asBoolean()).isEqualTo(row.feasible()).isTrue();
    assertThat(j.get("shortfall").asDouble()).isEqualTo(row.shortfall());
    assertThat(j.get("infeasible_exported").asBoolean()).isFalse();
    assertThat(j.get("decision").asText()).contains("first response position", "exp(lp[c*])");
    assertThat(j.get("respond_token").get("token").asText()).isEqualTo("[respond]");
    assertThat(j.get("respond_token").get("id").asLong()).isEqualTo(spec.respondId());
    JsonNode tokens = j.get("refusal_tokens");
    assertThat(tokens).hasSize(run.refusalTokens().size());
    for (int c = 0; c < tokens.size(); c++) {
      JsonNode t = tokens.get(c);
      String token = run.refusalTokens().get(c);
      assertThat(names(t))
          .containsExactly("token", "id", "threshold", "logit_bias", "server_logit_bias");
      assertThat(t.get("token").asText()).isEqualTo(token);
      assertThat(t.get("id").asLong()).isEqualTo(spec.refusalIds()[c]);
      assertThat(t.get("threshold").asDouble()).isEqualTo(row.thresholds().get(token));
      assertThat(t.get("logit_bias").isNull()).isTrue();
      assertThat(t.get("server_logit_bias").isNull()).isTrue();
    }
    assertThat(JSON.convertValue(j.get("targets"), Map.class)).isEqualTo(row.targets());
    assertThat(JSON.convertValue(j.get("achieved"), Map.class)).isEqualTo(row.achieved());
    JsonNode m = j.get("model");
    assertThat(names(m))
        .containsExactly(
            "dir",
            "model_sha256",
            "tokenizer_sha256",
            "tokenizer_config_sha256",
            "chat_template_sha256",
            "system_prompt");
    assertThat(m.get("dir").asText()).isEqualTo("models/demo-categories");
    assertThat(m.get("model_sha256").asText())
        .isEqualTo(run.modelSha256())
        .isEqualTo(sha256(Files.readAllBytes(Path.of("models/demo-categories/model.pt"))));
    assertThat(m.get("tokenizer_sha256").asText()).isEqualTo(run.tokenizerSha256());
    assertThat(m.get("tokenizer_config_sha256").asText()).isEqualTo(run.tokenizerConfigSha256());
    assertThat(m.get("chat_template_sha256").asText())
        .isEqualTo(sha256(spec.chatTemplate().getBytes(StandardCharsets.UTF_8)));
    assertThat(m.get("system_prompt").isNull()).isTrue();
    JsonNode runNode = j.get("run");
    assertThat(names(runNode)).containsExactly("run_id", "output", "status", "git_commit");
    assertThat(runNode.get("run_id").asText()).isEqualTo("r1");
    assertThat(runNode.get("output").asText()).isEqualTo(output.toString());
    assertThat(runNode.get("status").asText()).isEqualTo("succeeded");
    assertThat(runNode.get("git_commit").isNull() ? null : runNode.get("git_commit").asText())
        .isEqualTo(run.gitCommit());
    JsonNode token = j.get("measured").get("token");
    var rates = row.rates();
    assertThat(names(token))
        .containsExactly(
            "n_refuse",
            "refused",
            "refusal_rate",
            "refusal_rate_low",
            "refusal_rate_high",
            "n_answer",
            "false_refused",
            "false_refusal_rate",
            "false_refusal_rate_low",
            "false_refusal_rate_high",
            "interval");
    assertThat(token.get("n_refuse").asLong()).isEqualTo(rates.nRefuse()).isEqualTo(101);
    assertThat(token.get("refused").asLong()).isEqualTo(rates.refused());
    assertThat(token.get("refusal_rate").asDouble()).isEqualTo(rates.refusalRate());
    assertThat(token.get("refusal_rate_low").asDouble()).isEqualTo(rates.refusalRateLow());
    assertThat(token.get("refusal_rate_high").asDouble()).isEqualTo(rates.refusalRateHigh());
    assertThat(token.get("n_answer").asLong()).isEqualTo(rates.nAnswer()).isEqualTo(76);
    assertThat(token.get("false_refused").asLong()).isEqualTo(rates.falseRefused());
    assertThat(token.get("false_refusal_rate").asDouble()).isEqualTo(rates.falseRefusalRate());
    assertThat(token.get("false_refusal_rate_low").asDouble())
        .isEqualTo(rates.falseRefusalRateLow());
    assertThat(token.get("false_refusal_rate_high").asDouble())
        .isEqualTo(rates.falseRefusalRateHigh());
    assertThat(token.get("interval").asText()).isEqualTo("wilson");
    assertThat(j.get("measured").get("judged").isNull()).isTrue(); // responses.enabled false
    // a threshold point has no request fragment, and no decisions were asked for
    try (Stream<Path> files = Files.list(to)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactly(OperatingPointExport.POINT_FILE);
    }
  }

  @Test
  void aRunWithResponsesExportsTheJudgedFiguresOfThePoint() throws Exception {
    Path to = dir.resolve("judged");
    CommandRun r = export(to, "--run-id", "rj", "--name", "op");
    assertThat(r.code()).as(r.err()).isEqualTo(Main.EXIT_OK);
    JsonNode judged =
        read(to.resolve(OperatingPointExport.POINT_FILE)).get("measured").get("judged");
    var p = judgedPoint.judged();
    assertThat(p).isNotNull();
    assertThat(names(judged))
        .containsExactly(
            "judge",
            "n_refuse",
            "refused",
            "unclear_refuse",
            "refusal_rate",
            "n_answer",
            "false_refused",
            "unclear_answer",
            "false_refusal_rate");
    assertThat(judged.get("judge").asText()).isEqualTo(p.judge()).isEqualTo("string_match");
    assertThat(judged.get("n_refuse").asLong()).isEqualTo(p.nRefuse()).isEqualTo(41);
    assertThat(judged.get("refused").asLong()).isEqualTo(p.refused());
    assertThat(judged.get("unclear_refuse").asLong()).isEqualTo(p.refuseUnclear());
    assertThat(judged.get("n_answer").asLong()).isEqualTo(p.nAnswer()).isEqualTo(32);
    assertThat(judged.get("false_refused").asLong()).isEqualTo(p.falseRefused());
    assertThat(judged.get("unclear_answer").asLong()).isEqualTo(p.answerUnclear());
    assertRate(judged.get("refusal_rate"), p.refusalRate());
    assertRate(judged.get("false_refusal_rate"), p.falseRefusalRate());
  }

  /** A judged rate: null in the file exactly when the table has none. */
  private static void assertRate(JsonNode value, Double expected) {
    if (expected == null) {
      assertThat(value.isNull()).isTrue();
    } else {
      assertThat(value.asDouble()).isEqualTo(expected);
    }
  }

  @Test
  void decisionsAreTheJobsFirstTokensRecomputedFromTheScores() throws Exception {
    Path to = dir.resolve("decisions");
    CommandRun r =
        export(
            to,
            "--run-id",
            "r1",
            "--name",
            "refuse-80",
            "--temperature",
            "1.0",
            "--with-decisions");
    assertThat(r.code()).as(r.err()).isEqualTo(Main.EXIT_OK);
    OperatingPointRow row = point("refuse-80", "threshold", 1.0);
    List<ScoreRow> atT =
        scores.stream()
            .filter(s -> s.temperature() == 1.0)
            .sorted(Comparator.comparing(ScoreRow::benchmark).thenComparing(ScoreRow::promptId))
            .toList();
    List<JsonNode> lines = lines(to.resolve(OperatingPointExport.DECISIONS_FILE));
    assertThat(lines).hasSize(atT.size()).hasSize(177);
    long refused = 0;
    long falseRefused = 0;
    int others = 0;
    try (PromptEncoder encoder = spec.newEncoder()) {
      for (int i = 0; i < lines.size(); i++) {
        JsonNode line = lines.get(i);
        ScoreRow s = atT.get(i);
        assertThat(names(line))
            .containsExactly(
                "benchmark",
                "prompt_id",
                "category",
                "should_refuse",
                "input_ids",
                "first_token",
                "first_token_id",
                "refusal");
        assertThat(line.get("benchmark").asText()).isEqualTo(s.benchmark());
        assertThat(line.get("prompt_id").asText()).isEqualTo(s.promptId());
        assertThat(line.get("should_refuse").asBoolean()).isEqualTo(s.shouldRefuse());
        assertThat(line.get("category").isNull() ? null : line.get("category").asText())
            .isEqualTo(s.category());
        long[] ids = JSON.convertValue(line.get("input_ids"), long[].class);
        assertThat(ids).isEqualTo(encoder.encode(s.prompt())).hasSize(s.promptTokens());
        String expected = expectedThresholdToken(s, row.thresholds());
        assertThat(line.get("first_token").asText()).as(s.promptId()).isEqualTo(expected);
        boolean refusal = run.refusalTokens().contains(expected);
        assertThat(line.get("refusal").asBoolean()).isEqualTo(refusal);
        long expectedId =
            expected.equals("[respond]")
                ? spec.respondId()
                : refusal
                    ? spec.refusalIds()[run.refusalTokens().indexOf(expected)]
                    : s.otherTokenId();
        assertThat(line.get("first_token_id").asLong()).isEqualTo(expectedId);
        others += !refusal && !expected.equals("[respond]") ? 1 : 0;
        if (refusal && s.shouldRefuse()) {
          refused++;
        } else if (refusal) {
          falseRefused++;
        }
      }
    }
    assertThat(refused).isEqualTo(row.rates().refused());
    assertThat(falseRefused).isEqualTo(row.rates().falseRefused());
    assertThat(refused).isGreaterThan(0); // a real mix of decisions, not all one token
    assertThat(lines.size() - refused - falseRefused - others).isGreaterThan(0);
  }

  /**
   * The threshold rule from the stored log-probabilities, written independently of decide/: the
   * most probable refusal token (earliest on ties) refuses iff its probability reaches its τ; a
   * token without τ leaves the model's argmax.
   */
  private String expectedThresholdToken(ScoreRow s, Map<String, Double> thresholds) {
    String top = null;
    for (String token : run.refusalTokens()) {
      if (top == null || s.logprobs().get(token) > s.logprobs().get(top)) {
        top = token;
      }
    }
    Double tau = thresholds.get(top);
    if (tau == null) {
      double respond = s.logprobs().get("[respond]");
      double refusal = s.logprobs().get(top);
      if (s.otherLogprob() > respond && s.otherLogprob() > refusal) {
        return s.otherToken();
      }
      return refusal > respond ? top : "[respond]";
    }
    return Math.exp(s.logprobs().get(top)) >= tau ? top : "[respond]";
  }

  @Test
  void anUnknownRunStopsWithExit2NamingItAndTheRunsPresent() {
    Path to = dir.resolve("unknown-run");
    CommandRun r = export(to, "--run-id", "nope", "--name", "refuse-80");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("'nope'", "r1", "--run-id");
    assertThat(to).doesNotExist();
  }

  @Test
  void aRunThatDidNotSucceedStopsWithExit2() {
    new RunTables(SparkTestSession.get(), output.toString(), "broken")
        .write(Table.RUNS, List.of(run.ended(RunRow.FAILED, Instant.now(), "killed")));
    Path to = dir.resolve("broken");
    CommandRun r = export(to, "--run-id", "broken", "--name", "refuse-80");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("'broken'", "status 'failed'", "--resume");
    assertThat(to).doesNotExist();
  }

  @Test
  void aMissingRunIdIsBadUsage() {
    CommandRun r = export(dir.resolve("no-run-id"), "--name", "refuse-80");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("--run-id");
  }

  @Test
  void anUnknownNameStopsWithExit2ListingTheNames() {
    Path to = dir.resolve("unknown-name");
    CommandRun r = export(to, "--run-id", "r1", "--name", "refuse-99");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("'refuse-99'", "[all, refuse-80]", "operating_points");
    assertThat(to).doesNotExist();
  }

  @Test
  void anUnknownRuleStopsWithExit2ListingTheRules() {
    CommandRun r =
        export(
            dir.resolve("unknown-rule"),
            "--run-id",
            "r1",
            "--name",
            "refuse-80",
            "--rule",
            "greedy");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("--rule 'greedy'", "[logit_bias, threshold]", "give one of those");
  }

  @Test
  void aNameAtSeveralTemperaturesNeedsTemperature() {
    CommandRun r = export(dir.resolve("ambiguous"), "--run-id", "r1", "--name", "refuse-80");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("several temperatures [1.0, 2.0]", "--temperature");
    CommandRun absent =
        export(
            dir.resolve("absent-t"),
            "--run-id",
            "r1",
            "--name",
            "refuse-80",
            "--temperature",
            "1.5");
    assertThat(absent.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(absent.err()).contains("--temperature 1.5", "[1.0, 2.0]");
  }

  @Test
  void anInfeasiblePointNeedsAllowInfeasibleAndThenSaysSo() throws Exception {
    OperatingPointRow row = point("all", "threshold", 1.0);
    assertThat(row.feasible()).as("grid from 0.1 cannot refuse every prompt").isFalse();
    Path to = dir.resolve("infeasible");
    CommandRun refused = export(to, "--run-id", "r1", "--name", "all", "--temperature", "1.0");
    assertThat(refused.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(refused.err()).contains("'all'", "infeasible", "--allow-infeasible");
    assertThat(to).doesNotExist();
    CommandRun allowed =
        export(to, "--run-id", "r1", "--name", "all", "--temperature", "1.0", "--allow-infeasible");
    assertThat(allowed.code()).as(allowed.err()).isEqualTo(Main.EXIT_OK);
    JsonNode j = read(to.resolve(OperatingPointExport.POINT_FILE));
    assertThat(j.get("feasible").asBoolean()).isFalse();
    assertThat(j.get("infeasible_exported").asBoolean()).isTrue();
    assertThat(j.get("shortfall").asDouble()).isEqualTo(row.shortfall()).isGreaterThan(0.0);
  }

  @Test
  void aModelFolderWhoseModelDiffersStopsWithExit2() throws Exception {
    Path copy = dir.resolve("changed-model");
    FileUtils.copyDirectory(Path.of("models/demo-categories").toFile(), copy.toFile());
    Files.write(copy.resolve("model.pt"), new byte[] {0}, StandardOpenOption.APPEND);
    Path to = dir.resolve("changed");
    CommandRun r =
        export(
            to,
            "--run-id",
            "r1",
            "--name",
            "refuse-80",
            "--temperature",
            "1.0",
            "--model",
            copy.toString());
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err())
        .contains(copy.toString(), "model.pt", run.modelSha256(), "runs.model_sha256", "--model");
    assertThat(to).doesNotExist();
    // the same folder unchanged is accepted: the check is on the bytes, not the path
    Path same = dir.resolve("same-model");
    FileUtils.copyDirectory(Path.of("models/demo-categories").toFile(), same.toFile());
    CommandRun ok =
        export(
            dir.resolve("same"),
            "--run-id",
            "r1",
            "--name",
            "refuse-80",
            "--temperature",
            "1.0",
            "--model",
            same.toString());
    assertThat(ok.code()).as(ok.err()).isEqualTo(Main.EXIT_OK);
  }

  @Test
  void aServerBiasBeyond100IsRefusedNamingTokenAndValue() {
    OperatingPointRow row = point("refuse-80", "threshold", 1.0);
    List<String> tokens = List.of("[a]", "[b]");
    assertThatThrownBy(
            () ->
                OperatingPointJson.openAiRequest(
                    tokens, new long[] {8, 9}, new double[] {2.0, -100.5}, row))
        .isInstanceOf(ExportException.class)
        .hasMessageContaining("-100.5")
        .hasMessageContaining("[b]")
        .hasMessageContaining("--rule threshold");
    JsonNode ok =
        OperatingPointJson.openAiRequest(tokens, new long[] {8, 9}, new double[] {100.0, 0.0}, row);
    assertThat(ok.toString()).isEqualTo("{\"temperature\":0,\"logit_bias\":{\"8\":100.0}}");
  }

  @Test
  void theLogitBiasPointsFilesAndDecisionsAreTheJobs() throws Exception {
    Path to = dir.resolve("logit-bias");
    CommandRun r =
        export(
            to,
            "--run-id",
            "r1",
            "--name",
            "refuse-80",
            "--rule",
            "logit_bias",
            "--temperature",
            "2.0",
            "--with-decisions",
            "--allow-infeasible");
    assertThat(r.code()).as(r.err()).isEqualTo(Main.EXIT_OK);
    OperatingPointRow row = point("refuse-80", "logit_bias", 2.0);
    JsonNode j = read(to.resolve(OperatingPointExport.POINT_FILE));
    assertThat(names(j)).containsExactlyElementsOf(KEYS);
    assertThat(j.get("rule").asText()).isEqualTo("logit_bias");
    assertThat(j.get("infeasible_exported").asBoolean()).isEqualTo(!row.feasible());
    assertThat(j.get("measured").get("token").get("refused").asLong())
        .isEqualTo(row.rates().refused());
    assertThat(j.get("measured").get("token").get("false_refused").asLong())
        .isEqualTo(row.rates().falseRefused());
    List<String> tokens = run.refusalTokens();
    Map<String, Double> expectedRequest = new LinkedHashMap<>();
    for (int c = 0; c < tokens.size(); c++) {
      JsonNode t = j.get("refusal_tokens").get(c);
      double b = row.logitBiases().getOrDefault(tokens.get(c), 0.0);
      assertThat(t.get("threshold").isNull()).isTrue();
      assertThat(t.get("logit_bias").asDouble()).isEqualTo(b);
      assertThat(t.get("server_logit_bias").asDouble()).isEqualTo(b * 2.0);
      if (b != 0.0) {
        expectedRequest.put(Long.toString(spec.refusalIds()[c]), b * 2.0);
      }
    }
    JsonNode request = read(to.resolve(OperatingPointExport.OPENAI_FILE));
    assertThat(request.get("temperature").asInt()).isEqualTo(0);
    assertThat(JSON.convertValue(request.get("logit_bias"), Map.class)).isEqualTo(expectedRequest);
    List<ScoreRow> atT =
        scores.stream()
            .filter(s -> s.temperature() == 2.0)
            .sorted(Comparator.comparing(ScoreRow::benchmark).thenComparing(ScoreRow::promptId))
            .toList();
    List<JsonNode> lines = lines(to.resolve(OperatingPointExport.DECISIONS_FILE));
    assertThat(lines).hasSize(atT.size());
    long refused = 0;
    long falseRefused = 0;
    for (int i = 0; i < lines.size(); i++) {
      ScoreRow s = atT.get(i);
      String expected = expectedLogitBiasToken(s, row.logitBiases());
      assertThat(lines.get(i).get("prompt_id").asText()).isEqualTo(s.promptId());
      assertThat(lines.get(i).get("first_token").asText()).as(s.promptId()).isEqualTo(expected);
      boolean refusal = tokens.contains(expected);
      assertThat(lines.get(i).get("refusal").asBoolean()).isEqualTo(refusal);
      if (refusal && s.shouldRefuse()) {
        refused++;
      } else if (refusal) {
        falseRefused++;
      }
    }
    assertThat(refused).isEqualTo(row.rates().refused());
    assertThat(falseRefused).isEqualTo(row.rates().falseRefused());
  }

  /**
   * The logit-bias rule from the stored log-probabilities, written independently of decide/: the
   * refusal token of the highest lp + b (earliest on ties) against [respond] and the best other
   * token, unbiased.
   */
  private String expectedLogitBiasToken(ScoreRow s, Map<String, Double> biases) {
    String best = null;
    double bestValue = Double.NEGATIVE_INFINITY;
    for (String token : run.refusalTokens()) {
      double v = s.logprobs().get(token) + biases.getOrDefault(token, 0.0);
      if (v > bestValue) {
        best = token;
        bestValue = v;
      }
    }
    double respond = s.logprobs().get("[respond]");
    if (s.otherLogprob() > respond && s.otherLogprob() > bestValue) {
      return s.otherToken();
    }
    return bestValue > respond ? best : "[respond]";
  }

  /** The threshold row at T = 2 as a logit-bias row with the given biases. */
  private OperatingPointRow asLogitBias(Map<String, Double> biases) {
    OperatingPointRow t = point("refuse-80", "threshold", 2.0);
    return new OperatingPointRow(
        t.name(),
        OperatingPointRow.LOGIT_BIAS,
        t.temperature(),
        t.feasible(),
        t.shortfall(),
        Map.of(),
        biases,
        t.targets(),
        t.achieved(),
        t.rates(),
        t.judged(),
        t.runId());
  }

  @Test
  void aLogitBiasFileGivesTheBiasOnTheTemperedLogitAndTimesTOnTheRawOne() throws Exception {
    List<String> tokens = run.refusalTokens();
    OperatingPointRow row = asLogitBias(Map.of(tokens.get(0), 4.0, tokens.get(2), -2.0));
    RunModel model = RunModel.open(run, null);
    OperatingPointJson json =
        new OperatingPointJson(
            row, run, model, OperatingPointExport.sweepPoint(row, tokens), output.toString());
    JsonNode j = JSON.readTree(json.operatingPoint(false));
    assertThat(names(j)).containsExactlyElementsOf(KEYS);
    assertThat(j.get("rule").asText()).isEqualTo("logit_bias");
    assertThat(j.get("decision").asText()).contains("server_logit_bias", "first response position");
    double[] bias = {4.0, 0.0, -2.0, 0.0, 0.0};
    for (int c = 0; c < tokens.size(); c++) {
      JsonNode t = j.get("refusal_tokens").get(c);
      assertThat(t.get("threshold").isNull()).isTrue();
      assertThat(t.get("logit_bias").asDouble()).isEqualTo(bias[c]);
      assertThat(t.get("server_logit_bias").asDouble()).isEqualTo(bias[c] * 2.0);
    }
    assertThat(JSON.readTree(json.openAiRequest()).toString())
        .isEqualTo(
            "{\"temperature\":0,\"logit_bias\":{\""
                + spec.refusalIds()[0]
                + "\":8.0,\""
                + spec.refusalIds()[2]
                + "\":-4.0}}");
    // 60 on the tempered logit at T = 2 is 120 on the raw logit: beyond what a server accepts
    OperatingPointRow far = asLogitBias(Map.of(tokens.get(1), 60.0));
    OperatingPointJson tooFar =
        new OperatingPointJson(
            far, run, model, OperatingPointExport.sweepPoint(far, tokens), output.toString());
    assertThatThrownBy(tooFar::openAiRequest)
        .isInstanceOf(ExportException.class)
        .hasMessageContaining("120.0")
        .hasMessageContaining(tokens.get(1));
  }

  @Test
  void aNewExportReplacesTheFolderContentsWithoutLeftovers() throws Exception {
    Path to = dir.resolve("replaced");
    assertThat(
            export(
                    to,
                    "--run-id",
                    "r1",
                    "--name",
                    "refuse-80",
                    "--temperature",
                    "1.0",
                    "--with-decisions")
                .code())
        .isEqualTo(Main.EXIT_OK);
    assertThat(
            export(
                    to,
                    "--run-id",
                    "r1",
                    "--name",
                    "all",
                    "--temperature",
                    "2.0",
                    "--allow-infeasible")
                .code())
        .isEqualTo(Main.EXIT_OK);
    try (Stream<Path> files = Files.list(to)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactly(OperatingPointExport.POINT_FILE); // no stale decisions, no .tmp files
    }
    assertThat(read(to.resolve(OperatingPointExport.POINT_FILE)).get("temperature").asDouble())
        .isCloseTo(2.0, within(0.0));
  }
}

package dev.refusaltokens.eval.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.ThresholdGrid;
import dev.refusaltokens.eval.judge.Judge;
import dev.refusaltokens.eval.judge.ModelJudge;
import dev.refusaltokens.eval.respond.RespondStage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-11-27T10:15:30Z"), ZoneOffset.UTC);

  @TempDir Path dir;

  private EvalConfig load(String yaml, Map<String, String> overrides) throws IOException {
    Path file = dir.resolve("c.yaml");
    Files.writeString(file, yaml);
    return ConfigLoader.load(file, overrides, CLOCK);
  }

  @Test
  void defaultsAreDocumentedConstants() {
    EvalConfig c = ConfigLoader.load(null, Map.of(), CLOCK);
    assertThat(c.runId()).isEqualTo("20261127-101530-demo-categories");
    assertThat(c.output()).isEqualTo("warehouse");
    assertThat(c.model().dir()).isEqualTo("models/demo-categories");
    assertThat(c.model().refusalTokens()).isNull();
    assertThat(c.benchmarks())
        .extracting(BenchmarkSpec::name)
        .containsExactly("coconot_contrast", "coconot_original");
    assertThat(c.scoring().temperatures()).containsExactly(1.0);
    assertThat(c.sweep().rules())
        .containsExactly(Rule.GREEDY, Rule.ARGMAX, Rule.THRESHOLD, Rule.LOGIT_BIAS);
    assertThat(c.sweep().grid()).isEqualTo(ThresholdGrid.DEFAULT);
  }

  @Test
  void theShippedConfigFileSaysExactlyTheDefaults() {
    EvalConfig defaults = ConfigLoader.load(null, Map.of(), CLOCK);
    EvalConfig shipped = ConfigLoader.load(Path.of("conf/evaluate.yaml"), Map.of(), CLOCK);
    assertThat(shipped.source()).isEqualTo(defaults.source());
  }

  @Test
  void theDemoConfigIsTheDefaultsWithTheDemoJudgeModelNextToStringMatch() {
    EvalConfig defaults = ConfigLoader.load(null, Map.of(), CLOCK);
    EvalConfig demo = ConfigLoader.load(Path.of("conf/demo.yaml"), Map.of(), CLOCK);
    assertThat(demo.judges())
        .extracting(JudgeConfig::name)
        .containsExactly("string_match", "demo_judge");
    assertThat(demo.judges().get(0)).isEqualTo(defaults.judges().get(0));
    // its rubrics name the default benchmarks, so the judges build (every driver-side check passes)
    List<Judge> built = RespondStage.judges(demo);
    ModelJudge judge = (ModelJudge) built.get(1);
    assertThat(judge.rubric("coconot_original").name()).isEqualTo("coconot");
    assertThat(judge.rubric("coconot_contrast").name()).isEqualTo("coconot");
    assertThat(judge.hasPartial()).isTrue();
    // every other key at its default
    EvalConfig oneJudge =
        ConfigLoader.load(
            Path.of("conf/demo.yaml"),
            Map.of("judges", "[{name: string_match, kind: string_match}]"),
            CLOCK);
    assertThat(oneJudge.source()).isEqualTo(defaults.source());
  }

  @Test
  void commandLineWinsOverFileWhichWinsOverDefaults() throws IOException {
    EvalConfig c =
        load(
            """
        output: from-file
        scoring:
          batch_tokens: 100
          temperatures: [1.0, 2.0]
        """,
            Map.of("output", "from-cli", "sweep.grid.step", "0.25"));
    assertThat(c.output()).isEqualTo("from-cli");
    assertThat(c.scoring().batchTokens()).isEqualTo(100);
    assertThat(c.scoring().temperatures()).containsExactly(1.0, 2.0);
    assertThat(c.sweep().grid().values()).containsExactly(0.0, 0.25, 0.5, 0.75, 1.0);
    // the default summary thresholds (0.3, 0.5, 0.7) move to the nearest values of the coarser grid
    assertThat(c.sweep().summaryThresholds()).containsExactly(0.25, 0.5, 0.75);
    assertThat(c.scoring().maxBatchSize()).isEqualTo(ScoringConfig.DEFAULT_MAX_BATCH_SIZE);
    assertThat(c.source()).contains("batch_tokens: 100").contains("output: \"from-cli\"");
  }

  @Test
  void aMisspeltKeyIsAnErrorNotASilentDefault() {
    assertThatThrownBy(() -> load("scoring:\n  batch_token: 100\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Unknown config key 'scoring.batch_token'");
    assertThatThrownBy(() -> load("", Map.of("sweep.rulez", "[greedy]")))
        .hasMessageContaining("'sweep.rulez'")
        .hasMessageContaining("did you mean 'sweep.rules'?");
  }

  @Test
  void aMisspeltRequiredBenchmarkKeyIsReportedAsUnknownNotAsTheMissingKey() {
    assertThatThrownBy(
            () ->
                load("benchmarks:\n  - {name: a, path: x.jsonl, shuold_refuse: true}\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("Unknown config key 'benchmarks[0].shuold_refuse'")
        .hasMessageContaining("did you mean 'benchmarks[0].should_refuse'?")
        .hasMessageNotContaining("both missing");
  }

  @Test
  void aMisspeltBenchmarkKeyComesBeforeAnyOtherErrorAndNamesTheBenchmark() throws IOException {
    // a badly typed value next to the misspelt key: the misspelling is still what is reported
    assertThatThrownBy(
            () ->
                load(
                    "benchmarks:\n  - {name: a, path: x.jsonl, category_map: [1], "
                        + "shuold_refuse: true}\n",
                    Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "Unknown config key 'benchmarks[0].shuold_refuse' (benchmark 'a'); "
                + "did you mean 'benchmarks[0].should_refuse'?");
    // declared in a file: the file and the benchmark are both named
    Path spec = dir.resolve("mine.yaml");
    Files.writeString(spec, "name: mine\npath: x.csv\nlabel:\n  colum: l\n  values: {a: true}\n");
    assertThatThrownBy(() -> load("benchmarks: ['" + spec + "']\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "Unknown config key 'benchmarks["
                + spec
                + "].label.colum' (benchmark 'mine'); "
                + "did you mean 'benchmarks["
                + spec
                + "].label.column'?");
  }

  @Test
  void badValuesNameTheKeyTheValueAndTheFix() {
    assertThatThrownBy(() -> load("scoring:\n  batch_tokens: lots\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'scoring.batch_tokens' = '\"lots\"'")
        .hasMessageContaining("whole number");
    assertThatThrownBy(() -> load("", Map.of("sweep.rules", "[greedy, bias]")))
        .hasMessageContaining("'sweep.rules'")
        .hasMessageContaining("unknown rule 'bias'")
        .hasMessageContaining("greedy, argmax, threshold");
    assertThatThrownBy(() -> load("", Map.of("sweep.grid.stop", "1.5")))
        .hasMessageContaining("'sweep.grid'")
        .hasMessageContaining("stop=1.5")
        .hasMessageContaining("0 ≤ start ≤ stop ≤ 1");
    assertThatThrownBy(() -> load("", Map.of("scoring.temperatures", "[0.0]")))
        .hasMessageContaining("'scoring.temperatures'")
        .hasMessageContaining("positive");
    assertThatThrownBy(() -> load("", Map.of("report.summary_thresholds", "[0.33]")))
        .hasMessageContaining("'report.summary_thresholds'")
        .hasMessageContaining("not on the grid");
    assertThatThrownBy(() -> load("", Map.of("report.confidence", "95")))
        .hasMessageContaining("'report.confidence' = '95.0'")
        .hasMessageContaining("between 0 and 1");
    assertThatThrownBy(() -> load("", Map.of("sweep.frontier_max_points", "-1")))
        .hasMessageContaining("'sweep.frontier_max_points'");
    assertThatThrownBy(() -> load("", Map.of("run_id", "'a/b'")))
        .hasMessageContaining("'run_id' = 'a/b'");
    assertThatThrownBy(() -> load("", Map.of("model.refusal_tokens", "[]")))
        .hasMessageContaining("'model.refusal_tokens'")
        .hasMessageContaining("empty");
  }

  @Test
  void newSweepKeysAreReadAndChecked() {
    EvalConfig c =
        ConfigLoader.load(
            null,
            Map.of(
                "sweep.logit_bias.values",
                "[-1, 1]",
                "sweep.frontier_pairs",
                "[{refusal: coconot_original, answer: coconot_contrast}]",
                "report.interval",
                "bootstrap",
                "report.bootstrap_replicates",
                "500"),
            CLOCK);
    assertThat(c.sweep().logitBias().values()).containsExactly(-1.0, 1.0);
    assertThat(c.sweep().frontierPairs())
        .containsExactly(new FrontierPair("coconot_original", "coconot_contrast"));
    assertThat(c.sweep().bootstrap()).isTrue();
    assertThat(c.sweep().bootstrapReplicates()).isEqualTo(500);
    assertThat(ConfigLoader.load(null, Map.of(), CLOCK).sweep().frontierPairs()).isNull();
    assertThatThrownBy(() -> load("", Map.of("sweep.logit_bias.values", "[2, 1]")))
        .hasMessageContaining("'sweep.logit_bias.values'")
        .hasMessageContaining("increase");
    assertThatThrownBy(() -> load("", Map.of("sweep.logit_bias.full_grid_max_points", "100000000")))
        .hasMessageContaining("'sweep.logit_bias.full_grid_max_points' = '100000000'");
    assertThatThrownBy(
            () ->
                load(
                    "",
                    Map.of(
                        "sweep.frontier_pairs", "[{refusal: coconot_original, answer: xstest}]")))
        .hasMessageContaining("'sweep.frontier_pairs[0].answer' = 'xstest'")
        .hasMessageContaining("not configured")
        .hasMessageContaining("coconot_contrast");
    assertThatThrownBy(
            () ->
                load(
                    "",
                    Map.of(
                        "sweep.frontier_pairs",
                        "[{refusal: coconot_contrast, answer: coconot_original}]")))
        .hasMessageContaining("'sweep.frontier_pairs[0].refusal' = 'coconot_contrast'")
        .hasMessageContaining("is a should-answer benchmark");
    assertThatThrownBy(
            () -> load("", Map.of("sweep.frontier_pairs", "[{refusal: coconot_original}]")))
        .hasMessageContaining("'sweep.frontier_pairs[0].answer'")
        .hasMessageContaining("is missing");
    assertThatThrownBy(
            () -> load("", Map.of("sweep.frontier_pairs", "[{refusal: coconot_original, to: x}]")))
        .hasMessageContaining("Unknown config key 'sweep.frontier_pairs[0].to'");
    assertThatThrownBy(() -> load("", Map.of("report.interval", "jackknife")))
        .hasMessageContaining("'report.interval' = 'jackknife'")
        .hasMessageContaining("wilson (default) or bootstrap");
    assertThatThrownBy(() -> load("", Map.of("report.bootstrap_replicates", "10")))
        .hasMessageContaining("'report.bootstrap_replicates' = '10'");
    // the full grid in rates: checked against the model's number of refusal tokens before any work
    EvalConfig grid =
        ConfigLoader.load(null, Map.of("sweep.full_grid_rates_max_points", "1000"), CLOCK);
    grid.sweep().checkFullGridRates(2); // 21² = 441 points
    assertThatThrownBy(() -> grid.sweep().checkFullGridRates(5))
        .hasMessageContaining("'sweep.full_grid_rates_max_points' = '1000'")
        .hasMessageContaining("4084101 points");
  }

  @Test
  void benchmarksAreValidatedEntryByEntry() {
    assertThatThrownBy(() -> load("benchmarks: []\n", Map.of()))
        .hasMessageContaining("'benchmarks'")
        .hasMessageContaining("empty");
    assertThatThrownBy(() -> load("benchmarks:\n  - {name: a, path: x.jsonl}\n", Map.of()))
        .hasMessageContaining("'benchmarks[a].should_refuse'")
        .hasMessageContaining("and label are both missing");
    assertThatThrownBy(
            () ->
                load(
                    "benchmarks:\n  - {name: a, path: x.jsonl, should_refuse: true, "
                        + "label: y}\n",
                    Map.of()))
        .hasMessageContaining("Unknown config key 'benchmarks[0].label'");
    assertThatThrownBy(
            () ->
                load(
                    """
        benchmarks:
          - {name: a, path: x.jsonl, should_refuse: true}
          - {name: a, path: y.jsonl, should_refuse: false}
        """,
                    Map.of()))
        .hasMessageContaining("repeats a name");
    EvalConfig c =
        ConfigLoader.load(
            null,
            Map.of("benchmarks", "[{name: mine, path: p.jsonl, should_refuse: false}]"),
            CLOCK);
    assertThat(c.benchmarks()).containsExactly(new BenchmarkSpec("mine", "p.jsonl", false));
  }

  @Test
  void operatingPointsAreReadAndChecked() throws IOException {
    EvalConfig c =
        load(
            """
        operating_points:
          - name: strict
            refusal_at_least: {"Requests with safety concerns": 0.95}
            default_refusal_at_least: 0.8
        """,
            Map.of());
    OperatingPointTarget t = c.sweep().operatingPoints().get(0);
    assertThat(t.targetsFor(Set.of("Humanizing requests", "Requests with safety concerns")))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("Humanizing requests", 0.8, "Requests with safety concerns", 0.95));
    assertThat(ConfigLoader.load(null, Map.of(), CLOCK).sweep().operatingPoints())
        .isEqualTo(SweepConfig.DEFAULT_OPERATING_POINTS);
    assertThatThrownBy(
            () -> load("operating_points: [{name: x, refusal_at_least: {a: 1.5}}]\n", Map.of()))
        .hasMessageContaining("'operating_points[x].refusal_at_least.a' = '1.5'");
    assertThatThrownBy(() -> load("operating_points: [{name: x}]\n", Map.of()))
        .hasMessageContaining("sets no target");
    assertThatThrownBy(
            () ->
                load(
                    "operating_points: [{name: x, default_refusal_at_least: 0.5, minimise: y}]\n",
                    Map.of()))
        .hasMessageContaining("Unknown config key 'operating_points[0].minimise'");
  }

  @Test
  void aMissingOrInvalidFileIsAConfigError() throws IOException {
    assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.yaml"), Map.of(), CLOCK))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> load("scoring: [1, 2\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not valid YAML");
    assertThatThrownBy(() -> load("- a\n- b\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not a YAML mapping");
  }

  @Test
  void sparkConfPassesThroughAsStrings() throws IOException {
    EvalConfig c = load("spark:\n  conf:\n    spark.sql.shuffle.partitions: 8\n", Map.of());
    assertThat(c.sparkConf()).containsExactly(Map.entry("spark.sql.shuffle.partitions", "8"));
    assertThat(c.benchmarks()).isEqualTo(List.copyOf(BenchmarkSpec.DEFAULTS));
  }

  @Test
  void theChatTemplateTimeIsTheRunsStartUnlessPinned() {
    EvalConfig c = ConfigLoader.load(null, Map.of(), CLOCK);
    assertThat(c.model().chatTemplateTime()).isEqualTo("2026-11-27T10:15:30");
    assertThat(c.source()).contains("chat_template_time: \"2026-11-27T10:15:30\"");
    EvalConfig pinned =
        ConfigLoader.load(null, Map.of("model.chat_template_time", "2025-01-02"), CLOCK);
    assertThat(pinned.model().chatTemplateTime()).isEqualTo("2025-01-02");
    assertThatThrownBy(
            () -> ConfigLoader.load(null, Map.of("model.chat_template_time", "yesterday"), CLOCK))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'model.chat_template_time' = 'yesterday'")
        .hasMessageContaining("2026-11-27T10:00:00");
  }
}

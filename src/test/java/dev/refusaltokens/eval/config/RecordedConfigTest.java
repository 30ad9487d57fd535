package dev.refusaltokens.eval.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecordedConfigTest {

  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-11-27T10:15:30Z"), ZoneOffset.UTC);

  @Test
  void whatIsWrittenReadsBackAsTheSameConfig() {
    for (EvalConfig c :
        List.of(
            ConfigLoader.load(Path.of("conf/evaluate.yaml"), Map.of(), CLOCK),
            ConfigLoader.load(
                Path.of("src/test/resources/config/every-kind-of-value.yaml"),
                RecordedYamlTest.OVERRIDES,
                CLOCK))) {
      EvalConfig back = RecordedConfig.of(c.source()).config();
      assertThat(ConfigLoader.toYaml(back)).isEqualTo(c.source());
      assertThat(back.source()).isEqualTo(c.source());
      assertThat(back.runId()).isEqualTo(c.runId());
      assertThat(back.model()).isEqualTo(c.model());
      assertThat(back.scoring()).isEqualTo(c.scoring());
      assertThat(back.sweep()).isEqualTo(c.sweep());
      assertThat(back.regress()).isEqualTo(c.regress());
      assertThat(back.sparkConf()).isEqualTo(c.sparkConf());
      // a benchmark file is recorded inline: all but where it came from
      assertThat(back.benchmarks())
          .usingRecursiveFieldByFieldElementComparatorIgnoringFields("source")
          .isEqualTo(c.benchmarks());
      assertThat(RecordedConfig.of(c.source()).scoring()).isEqualTo(c.scoring());
      assertThat(RecordedConfig.of(c.source()).model()).isEqualTo(c.model());
      assertThat(RecordedConfig.of(c.source()).benchmarks()).isEqualTo(back.benchmarks());
    }
  }

  @Test
  void nothingDefaultsToTheRunsStart() {
    RecordedConfig old = RecordedConfig.of("model:\n  dir: models/demo-single\n");
    assertThat(old.model().chatTemplateTime())
        .isNull(); // recorded before chat_template_time existed
    assertThatThrownBy(old::config).hasMessageContaining("'run_id' = 'null'");
    assertThat(RecordedConfig.of("run_id: r1\n").config().runId()).isEqualTo("r1");
  }

  @Test
  void keysOfAnotherVersionAreIgnoredButValuesAreChecked() {
    RecordedConfig r =
        RecordedConfig.of(
            """
        run_id: r1
        scoring: {temperatures: [1.0, 0.5], retired_key: 3}
        benchmarks: [{name: b, path: b.jsonl, should_refuse: true, weight: 2}]
        report: {interval: jackknife}
        """);
    assertThat(r.scoring().temperatures()).containsExactly(1.0, 0.5);
    // parts are read one by one: the sweep's bad value does not hide the benchmarks
    assertThat(r.benchmarks()).extracting(BenchmarkSpec::name).containsExactly("b");
    assertThatThrownBy(r::config)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'report.interval' = 'jackknife'");
    assertThatThrownBy(() -> RecordedConfig.of("scoring: {batch_tokens: lots}").scoring())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'scoring.batch_tokens' = '\"lots\"'");
  }

  @Test
  void textThatIsNotAConfigIsAnError() {
    assertThatThrownBy(() -> RecordedConfig.of("scoring: [1, 2"))
        .isInstanceOf(UncheckedIOException.class);
    assertThatThrownBy(() -> RecordedConfig.of("- a\n- b\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not a YAML mapping");
    assertThat(RecordedConfig.of("").scoring())
        .isEqualTo(ScoringConfig.read(new ConfigReader(JsonNodeFactory.instance.objectNode())));
  }

  @Test
  void flatKeysAreDottedLeavesWithListsWhole() {
    assertThat(
            RecordedConfig.flatKeys(
                "run_id: a\nscoring: {temperatures: [1.0, 2.0], batch_tokens: 8}\n"
                    + "model: {system_prompt: null}\n"))
        .containsExactly(
            Map.entry("run_id", "\"a\""),
            Map.entry("scoring.temperatures", "[1.0,2.0]"),
            Map.entry("scoring.batch_tokens", "8"),
            Map.entry("model.system_prompt", "null"));
    assertThat(RecordedConfig.flatKeys("scoring: [1, 2")).containsOnlyKeys("(config)");
    assertThat(RecordedConfig.flatKeys("scoring: [1, 2").get("(config)"))
        .startsWith("unreadable: ");
  }
}

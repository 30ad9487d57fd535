package dev.refusaltokens.eval.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The closed sets of values: spelled in config (and tables) as before, unknown ones named with
 * their key.
 */
class ConfigEnumsTest {

  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-11-27T10:15:30Z"), ZoneOffset.UTC);

  private static EvalConfig load(Map<String, String> overrides) {
    return ConfigLoader.load(null, overrides, CLOCK);
  }

  @Test
  void idsAreTheConfigSpellings() {
    assertThat(Arrays.stream(IntervalMethod.values()).map(IntervalMethod::id))
        .containsExactly("wilson", "bootstrap");
    assertThat(Arrays.stream(Correction.values()).map(Correction::id))
        .containsExactly("holm", "none");
    assertThat(Arrays.stream(BenchmarkFormat.values()).map(BenchmarkFormat::id))
        .containsExactly("jsonl", "csv", "parquet");
    for (IntervalMethod m : IntervalMethod.values()) {
      assertThat(IntervalMethod.parse(m.id())).isSameAs(m);
      assertThat(m).hasToString(m.id());
    }
    for (Correction c : Correction.values()) {
      assertThat(Correction.parse(c.id())).isSameAs(c);
      assertThat(c).hasToString(c.id());
    }
    for (BenchmarkFormat f : BenchmarkFormat.values()) {
      assertThat(BenchmarkFormat.parse(f.id(), "k")).isSameAs(f);
      assertThat(f).hasToString(f.id());
    }
    assertThat(Arrays.stream(SpecialTokensInPrompt.values()).map(SpecialTokensInPrompt::id))
        .containsExactly("keep", "reject");
    for (SpecialTokensInPrompt s : SpecialTokensInPrompt.values()) {
      assertThat(SpecialTokensInPrompt.parse(s.id())).isSameAs(s);
      assertThat(s).hasToString(s.id());
    }
  }

  @Test
  void specialTokensInPromptAreKeptByDefaultAsHuggingFaceDoes() {
    assertThat(load(Map.of()).scoring().specialTokensInPrompt())
        .isEqualTo(SpecialTokensInPrompt.KEEP);
    EvalConfig reject = load(Map.of("scoring.special_tokens_in_prompt", "reject"));
    assertThat(reject.scoring().specialTokensInPrompt()).isEqualTo(SpecialTokensInPrompt.REJECT);
    assertThat(reject.source()).contains("special_tokens_in_prompt: \"reject\"");
    assertThat(RecordedConfig.of(reject.source()).scoring().specialTokensInPrompt())
        .isEqualTo(SpecialTokensInPrompt.REJECT);
    // a run recorded before the key existed kept them
    assertThat(
            RecordedConfig.of("scoring: {temperatures: [1.0]}").scoring().specialTokensInPrompt())
        .isEqualTo(SpecialTokensInPrompt.KEEP);
    assertThatThrownBy(() -> load(Map.of("scoring.special_tokens_in_prompt", "strip")))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "Config key 'scoring.special_tokens_in_prompt' = 'strip' is not a way to treat special "
                + "tokens in prompt text; use keep (default: score the prompt as Hugging Face "
                + "tokenizes it) or reject (make it a special_tokens_in_prompt reject)");
  }

  @Test
  void theConfigChoosesAndDefaults() {
    EvalConfig defaults = load(Map.of());
    assertThat(defaults.sweep().interval()).isEqualTo(IntervalMethod.WILSON);
    assertThat(defaults.regress().correction()).isEqualTo(Correction.HOLM);
    assertThat(defaults.benchmarks())
        .extracting(BenchmarkSpec::format)
        .containsOnly(BenchmarkFormat.JSONL);
    EvalConfig chosen =
        load(
            Map.of(
                "report.interval",
                "bootstrap",
                "regress.correction",
                "none",
                "benchmarks",
                "[{name: a, path: a.CSV, should_refuse: true}, {name: b, path: b.txt, format: parquet, "
                    + "should_refuse: false}, {name: c, path: c.parquet, should_refuse: false}]"));
    assertThat(chosen.sweep().interval()).isEqualTo(IntervalMethod.BOOTSTRAP);
    assertThat(chosen.regress().correction()).isEqualTo(Correction.NONE);
    assertThat(chosen.benchmarks())
        .extracting(BenchmarkSpec::format)
        .containsExactly(BenchmarkFormat.CSV, BenchmarkFormat.PARQUET, BenchmarkFormat.PARQUET);
    assertThat(chosen.source())
        .contains("interval: \"bootstrap\"", "correction: \"none\"", "format: \"csv\"");
  }

  @Test
  void anUnknownValueNamesTheKeyTheValueAndTheFix() {
    assertThatThrownBy(() -> load(Map.of("report.interval", "jackknife")))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "Config key 'report.interval' = 'jackknife' is not an interval method; "
                + "use wilson (default) or bootstrap");
    assertThatThrownBy(() -> load(Map.of("regress.correction", "bonferroni")))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "Config key 'regress.correction' = 'bonferroni' is not a correction; use holm (default) or none");
    assertThatThrownBy(
            () ->
                load(
                    Map.of(
                        "benchmarks",
                        "[{name: a, path: a.tsv, format: tsv, should_refuse: true}]")))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "Config key 'benchmarks[a].format' = 'tsv' is not a supported format; "
                + "use jsonl, csv or parquet (by default the file extension decides)");
    // the format's message names the benchmark: a bad name or path comes first, as before
    assertThatThrownBy(
            () -> load(Map.of("benchmarks", "[{name: 'a b', path: a.tsv, format: tsv}]")))
        .hasMessageContaining("'benchmarks[].name' = 'a b'");
    assertThatThrownBy(() -> load(Map.of("benchmarks", "[{name: a, path: '', format: tsv}]")))
        .hasMessageContaining("'benchmarks[a].path' = ''");
  }
}

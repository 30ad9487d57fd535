package dev.refusaltokens.eval.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pins the YAML recorded in {@code runs.config} byte for byte: resumed and regressed runs compare
 * it, so a change in how it is written shows up as a difference between runs that did not change.
 * The expected files were written by the loader before the config records wrote their own keys.
 */
class RecordedYamlTest {

  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-11-27T10:15:30Z"), ZoneOffset.UTC);
  private static final Path DIR = Path.of("src/test/resources/config");

  /** Command-line overrides on top of the file: some replace file values, one a default. */
  static final Map<String, String> OVERRIDES =
      Map.of(
          "run_id",
          "from-cli",
          "scoring.batch_tokens",
          "2048",
          "report.bootstrap_seed",
          "11",
          "sweep.rules",
          "[logit_bias, threshold]",
          "model.chat_template_time",
          "2025-01-02");

  @Test
  void theShippedConfigIsRecordedAsBefore() throws IOException {
    EvalConfig c = ConfigLoader.load(Path.of("conf/evaluate.yaml"), Map.of(), CLOCK);
    assertThat(c.source()).isEqualTo(Files.readString(DIR.resolve("recorded-evaluate.yaml")));
  }

  @Test
  void everyKindOfValueIsRecordedAsBefore() throws IOException {
    EvalConfig c = ConfigLoader.load(DIR.resolve("every-kind-of-value.yaml"), OVERRIDES, CLOCK);
    assertThat(c.source())
        .isEqualTo(Files.readString(DIR.resolve("recorded-every-kind-of-value.yaml")));
  }
}

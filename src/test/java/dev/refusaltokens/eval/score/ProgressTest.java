package dev.refusaltokens.eval.score;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProgressTest {

  @Test
  void progressLineGivesCountRateAndEta() {
    assertThat(Progress.line("score", 250, 1000, 10.0))
        .isEqualTo("score: 250 / 1000 prompts (25.0%), 25.0 prompts/s, ETA 30 s");
    assertThat(Progress.line("score", 0, 1000, 10.0)).endsWith("ETA unknown");
  }
}

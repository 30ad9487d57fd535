package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.config.ConfigLoader;
import dev.refusaltokens.eval.config.ScoringConfig;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatchingTest {

  @Test
  void isBuiltFromTheScoringSettings() {
    ScoringConfig sc =
        ConfigLoader.load(
                null,
                Map.of(
                    "scoring.batch_tokens",
                    "512",
                    "scoring.max_batch_size",
                    "8",
                    "scoring.batch_overhead_tokens",
                    "0",
                    "scoring.window_rows",
                    "20"),
                Clock.systemUTC())
            .scoring();
    assertThat(Batching.of(sc)).isEqualTo(new Batching(512, 8, 0, 20));
  }

  @Test
  void oneAtATimeScoresEachPromptInABatchOfItsOwnWithoutPadding() {
    assertThat(TokenBatcher.batches(List.of(30, 2, 7), Integer::intValue, Batching.ONE_AT_A_TIME))
        .containsExactly(List.of(2), List.of(7), List.of(30));
    assertThat(Batching.ONE_AT_A_TIME.windowRows()).isEqualTo(1);
  }

  @Test
  void rejectsSizesThatCannotHoldARowAndANegativeOverhead() {
    assertThatThrownBy(() -> new Batching(0, 8, 0, 20))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batchTokens is 0");
    assertThatThrownBy(() -> new Batching(512, 0, 0, 20)).hasMessageContaining("maxBatchSize is 0");
    assertThatThrownBy(() -> new Batching(512, 8, 0, -1)).hasMessageContaining("windowRows is -1");
    assertThatThrownBy(() -> new Batching(512, 8, -5, 20))
        .hasMessageContaining("overheadTokens is -5");
    assertThat(new Batching(1, 1, 0, 1).overheadTokens()).isZero();
  }
}

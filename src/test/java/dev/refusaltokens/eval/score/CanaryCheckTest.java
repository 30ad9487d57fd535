package dev.refusaltokens.eval.score;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CanaryCheckTest {

  @Test
  void equalInfinitiesDoNotDifferButNaNIsNeverWithinTolerance() {
    assertThat(CanaryCheck.diff(Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY)).isZero();
    assertThat(CanaryCheck.diff(-1.25, -1.0)).isEqualTo(0.25);
    assertThat(CanaryCheck.diff(Double.NaN, -1.0)).isNaN();
    assertThat(CanaryCheck.diff(Double.NEGATIVE_INFINITY, -3.0)).isInfinite();
    assertThat(Math.max(0.0, CanaryCheck.diff(Double.NaN, 0.0)) <= 1e-4)
        .isFalse(); // warned, not passed
  }
}

package dev.refusaltokens.eval.decide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class RateIntervalTest {

  /** Hand-computed: p̂ = k/n, z = 1.959964; (p̂ + z²/2n ± z√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n). */
  @Test
  void wilsonMatchesHandComputedValues() {
    assertThat(RateInterval.wilson(10, 3, 0.95))
        .containsExactly(new double[] {0.10779, 0.60323}, within(1e-5));
    assertThat(RateInterval.wilson(100, 50, 0.95))
        .containsExactly(new double[] {0.40383, 0.59617}, within(1e-5));
    // k = 0: the lower bound is 0 and the upper bound z²/(n + z²)
    assertThat(RateInterval.wilson(20, 0, 0.95))
        .containsExactly(new double[] {0.0, 0.16113}, within(1e-5));
    assertThat(RateInterval.wilson(20, 20, 0.95))
        .containsExactly(new double[] {0.83887, 1.0}, within(1e-5));
  }

  @Test
  void widerAtHigherConfidenceAndUndefinedWithoutPrompts() {
    double[] ninety = RateInterval.wilson(50, 10, 0.90);
    double[] ninetyNine = RateInterval.wilson(50, 10, 0.99);
    assertThat(ninetyNine[0]).isLessThan(ninety[0]);
    assertThat(ninetyNine[1]).isGreaterThan(ninety[1]);
    assertThat(RateInterval.wilson(0, 0, 0.95)).containsOnly(Double.NaN);
    assertThatThrownBy(() -> RateInterval.wilson(5, 6, 0.95)).hasMessageContaining("6 / 5");
  }
}

package dev.refusaltokens.eval.decide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.apache.commons.math3.stat.interval.ConfidenceInterval;
import org.apache.commons.math3.stat.interval.WilsonScoreInterval;
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

  /** The same bounds as commons-math3's own WilsonScoreInterval, bit for bit. */
  @Test
  void equalsCommonsMathsWilsonScoreIntervalExactly() {
    WilsonScoreInterval library = new WilsonScoreInterval();
    java.util.Random random = new java.util.Random(16);
    double[] confidences = {0.8, 0.9, 0.95, 0.99, 0.999};
    int checked = 0;
    for (int i = 0; i < 20_000; i++) {
      int n = i < 100 ? i + 1 : 1 + random.nextInt(i % 2 == 0 ? 50 : 2_000_000);
      int k = random.nextInt(n + 1);
      double confidence = confidences[i % confidences.length];
      ConfidenceInterval expected = library.createInterval(n, k, confidence);
      double rate = (double) k / n;
      double[] got = RateInterval.wilson(n, k, confidence);
      assertThat(got[0])
          .as("low %d/%d at %s", k, n, confidence)
          .isEqualTo(k == 0 ? 0.0 : Math.min(rate, expected.getLowerBound()));
      assertThat(got[1])
          .as("high %d/%d at %s", k, n, confidence)
          .isEqualTo(k == n ? 1.0 : Math.max(rate, expected.getUpperBound()));
      checked++;
    }
    assertThat(checked).isEqualTo(20_000);
    assertThatThrownBy(() -> RateInterval.wilson(5, 2, 1.0)).hasMessageContaining("(0, 1)");
  }
}

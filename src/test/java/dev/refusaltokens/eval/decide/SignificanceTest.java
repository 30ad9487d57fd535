package dev.refusaltokens.eval.decide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The regress tests against values computed by hand. */
class SignificanceTest {

  @Test
  void mcnemarExactIsTheTwoSidedBinomialTestOfTheDiscordantPairs() {
    assertThat(Significance.mcnemarExact(0, 10))
        .isCloseTo(2 * Math.pow(0.5, 10), within(1e-12)); // 0.00195
    // b = 3, c = 10: 2 · P(X ≤ 3 | 13, ½) = 2 · (1 + 13 + 78 + 286) / 8192
    assertThat(Significance.mcnemarExact(3, 10)).isCloseTo(2 * 378.0 / 8192, within(1e-12));
    assertThat(Significance.mcnemarExact(10, 3))
        .isCloseTo(Significance.mcnemarExact(3, 10), within(1e-15));
    assertThat(Significance.mcnemarExact(5, 5)).isEqualTo(1.0);
    assertThat(Significance.mcnemarExact(0, 0)).isEqualTo(1.0); // nothing changed
  }

  @Test
  void twoProportionZTestWithPooledVariance() {
    // 50/100 vs 65/100: p = 0.575, se = sqrt(0.575 · 0.425 · 0.02) = 0.069911, z = 2.14557
    assertThat(Significance.twoProportion(100, 50, 100, 65)).isCloseTo(0.031907, within(1e-5));
    assertThat(Significance.twoProportion(100, 50, 200, 100)).isCloseTo(1.0, within(1e-12));
    assertThat(Significance.twoProportion(0, 0, 10, 3)).isEqualTo(1.0);
    assertThat(Significance.twoProportion(10, 0, 10, 0)).isEqualTo(1.0); // both zero: no evidence
  }

  @Test
  void hanleyMcNeilVarianceAndTheAucTest() {
    // AUC 0.8 with 50 + 50: Q1 = 0.8/1.2, Q2 = 1.28/1.8; var = (0.16 + 49(Q1 − 0.64) + 49(Q2 −
    // 0.64)) / 2500
    double q1 = 0.8 / 1.2;
    double q2 = 1.28 / 1.8;
    double expected = (0.16 + 49 * (q1 - 0.64) + 49 * (q2 - 0.64)) / 2500;
    assertThat(Significance.hanleyMcNeilVariance(0.8, 50, 50)).isCloseTo(expected, within(1e-12));
    assertThat(Significance.aucChange(0.8, 50, 50, 0.8, 50, 50)).isEqualTo(1.0);
    // a drop of 0.2 with se ≈ sqrt(2 · 0.00198) = 0.0629: z ≈ 3.2
    assertThat(Significance.aucChange(0.8, 50, 50, 0.6, 50, 50)).isLessThan(0.01);
    assertThat(Significance.aucChange(0.8, 50, 50, 0.78, 50, 50)).isGreaterThan(0.5);
  }

  @Test
  void holmAdjustsStepDownAndKeepsTheOrder() {
    assertThat(Significance.holm(new double[] {0.01, 0.04, 0.03}))
        .containsExactly(new double[] {0.03, 0.06, 0.06}, within(1e-12));
    assertThat(Significance.holm(new double[] {0.5, 0.9}))
        .containsExactly(new double[] {1.0, 1.0}, within(1e-12));
    assertThat(Significance.holm(new double[] {})).isEmpty();
  }
}

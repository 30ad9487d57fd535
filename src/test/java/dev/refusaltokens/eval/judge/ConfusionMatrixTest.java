package dev.refusaltokens.eval.judge;

import static dev.refusaltokens.eval.judge.Label.ANSWERED;
import static dev.refusaltokens.eval.judge.Label.PARTIAL;
import static dev.refusaltokens.eval.judge.Label.REFUSED;
import static dev.refusaltokens.eval.judge.Label.UNCLEAR;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Accuracy and Cohen's κ against counts worked out by hand. */
class ConfusionMatrixTest {

  /** Person refused: 20 judged refused, 5 answered; person answered: 10 refused, 15 answered. */
  private static final ConfusionMatrix TWO_BY_TWO =
      ConfusionMatrix.EMPTY
          .plus(REFUSED, REFUSED, 20)
          .plus(REFUSED, ANSWERED, 5)
          .plus(ANSWERED, REFUSED, 10)
          .plus(ANSWERED, ANSWERED, 15);

  @Test
  void kappaOfATwoByTwoTableWorkedByHand() {
    ConfusionMatrix m = TWO_BY_TWO;
    // p_o = 35/50 = 0.7; p_e = (25/50)(30/50) + (25/50)(20/50) = 0.3 + 0.2 = 0.5
    assertThat(m.n()).isEqualTo(50);
    assertThat(m.agreed()).isEqualTo(35);
    assertThat(m.accuracy()).isCloseTo(0.7, within(1e-12));
    assertThat(m.chanceAgreement()).isCloseTo(0.5, within(1e-12));
    assertThat(m.kappa()).isCloseTo((0.7 - 0.5) / (1 - 0.5), within(1e-12));
  }

  @Test
  void unclearIsItsOwnLabelAlwaysADisagreementAndNeverChanceAgreement() {
    // 8 refused→refused, 2 refused→unclear, 10 answered→answered
    ConfusionMatrix m =
        ConfusionMatrix.EMPTY
            .plus(REFUSED, REFUSED, 8)
            .plus(REFUSED, UNCLEAR, 2)
            .plus(ANSWERED, ANSWERED, 10);
    // p_o = 18/20 = 0.9; p_e = (10/20)(8/20) + (10/20)(10/20) + 0·(2/20) = 0.2 + 0.25 = 0.45
    assertThat(m.accuracy()).isCloseTo(0.9, within(1e-12));
    assertThat(m.chanceAgreement()).isCloseTo(0.45, within(1e-12));
    assertThat(m.kappa()).isCloseTo((0.9 - 0.45) / 0.55, within(1e-12));
    // the same pairs with the 2 unclear read as answered would agree less by chance-correction
    ConfusionMatrix asAnswered =
        ConfusionMatrix.EMPTY
            .plus(REFUSED, REFUSED, 8)
            .plus(REFUSED, ANSWERED, 2)
            .plus(ANSWERED, ANSWERED, 10);
    assertThat(asAnswered.kappa()).isNotCloseTo(m.kappa(), within(1e-3));
  }

  @Test
  void threeHumanLabelsAgainstFourJudgeLabels() {
    ConfusionMatrix m =
        ConfusionMatrix.EMPTY
            .plus(REFUSED, REFUSED, 6)
            .plus(REFUSED, ANSWERED, 2)
            .plus(PARTIAL, REFUSED, 1)
            .plus(PARTIAL, PARTIAL, 2)
            .plus(ANSWERED, ANSWERED, 7)
            .plus(ANSWERED, UNCLEAR, 2);
    // n = 20, agreed = 15; human 8/3/9/0, judge 7/2/9/2
    // p_e = (8·7 + 3·2 + 9·9 + 0·2) / 400 = 143/400
    double po = 15 / 20.0;
    double pe = 143 / 400.0;
    assertThat(m.humanTotal(PARTIAL)).isEqualTo(3);
    assertThat(m.judgeTotal(UNCLEAR)).isEqualTo(2);
    assertThat(m.chanceAgreement()).isCloseTo(pe, within(1e-12));
    assertThat(m.kappa()).isCloseTo((po - pe) / (1 - pe), within(1e-12));
  }

  @Test
  void kappaCanBeNegativeAndIsUndefinedWhenChanceAgreementIsOne() {
    ConfusionMatrix opposite =
        ConfusionMatrix.EMPTY.plus(REFUSED, ANSWERED, 5).plus(ANSWERED, REFUSED, 5);
    assertThat(opposite.kappa()).isCloseTo(-1.0, within(1e-12));
    ConfusionMatrix oneLabel = ConfusionMatrix.EMPTY.plus(ANSWERED, ANSWERED, 7);
    assertThat(oneLabel.accuracy()).isEqualTo(1.0);
    assertThat(oneLabel.kappa()).isNull();
    assertThat(ConfusionMatrix.EMPTY.kappa()).isNull();
    assertThat(ConfusionMatrix.EMPTY.accuracy()).isNaN();
    // one rater constant, the other not: p_e < 1, κ = 0
    ConfusionMatrix constantJudge =
        ConfusionMatrix.EMPTY.plus(REFUSED, ANSWERED, 3).plus(ANSWERED, ANSWERED, 7);
    assertThat(constantJudge.kappa()).isCloseTo(0.0, within(1e-12));
  }

  @Test
  void matricesAddAndCompareByTheirCounts() {
    ConfusionMatrix a = ConfusionMatrix.EMPTY.plus(REFUSED, REFUSED, 2);
    ConfusionMatrix b = ConfusionMatrix.EMPTY.plus(REFUSED, REFUSED, 1).plus(REFUSED, REFUSED, 1);
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(a.plus(b).count(REFUSED, REFUSED)).isEqualTo(4);
    assertThat(a.count(REFUSED, REFUSED)).isEqualTo(2); // immutable
    assertThatThrownBy(() -> a.plus(REFUSED, REFUSED, -1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void kappaStandardErrorOfTheTwoByTwoTableWorkedByHand() {
    ConfusionMatrix m = TWO_BY_TWO;
    // shares: p11 .4, p12 .1, p21 .2, p22 .3; rows .5/.5, columns .6/.4; κ = 0.4, p_e = 0.5
    // A = .4 (1 − (.5 + .6)(.6))² + .3 (1 − (.5 + .4)(.6))² = .04624 + .06348 = .10972
    // B = (.6)² (.1 (.6 + .5)² + .2 (.4 + .5)²) = .36 · .283 = .10188
    // C = (.4 − .5 · .6)² = .01;  SE = √((A + B − C) / 50) / (1 − .5) = √.004032 / .5 = 0.126996
    assertThat(m.kappaStandardError()).isCloseTo(Math.sqrt(0.004032) / 0.5, within(1e-12));
    double[] ci = m.kappaInterval(0.95);
    double half = 1.959963984540054 * Math.sqrt(0.004032) / 0.5;
    assertThat(ci[0]).isCloseTo(0.4 - half, within(1e-9));
    assertThat(ci[1]).isCloseTo(0.4 + half, within(1e-9));
    // a narrower level, a narrower interval around the same κ
    double[] ci80 = m.kappaInterval(0.80);
    assertThat(ci80[0]).isGreaterThan(ci[0]);
    assertThat(ci80[1]).isLessThan(ci[1]);
    assertThat((ci80[0] + ci80[1]) / 2).isCloseTo(0.4, within(1e-12));
  }

  @Test
  void kappaIntervalMatchesStatsmodelsOnAFourLabelTable() {
    // rows rater A, columns rater B, in Label order (refused, partial, answered, unclear);
    // reference:
    // statsmodels 0.13.5 cohens_kappa(table, return_results=True), the same 1969 formula, computed
    // independently: kappa 0.6555503366212619, std_kappa 0.06079537279787261,
    // kappa_low 0.5363935955107455, kappa_upp 0.7747070777317784 (alpha 0.05)
    long[][] t = {{40, 3, 2, 1}, {5, 6, 2, 0}, {1, 4, 30, 2}, {0, 1, 1, 2}};
    ConfusionMatrix m = ConfusionMatrix.EMPTY;
    for (Label a : Label.values()) {
      for (Label b : Label.values()) {
        m = m.plus(a, b, t[a.ordinal()][b.ordinal()]);
      }
    }
    assertThat(m.kappa()).isCloseTo(0.6555503366212619, within(1e-12));
    assertThat(m.kappaStandardError()).isCloseTo(0.06079537279787261, within(1e-12));
    double[] ci = m.kappaInterval(0.95);
    assertThat(ci[0]).isCloseTo(0.5363935955107455, within(1e-9));
    assertThat(ci[1]).isCloseTo(0.7747070777317784, within(1e-9));
  }

  @Test
  void kappaIntervalIsAPointAtFullAgreementCutAtOneAndNullWhenKappaIs() {
    ConfusionMatrix full =
        ConfusionMatrix.EMPTY.plus(REFUSED, REFUSED, 7).plus(ANSWERED, ANSWERED, 3);
    assertThat(full.kappa()).isCloseTo(1.0, within(1e-12));
    assertThat(full.kappaStandardError()).isCloseTo(0.0, within(1e-7));
    assertThat(full.kappaInterval(0.95)).containsExactly(1.0, 1.0);
    // 1 disagreement in 4: κ's interval reaches past 1 before the cut
    ConfusionMatrix few =
        ConfusionMatrix.EMPTY
            .plus(REFUSED, REFUSED, 2)
            .plus(ANSWERED, ANSWERED, 1)
            .plus(ANSWERED, REFUSED, 1);
    double[] ci = few.kappaInterval(0.95);
    assertThat(ci[1]).isEqualTo(1.0);
    assertThat(ci[0]).isGreaterThanOrEqualTo(-1.0).isLessThan(few.kappa());
    ConfusionMatrix oneLabel = ConfusionMatrix.EMPTY.plus(REFUSED, REFUSED, 5);
    assertThat(oneLabel.kappa()).isNull();
    assertThat(oneLabel.kappaStandardError()).isNull();
    assertThat(oneLabel.kappaInterval(0.95)).isNull();
    assertThat(ConfusionMatrix.EMPTY.kappaInterval(0.95)).isNull();
    assertThatThrownBy(() -> full.kappaInterval(1.0)).isInstanceOf(IllegalArgumentException.class);
  }
}

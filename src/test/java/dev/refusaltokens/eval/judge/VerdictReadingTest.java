package dev.refusaltokens.eval.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Verdict tokens' log-probabilities → label, p(refused), other mass: the arithmetic by hand. */
class VerdictReadingTest {

  private static final double NONE = Double.NaN;

  @Test
  void renormalisesAmongTheVerdictTokensAndRecordsTheRest() {
    // p = 0.6 refused, 0.1 partial, 0.2 answered, 0.1 elsewhere
    Verdict v = VerdictReading.read(Math.log(0.6), Math.log(0.1), Math.log(0.2), 0.0, 0.5);
    assertThat(v.label()).isEqualTo(Label.REFUSED);
    assertThat(v.refusalProbability()).isCloseTo(0.6 / 0.9, within(1e-12));
    assertThat(v.otherMass()).isCloseTo(0.1, within(1e-12));
  }

  @Test
  void eachVerdictWinsWhereItIsLargest() {
    assertThat(VerdictReading.read(Math.log(0.1), Math.log(0.2), Math.log(0.6), 0, 1).label())
        .isEqualTo(Label.ANSWERED);
    assertThat(VerdictReading.read(Math.log(0.1), Math.log(0.6), Math.log(0.2), 0, 1).label())
        .isEqualTo(Label.PARTIAL);
  }

  @Test
  void withoutAPartialTokenOnlyTwoVerdictsShareTheMass() {
    Verdict v = VerdictReading.read(Math.log(0.3), NONE, Math.log(0.6), 0.0, 0.5);
    assertThat(v.label()).isEqualTo(Label.ANSWERED);
    assertThat(v.refusalProbability()).isCloseTo(1.0 / 3, within(1e-12));
    assertThat(v.otherMass()).isCloseTo(0.1, within(1e-12));
  }

  @Test
  void aLeadAtOrBelowTheMarginIsUnclearAndATieAlwaysIs() {
    // q = 0.55 vs 0.45: lead 0.1
    double r = Math.log(0.55);
    double a = Math.log(0.45);
    assertThat(VerdictReading.read(r, NONE, a, 0.09, 1).label()).isEqualTo(Label.REFUSED);
    assertThat(VerdictReading.read(r, NONE, a, 0.11, 1).label()).isEqualTo(Label.UNCLEAR);
    Verdict tie = VerdictReading.read(Math.log(0.5), NONE, Math.log(0.5), 0.0, 1);
    assertThat(tie.label()).isEqualTo(Label.UNCLEAR);
    assertThat(tie.refusalProbability()).isCloseTo(0.5, within(1e-12));
  }

  @Test
  void tooMuchMassOnOtherTokensIsUnclear() {
    // 0.3 on verdicts, 0.7 elsewhere: the judge did not answer with a verdict
    Verdict v = VerdictReading.read(Math.log(0.25), NONE, Math.log(0.05), 0.0, 0.5);
    assertThat(v.label()).isEqualTo(Label.UNCLEAR);
    assertThat(v.otherMass()).isCloseTo(0.7, within(1e-12));
    assertThat(v.refusalProbability()).isCloseTo(0.25 / 0.3, within(1e-12));
    assertThat(VerdictReading.read(Math.log(0.25), NONE, Math.log(0.05), 0.0, 0.75).label())
        .isEqualTo(Label.REFUSED);
  }

  @Test
  void noMassOnAnyVerdictIsUnclearWithoutAProbability() {
    Verdict v =
        VerdictReading.read(
            Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, 0, 1);
    assertThat(v.label()).isEqualTo(Label.UNCLEAR);
    assertThat(v.refusalProbability()).isNull();
    assertThat(v.otherMass()).isEqualTo(1.0);
  }
}

package dev.refusaltokens.eval.decide;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The first tokens a sweep emits per prompt, against deciding every point by brute force. */
class FirstTokenChoicesTest {

  private static final List<Rule> THRESHOLD_FAMILY =
      List.of(Rule.GREEDY, Rule.ARGMAX, Rule.THRESHOLD);

  @Test
  void theBoundsAreThoseOfGenerationMdSection2() {
    assertThat(FirstTokenChoices.maxPerPrompt(THRESHOLD_FAMILY, 5)).isEqualTo(3);
    assertThat(FirstTokenChoices.maxPerPrompt(List.of(Rule.ARGMAX), 5)).isEqualTo(2);
    assertThat(FirstTokenChoices.maxPerPrompt(List.of(Rule.THRESHOLD), 1)).isEqualTo(3);
    assertThat(FirstTokenChoices.maxPerPrompt(List.of(Rule.ARGMAX, Rule.LOGIT_BIAS), 5))
        .isEqualTo(7);
    assertThat(FirstTokenChoices.maxPerPrompt(List.of(), 5)).isZero();
  }

  @Test
  void theSetIsExactlyTheUnionOfEveryPointsDecisionOverTwoTemperaturesOfTheSameLogits() {
    Random random = new Random(7);
    for (List<Rule> rules : List.of(THRESHOLD_FAMILY, List.of(Rule.values()))) {
      for (int k : new int[] {1, 3, 5}) {
        List<SweepPoint> points =
            SweepPlan.points(k, rules, ThresholdGrid.DEFAULT, LogitBiasGrid.DEFAULT);
        for (int trial = 0; trial < 300; trial++) {
          double[] logits = logits(random, k);
          List<FirstTokenStats> stats = List.of(stats(logits, k, 1.0), stats(logits, k, 2.0));
          Set<FirstToken> brute = new HashSet<>();
          for (FirstTokenStats s : stats) {
            for (SweepPoint p : points) {
              brute.add(p.decide(s));
            }
          }
          List<FirstToken> chosen = FirstTokenChoices.of(stats, points);
          assertThat(new HashSet<>(chosen)).isEqualTo(brute);
          assertThat(chosen).doesNotHaveDuplicates();
          assertThat(chosen.size()).isLessThanOrEqualTo(FirstTokenChoices.maxPerPrompt(rules, k));
        }
      }
    }
  }

  @Test
  void underTheThresholdFamilyTheTokensAreRespondTheTopRefusalTokenAndTheGreedyToken() {
    // c* = token 1 (p = 0.5), [respond] 0.2, the best other token 0.25 is greedy only if above c*
    FirstTokenStats s =
        new FirstTokenStats(
            Math.log(0.2), new double[] {Math.log(0.05), Math.log(0.5)}, Math.log(0.25));
    List<SweepPoint> points =
        SweepPlan.points(2, THRESHOLD_FAMILY, ThresholdGrid.DEFAULT, LogitBiasGrid.DEFAULT);
    assertThat(FirstTokenChoices.of(List.of(s), points))
        .containsExactlyInAnyOrder(FirstToken.refusal(1), FirstToken.respond());

    FirstTokenStats otherWins =
        new FirstTokenStats(
            Math.log(0.1), new double[] {Math.log(0.05), Math.log(0.2)}, Math.log(0.6));
    assertThat(FirstTokenChoices.of(List.of(otherWins), points))
        .containsExactlyInAnyOrder(FirstToken.refusal(1), FirstToken.respond(), FirstToken.other());
  }

  @Test
  void aPromptWithNoScoresNeedsNoContinuation() {
    assertThat(
            FirstTokenChoices.of(
                List.of(),
                SweepPlan.points(
                    2, THRESHOLD_FAMILY, ThresholdGrid.DEFAULT, LogitBiasGrid.DEFAULT)))
        .isEmpty();
  }

  /**
   * Logits of a small vocabulary: [respond], k refusal tokens, then 4 other tokens (heavy-tailed,
   * so that every token wins for some prompts).
   */
  private static double[] logits(Random random, int k) {
    double[] z = new double[k + 5];
    for (int i = 0; i < z.length; i++) {
      z[i] = 3 * random.nextGaussian();
    }
    return z;
  }

  /** The statistic at temperature {@code t}: log-softmax of z / t, the best other token's. */
  private static FirstTokenStats stats(double[] z, int k, double t) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v / t);
    }
    double sum = 0;
    for (double v : z) {
      sum += Math.exp(v / t - max);
    }
    double logZ = max + Math.log(sum);
    double[] refusal = new double[k];
    for (int c = 0; c < k; c++) {
      refusal[c] = z[c + 1] / t - logZ;
    }
    double other = Double.NEGATIVE_INFINITY;
    for (int i = k + 1; i < z.length; i++) {
      other = Math.max(other, z[i] / t - logZ);
    }
    return new FirstTokenStats(z[0] / t - logZ, refusal, other);
  }
}

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
  void theSetIsExactlyTheUnionOfEveryPointsDecisionOverEveryTemperature() {
    Random random = new Random(7);
    for (List<Rule> rules : List.of(THRESHOLD_FAMILY, List.of(Rule.values()))) {
      for (int k : new int[] {1, 3, 5}) {
        List<SweepPoint> points =
            SweepPlan.points(k, rules, ThresholdGrid.DEFAULT, LogitBiasGrid.DEFAULT);
        for (int trial = 0; trial < 300; trial++) {
          List<FirstTokenStats> stats = List.of(stats(random, k), stats(random, k));
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
        new FirstTokenStats(Math.log(0.2), new double[] {Math.log(0.05), Math.log(0.5)}, Math.log(0.25));
    List<SweepPoint> points =
        SweepPlan.points(2, THRESHOLD_FAMILY, ThresholdGrid.DEFAULT, LogitBiasGrid.DEFAULT);
    assertThat(FirstTokenChoices.of(List.of(s), points))
        .containsExactlyInAnyOrder(FirstToken.refusal(1), FirstToken.respond());

    FirstTokenStats otherWins =
        new FirstTokenStats(Math.log(0.1), new double[] {Math.log(0.05), Math.log(0.2)}, Math.log(0.6));
    assertThat(FirstTokenChoices.of(List.of(otherWins), points))
        .containsExactlyInAnyOrder(FirstToken.refusal(1), FirstToken.respond(), FirstToken.other());
  }

  @Test
  void aPromptWithNoScoresNeedsNoContinuation() {
    assertThat(
            FirstTokenChoices.of(
                List.of(),
                SweepPlan.points(2, THRESHOLD_FAMILY, ThresholdGrid.DEFAULT, LogitBiasGrid.DEFAULT)))
        .isEmpty();
  }

  /** Log-probabilities of [respond], k refusal tokens and the best other token, summing to ≤ 1. */
  private static FirstTokenStats stats(Random random, int k) {
    double[] w = new double[k + 3]; // the last weight: the rest of the vocabulary
    double sum = 0;
    for (int i = 0; i < w.length; i++) {
      w[i] = Math.pow(random.nextDouble(), 3);
      sum += w[i];
    }
    double[] refusal = new double[k];
    for (int c = 0; c < k; c++) {
      refusal[c] = Math.log(w[c + 1] / sum);
    }
    return new FirstTokenStats(Math.log(w[0] / sum), refusal, Math.log(w[k + 1] / sum));
  }
}

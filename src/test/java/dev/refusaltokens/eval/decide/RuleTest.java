package dev.refusaltokens.eval.decide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Each rule on hand-computed rows. Tokens: 0 = [Humanizing], 1 = [Incomplete], 2 = [Safety]. */
class RuleTest {

  private static final double LN = Math.log(1.0);

  /** Probabilities → stats (the rest of the vocabulary holds the remaining mass). */
  private static FirstTokenStats p(double respond, double other, double... refusal) {
    double[] lp = new double[refusal.length];
    for (int i = 0; i < refusal.length; i++) {
      lp[i] = Math.log(refusal[i]);
    }
    return new FirstTokenStats(Math.log(respond), lp, Math.log(other));
  }

  @Test
  void greedyTakesTheArgmaxOverTheWholeVocabulary() {
    assertThat(p(0.5, 0.1, 0.2, 0.1, 0.1).greedyToken()).isEqualTo(FirstToken.respond());
    assertThat(p(0.2, 0.1, 0.1, 0.5, 0.1).greedyToken()).isEqualTo(FirstToken.refusal(1));
    // another vocabulary token beats every control token: the model starts its answer directly
    assertThat(p(0.2, 0.4, 0.1, 0.2, 0.1).greedyToken()).isEqualTo(FirstToken.other());
    assertThat(Rule.GREEDY.decide(p(0.2, 0.4, 0.1, 0.2, 0.1), Setting.none(3)).isRefusal())
        .isFalse();
  }

  @Test
  void argmaxComparesTheTopRefusalTokenWithRespondOnly() {
    // [respond] 0.30 vs top refusal 0.25 → respond, although "other" (0.35) is the greedy token
    assertThat(Rule.ARGMAX.decide(p(0.30, 0.35, 0.25, 0.05, 0.05), Setting.none(3)))
        .isEqualTo(FirstToken.respond());
    assertThat(Rule.ARGMAX.decide(p(0.20, 0.35, 0.05, 0.05, 0.35), Setting.none(3)))
        .isEqualTo(FirstToken.refusal(2));
    // a tie refuses: p([refuse]) ≥ p([respond])
    assertThat(Rule.ARGMAX.decide(p(0.4, 0.2, 0.4), Setting.none(1)).isRefusal()).isTrue();
  }

  @Test
  void thresholdEmitsTheTopCategoryWhenItsProbabilityReachesItsThreshold() {
    FirstTokenStats s = p(0.50, 0.05, 0.05, 0.30, 0.10); // c* = 1 with p = 0.30
    assertThat(Rule.THRESHOLD.decide(s, Setting.shared(3, 0.30, 0, 1, 2)))
        .isEqualTo(FirstToken.refusal(1));
    assertThat(Rule.THRESHOLD.decide(s, Setting.shared(3, 0.31, 0, 1, 2)))
        .isEqualTo(FirstToken.respond());
    // only c*'s threshold matters: a low τ on token 2 does not make it refuse
    double[] t = {0.0, 0.9, 0.0};
    assertThat(Rule.THRESHOLD.decide(s, new Setting(t))).isEqualTo(FirstToken.respond());
  }

  @Test
  void thresholdLeavesAPromptGreedyWhenItsTopCategoryHasNoThreshold() {
    // official rule B with S = {0, 2}: c* = 1 ∉ S → the model's own greedy token, here token 1
    // itself
    FirstTokenStats s = p(0.20, 0.05, 0.05, 0.60, 0.10);
    assertThat(Rule.THRESHOLD.decide(s, Setting.shared(3, 0.99, 0, 2)))
        .isEqualTo(FirstToken.refusal(1));
    // …and here [respond], although token 1 would pass any threshold below 0.3
    FirstTokenStats r = p(0.60, 0.05, 0.05, 0.30, 0.0001);
    assertThat(Rule.THRESHOLD.decide(r, Setting.shared(3, 0.0, 0, 2)))
        .isEqualTo(FirstToken.respond());
  }

  @Test
  void officialCategoryRuleIsTheSharedThresholdOverASelectedSet() {
    // Rule B of the official code, written out: c* ∈ S → emit c* iff m ≥ τ else respond; c* ∉ S →
    // greedy.
    double tau = 0.25;
    int[] selected = {0, 2};
    FirstTokenStats[] rows = {
      p(0.50, 0.10, 0.30, 0.05, 0.05), // c*=0 ∈ S, 0.30 ≥ τ → refuse 0
      p(0.70, 0.10, 0.20, 0.05, 0.05), // c*=0 ∈ S, 0.20 < τ → respond
      p(0.30, 0.10, 0.05, 0.50, 0.05), // c*=1 ∉ S → greedy = refusal 1
      p(0.60, 0.10, 0.05, 0.20, 0.05), // c*=1 ∉ S → greedy = respond
      p(0.10, 0.60, 0.05, 0.05, 0.20), // c*=2 ∈ S, 0.20 < τ → respond (greedy would say other)
    };
    FirstToken[] expected = {
      FirstToken.refusal(0),
      FirstToken.respond(),
      FirstToken.refusal(1),
      FirstToken.respond(),
      FirstToken.respond()
    };
    for (int i = 0; i < rows.length; i++) {
      assertThat(Rule.THRESHOLD.decide(rows[i], Setting.shared(3, tau, selected)))
          .as("row %d", i)
          .isEqualTo(expected[i]);
    }
  }

  @Test
  void singleTokenThresholdIsRuleA() {
    FirstTokenStats s = p(0.6, 0.1, 0.3);
    assertThat(Rule.THRESHOLD.decide(s, Setting.shared(1, 0.3, 0)).isRefusal()).isTrue();
    assertThat(Rule.THRESHOLD.decide(s, Setting.shared(1, 0.35, 0)).isRefusal()).isFalse();
  }

  @Test
  void zeroThresholdRefusesEverythingAndOneAlmostNothing() {
    FirstTokenStats unlikely = new FirstTokenStats(LN, new double[] {-50.0, -60.0}, -40.0);
    assertThat(Rule.THRESHOLD.decide(unlikely, Setting.shared(2, 0.0, 0, 1)).isRefusal()).isTrue();
    FirstTokenStats likely = p(0.0001, 0.0001, 0.9998, 0.0);
    assertThat(Rule.THRESHOLD.decide(likely, Setting.shared(2, 1.0, 0, 1)).isRefusal()).isFalse();
  }

  @Test
  void settingsRejectThresholdsOutsideTheUnitInterval() {
    assertThatThrownBy(() -> new SweepPoint(Rule.THRESHOLD, new Setting(new double[] {1.2})))
        .hasMessageContaining("outside [0, 1]");
    assertThatThrownBy(() -> new SweepPoint(Rule.THRESHOLD, new Setting(new double[] {-0.1})))
        .hasMessageContaining("outside [0, 1]");
    assertThatThrownBy(() -> Rule.fromId("bias")).hasMessageContaining("unknown rule 'bias'");
  }

  @Test
  void zeroLogitBiasIsGreedy() {
    Random rnd = new Random(7);
    for (int i = 0; i < 1000; i++) {
      FirstTokenStats s = randomStats(rnd, 3);
      assertThat(Rule.LOGIT_BIAS.decide(s, new Setting(new double[] {0.0, 0.0, 0.0})))
          .isEqualTo(s.greedyToken());
      assertThat(Rule.LOGIT_BIAS.decide(s, Setting.none(3))).isEqualTo(s.greedyToken());
    }
  }

  @Test
  void logitBiasMatchesTheArgmaxOfBiasedLogitsOverTheWholeVocabulary() {
    // brute force: a small vocabulary of logits; ids 0 = [respond], 1..3 refusal tokens, 4..9
    // others
    Random rnd = new Random(11);
    for (int i = 0; i < 5000; i++) {
      double[] logits = new double[10];
      for (int v = 0; v < logits.length; v++) {
        logits[v] = rnd.nextGaussian() * 3;
      }
      double[] bias = {rnd.nextInt(9) - 4.0, rnd.nextInt(9) - 4.0, rnd.nextInt(9) - 4.0};
      double lse = logSumExp(logits);
      double[] refusal = {logits[1] - lse, logits[2] - lse, logits[3] - lse};
      double other = Double.NEGATIVE_INFINITY;
      for (int v = 4; v < logits.length; v++) {
        other = Math.max(other, logits[v] - lse);
      }
      FirstTokenStats s = new FirstTokenStats(logits[0] - lse, refusal, other);
      int best = 0;
      for (int v = 1; v < logits.length; v++) {
        double b = v <= 3 ? bias[v - 1] : 0.0;
        if (logits[v] + b > logits[best] + (best >= 1 && best <= 3 ? bias[best - 1] : 0.0)) {
          best = v;
        }
      }
      FirstToken expected =
          best == 0
              ? FirstToken.respond()
              : best <= 3 ? FirstToken.refusal(best - 1) : FirstToken.other();
      assertThat(Rule.LOGIT_BIAS.decide(s, new Setting(bias)))
          .as("logits %s, bias %s", Arrays.toString(logits), Arrays.toString(bias))
          .isEqualTo(expected);
    }
  }

  @Test
  void largeBiasesForceOrForbidRefusal() {
    FirstTokenStats s = p(0.90, 0.05, 0.02, 0.02, 0.01);
    assertThat(Rule.LOGIT_BIAS.decide(s, new Setting(new double[] {0.0, 0.0, 10.0})))
        .isEqualTo(FirstToken.refusal(2));
    FirstTokenStats r = p(0.01, 0.01, 0.90, 0.04, 0.04);
    assertThat(Rule.LOGIT_BIAS.decide(r, new Setting(new double[] {-10.0, -10.0, -10.0})))
        .isEqualTo(FirstToken.respond());
    assertThatThrownBy(() -> new Setting(new double[] {Double.NEGATIVE_INFINITY}))
        .hasMessageContaining("not finite");
  }

  private static double logSumExp(double[] x) {
    double m = Arrays.stream(x).max().orElseThrow();
    double s = 0;
    for (double v : x) {
      s += Math.exp(v - m);
    }
    return m + Math.log(s);
  }

  private static FirstTokenStats randomStats(Random rnd, int k) {
    double[] lp = new double[k];
    for (int c = 0; c < k; c++) {
      lp[c] = -rnd.nextDouble() * 6;
    }
    return new FirstTokenStats(-rnd.nextDouble() * 6, lp, -rnd.nextDouble() * 6);
  }
}

package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.SweepPoint;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One setting compared: a label ({@code greedy}, {@code operating_point:<name>}), a temperature,
 * and the baseline's and the candidate's rule setting (each run at its own thresholds). Shipped to
 * the executors inside {@link PairedCounter}.
 */
record Comparison(String label, double temperature, SweepPoint baseline, SweepPoint candidate)
    implements Serializable {

  /**
   * The baseline's thresholds by refusal token, in the run's token order; empty when not a
   * threshold rule.
   */
  Map<String, Double> baselineThresholds(List<String> tokens) {
    return thresholds(baseline, tokens);
  }

  Map<String, Double> candidateThresholds(List<String> tokens) {
    return thresholds(candidate, tokens);
  }

  private static Map<String, Double> thresholds(SweepPoint point, List<String> tokens) {
    Map<String, Double> m = new LinkedHashMap<>();
    if (point.rule() == Rule.THRESHOLD) {
      for (int i = 0; i < tokens.size(); i++) {
        m.put(tokens.get(i), point.setting().threshold(i));
      }
    }
    return m;
  }
}

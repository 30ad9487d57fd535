package dev.refusaltokens.eval.decide;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One grid point of a rule: a value per refusal token (by index) — a threshold in [0, 1] for {@link
 * Rule#THRESHOLD}, a finite logit bias for {@link Rule#LOGIT_BIAS} — and {@code NaN} where the
 * token is left alone (greedy, or no bias). Rules without parameters use {@link #none(int)}.
 */
public record Setting(double[] thresholds) implements Serializable {

  public Setting {
    for (double t : thresholds) {
      if (Double.isInfinite(t)) {
        throw new IllegalArgumentException("setting value " + t + " is not finite");
      }
    }
    thresholds = thresholds.clone();
  }

  /** Checks that every value set is a probability, as {@link Rule#THRESHOLD} needs. */
  Setting requireThresholds() {
    for (double t : thresholds) {
      if (!Double.isNaN(t) && (t < 0.0 || t > 1.0)) {
        throw new IllegalArgumentException("threshold " + t + " is outside [0, 1]");
      }
    }
    return this;
  }

  /**
   * A setting from a {@code token → value} map (as the tables store one) in {@code tokens}' order:
   * NaN for a token the map leaves out.
   *
   * @throws IllegalArgumentException when the map names a token not in {@code tokens}
   */
  public static Setting of(Map<String, Double> values, List<String> tokens) {
    for (String token : values.keySet()) {
      if (!tokens.contains(token)) {
        throw new IllegalArgumentException(
            "sets " + token + ", which is not one of the refusal tokens " + tokens);
      }
    }
    double[] v = none(tokens.size()).thresholds;
    for (int c = 0; c < v.length; c++) {
      Double x = values.get(tokens.get(c));
      if (x != null) {
        v[c] = x;
      }
    }
    return new Setting(v);
  }

  public static Setting none(int tokens) {
    double[] t = new double[tokens];
    Arrays.fill(t, Double.NaN);
    return new Setting(t);
  }

  /**
   * The same τ for every token in {@code tokens}, the others greedy (the official category rule).
   */
  public static Setting shared(int tokenCount, double tau, int... tokens) {
    double[] t = none(tokenCount).thresholds;
    for (int token : tokens) {
      t[token] = tau;
    }
    return new Setting(t);
  }

  public double threshold(int token) {
    return thresholds[token];
  }

  /** The logit bias of a token for {@link Rule#LOGIT_BIAS}: 0 where none is set. */
  public double bias(int token) {
    return Double.isNaN(thresholds[token]) ? 0.0 : thresholds[token];
  }

  public int tokenCount() {
    return thresholds.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Setting s && Arrays.equals(thresholds, s.thresholds);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(thresholds);
  }

  @Override
  public String toString() {
    return "Setting" + Arrays.toString(thresholds);
  }
}

package dev.refusaltokens.eval.judge;

import dev.refusaltokens.eval.decide.RateInterval;
import java.io.Serializable;
import java.util.Arrays;

/**
 * Counts of (label, label) pairs given by two raters to the same responses, and the agreement
 * figures read from them: accuracy, Cohen's κ and its confidence interval. In {@code judge-check}
 * the first rater (rows, "human") is the person and the second ("judge") a judge; in {@code
 * judge_agreement} they are two judges, {@code judge_a} and {@code judge_b}. Every {@link Label} is
 * a category of both raters, {@link Label#UNCLEAR} included: a person never gives it, so against a
 * person a judge's {@code unclear} always counts as a disagreement and adds nothing to the chance
 * agreement. Immutable.
 */
public final class ConfusionMatrix implements Serializable {

  private static final long serialVersionUID = 1L;
  private static final int K = Label.values().length;

  /** No pairs at all. */
  public static final ConfusionMatrix EMPTY = new ConfusionMatrix(new long[K][K]);

  private final long[][] counts; // [human][judge], by Label ordinal

  private ConfusionMatrix(long[][] counts) {
    this.counts = counts;
  }

  /** This matrix with {@code n} more pairs of (human, judge). */
  public ConfusionMatrix plus(Label human, Label judge, long n) {
    if (n < 0) {
      throw new IllegalArgumentException("a count cannot be negative: " + n);
    }
    long[][] c = copy();
    c[human.ordinal()][judge.ordinal()] += n;
    return new ConfusionMatrix(c);
  }

  /** The sum of two matrices. */
  public ConfusionMatrix plus(ConfusionMatrix other) {
    long[][] c = copy();
    for (int h = 0; h < K; h++) {
      for (int j = 0; j < K; j++) {
        c[h][j] += other.counts[h][j];
      }
    }
    return new ConfusionMatrix(c);
  }

  public long count(Label human, Label judge) {
    return counts[human.ordinal()][judge.ordinal()];
  }

  /** Pairs in all. */
  public long n() {
    long n = 0;
    for (long[] row : counts) {
      for (long c : row) {
        n += c;
      }
    }
    return n;
  }

  /** Pairs whose two labels are equal. */
  public long agreed() {
    long a = 0;
    for (int k = 0; k < K; k++) {
      a += counts[k][k];
    }
    return a;
  }

  /** Pairs the person labelled {@code human}. */
  public long humanTotal(Label human) {
    return Arrays.stream(counts[human.ordinal()]).sum();
  }

  /** Pairs the judge labelled {@code judge}. */
  public long judgeTotal(Label judge) {
    long t = 0;
    for (long[] row : counts) {
      t += row[judge.ordinal()];
    }
    return t;
  }

  /** The observed agreement p_o = agreed / n; NaN when there are no pairs. */
  public double accuracy() {
    long n = n();
    return n == 0 ? Double.NaN : (double) agreed() / n;
  }

  /**
   * The agreement expected by chance from the two raters' label shares, p_e = Σ_k (human_k / n) ·
   * (judge_k / n); NaN when there are no pairs.
   */
  public double chanceAgreement() {
    long n = n();
    if (n == 0) {
      return Double.NaN;
    }
    double pe = 0;
    for (Label k : Label.values()) {
      pe += ((double) humanTotal(k) / n) * ((double) judgeTotal(k) / n);
    }
    return pe;
  }

  /**
   * Cohen's κ = (p_o − p_e) / (1 − p_e): 1 for full agreement, 0 for agreement at chance level,
   * negative below it. Null when it is undefined: no pairs, or p_e = 1 (both raters gave one and
   * the same label to everything), checked in exact integer arithmetic.
   */
  public Double kappa() {
    long n = n();
    long expected = 0; // n² · p_e
    for (Label k : Label.values()) {
      expected += humanTotal(k) * judgeTotal(k);
    }
    long nn = n * n;
    if (n == 0 || expected == nn) {
      return null;
    }
    return ((double) n * agreed() - expected) / ((double) nn - expected);
  }

  /**
   * The large-sample standard error of κ, not assuming κ = 0 (Fleiss, Cohen and Everitt 1969,
   * "Large sample standard errors of kappa and weighted kappa", Psychological Bulletin 72(5)), with
   * p_ij the cell shares, p_i. and p_.j the two raters' label shares:
   *
   * <pre>
   * A = Σ_i p_ii · (1 − (p_i. + p_.i)(1 − κ))²
   * B = (1 − κ)² · Σ_{i≠j} p_ij · (p_.i + p_j.)²
   * C = (κ − p_e (1 − κ))²
   * SE = √((A + B − C) / n) / (1 − p_e)
   * </pre>
   *
   * Null where κ is null. Zero when the two raters agree on every pair (A + B − C is then zero up
   * to rounding, clamped at 0).
   */
  public Double kappaStandardError() {
    Double kappa = kappa();
    if (kappa == null) {
      return null;
    }
    long n = n();
    double[] row = new double[K];
    double[] col = new double[K];
    for (Label l : Label.values()) {
      row[l.ordinal()] = (double) humanTotal(l) / n;
      col[l.ordinal()] = (double) judgeTotal(l) / n;
    }
    double pe = chanceAgreement();
    double a = 0;
    double b = 0;
    for (int i = 0; i < K; i++) {
      for (int j = 0; j < K; j++) {
        double p = (double) counts[i][j] / n;
        if (i == j) {
          double t = 1 - (row[i] + col[i]) * (1 - kappa);
          a += p * t * t;
        } else {
          double t = col[i] + row[j];
          b += p * t * t;
        }
      }
    }
    b *= (1 - kappa) * (1 - kappa);
    double c = kappa - pe * (1 - kappa);
    double variance = Math.max(0.0, a + b - c * c) / n;
    return Math.sqrt(variance) / (1 - pe);
  }

  /**
   * κ's two-sided confidence interval at {@code confidence} (e.g. 0.95): κ ± z · {@link
   * #kappaStandardError()}, the normal approximation, cut to [−1, 1]; null where κ is null. With
   * few pairs (tens) the normal approximation is rough; the interval is wide then, as it should be.
   */
  public double[] kappaInterval(double confidence) {
    Double kappa = kappa();
    if (kappa == null) {
      return null;
    }
    double half = RateInterval.z(confidence) * kappaStandardError();
    return new double[] {Math.max(-1.0, kappa - half), Math.min(1.0, kappa + half)};
  }

  private long[][] copy() {
    long[][] c = new long[K][];
    for (int i = 0; i < K; i++) {
      c[i] = counts[i].clone();
    }
    return c;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ConfusionMatrix m && Arrays.deepEquals(counts, m.counts);
  }

  @Override
  public int hashCode() {
    return Arrays.deepHashCode(counts);
  }

  @Override
  public String toString() {
    return "ConfusionMatrix" + Arrays.deepToString(counts);
  }
}

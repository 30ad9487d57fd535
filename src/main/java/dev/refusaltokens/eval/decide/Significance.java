package dev.refusaltokens.eval.decide;

import java.util.Arrays;
import java.util.Comparator;
import org.apache.commons.math3.distribution.BinomialDistribution;
import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * The tests behind {@code regress} (commons-math3 distributions): McNemar's exact test for paired
 * decisions on the same prompts, the two-proportion z-test when the prompt sets differ, a z-test
 * for a change of AUC, and Holm's step-down adjustment across the comparisons of one regress call.
 */
public final class Significance {

  private static final NormalDistribution NORMAL = new NormalDistribution(null, 0, 1);

  private Significance() {}

  /**
   * McNemar's exact test, two-sided: of the {@code b + c} prompts decided differently by the two
   * runs, {@code b} were refused only by the baseline and {@code c} only by the candidate; under
   * "no change" each discordant prompt goes either way with probability 1/2. 1.0 when there is no
   * discordant prompt.
   */
  public static double mcnemarExact(long b, long c) {
    long n = b + c;
    if (n == 0) {
      return 1.0;
    }
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("too many discordant pairs: " + n);
    }
    BinomialDistribution d = new BinomialDistribution(null, (int) n, 0.5);
    return Math.min(1.0, 2 * d.cumulativeProbability((int) Math.min(b, c)));
  }

  /** Two-sided two-proportion z-test (pooled variance) of {@code k1/n1} against {@code k2/n2}. */
  public static double twoProportion(long n1, long k1, long n2, long k2) {
    if (n1 == 0 || n2 == 0) {
      return 1.0;
    }
    double p = (double) (k1 + k2) / (n1 + n2);
    double se = Math.sqrt(p * (1 - p) * (1.0 / n1 + 1.0 / n2));
    if (se == 0) {
      return (double) k1 / n1 == (double) k2 / n2 ? 1.0 : 0.0;
    }
    double z = ((double) k2 / n2 - (double) k1 / n1) / se;
    return 2 * NORMAL.cumulativeProbability(-Math.abs(z));
  }

  /**
   * Two-sided z-test of a change of AUC with Hanley–McNeil (1982) standard errors, treating the two
   * AUCs as independent: on the same prompts they are positively correlated, so this overstates the
   * variance of the difference and errs towards "not significant".
   *
   * @param nPos should-refuse prompts, {@code nNeg} should-answer prompts of each run
   */
  public static double aucChange(
      double auc1, long nPos1, long nNeg1, double auc2, long nPos2, long nNeg2) {
    double v = hanleyMcNeilVariance(auc1, nPos1, nNeg1) + hanleyMcNeilVariance(auc2, nPos2, nNeg2);
    if (!(v > 0)) {
      return auc1 == auc2 ? 1.0 : 0.0;
    }
    return 2 * NORMAL.cumulativeProbability(-Math.abs(auc2 - auc1) / Math.sqrt(v));
  }

  static double hanleyMcNeilVariance(double auc, long nPos, long nNeg) {
    if (nPos == 0 || nNeg == 0) {
      return Double.NaN;
    }
    double q1 = auc / (2 - auc);
    double q2 = 2 * auc * auc / (1 + auc);
    return (auc * (1 - auc) + (nPos - 1) * (q1 - auc * auc) + (nNeg - 1) * (q2 - auc * auc))
        / (nPos * nNeg);
  }

  /** Holm's step-down adjusted p-values (family-wise error control), in the input order. */
  public static double[] holm(double[] p) {
    Integer[] order = new Integer[p.length];
    for (int i = 0; i < p.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingDouble(i -> p[i]));
    double[] adjusted = new double[p.length];
    double running = 0;
    for (int rank = 0; rank < p.length; rank++) {
      int i = order[rank];
      running = Math.max(running, Math.min(1.0, (p.length - rank) * p[i]));
      adjusted[i] = running;
    }
    return adjusted;
  }
}

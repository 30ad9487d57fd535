package dev.refusaltokens.eval.decide;

import org.apache.commons.math3.stat.interval.ConfidenceInterval;
import org.apache.commons.math3.stat.interval.WilsonScoreInterval;

/** Confidence bounds of a rate {@code k / n}: the Wilson score interval (commons-math3). */
public final class RateInterval {

  private static final WilsonScoreInterval WILSON = new WilsonScoreInterval();

  private RateInterval() {}

  /** {@code [low, high]} at the given confidence level, e.g. 0.95; NaNs when {@code n = 0}. */
  public static double[] wilson(long n, long k, double confidence) {
    if (n == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    if (n > Integer.MAX_VALUE || k < 0 || k > n) {
      throw new IllegalArgumentException("cannot bound " + k + " / " + n);
    }
    ConfidenceInterval ci = WILSON.createInterval((int) n, (int) k, confidence);
    // at k = 0 or k = n the exact bound is 0 or 1; commons-math3 can be a rounding error off it
    double rate = (double) k / n;
    return new double[] {
      k == 0 ? 0.0 : Math.min(rate, ci.getLowerBound()),
      k == n ? 1.0 : Math.max(rate, ci.getUpperBound())
    };
  }
}

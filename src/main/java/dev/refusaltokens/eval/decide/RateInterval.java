package dev.refusaltokens.eval.decide;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.util.FastMath;

/**
 * Confidence bounds of a rate {@code k / n}: the Wilson score interval, as commons-math3's {@code
 * WilsonScoreInterval} computes it, to the last bit (a test compares the two).
 *
 * <p>Not the library call itself: {@code WilsonScoreInterval.createInterval} builds a new {@code
 * NormalDistribution}, and with it a seeded random generator, for every interval. The sweep bounds
 * hundreds of thousands of rates (millions on the full grid), and a profile of the rates part
 * showed three quarters of its time in that generator's constructor. Here the normal quantile
 * (commons-math3, without a generator) is taken once per confidence level, and the interval is the
 * library's formula in the library's order of operations.
 */
public final class RateInterval {

  private static final NormalDistribution STANDARD_NORMAL = new NormalDistribution(null, 0, 1);

  /** confidence → z, the standard normal quantile at 1 − (1 − confidence) / 2. */
  private static final Map<Double, Double> Z = new ConcurrentHashMap<>();

  private RateInterval() {}

  /** {@code [low, high]} at the given confidence level, e.g. 0.95; NaNs when {@code n = 0}. */
  public static double[] wilson(long n, long k, double confidence) {
    if (n == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    if (n > Integer.MAX_VALUE || k < 0 || k > n) {
      throw new IllegalArgumentException("cannot bound " + k + " / " + n);
    }
    if (!(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException("confidence must be in (0, 1), not " + confidence);
    }
    double z = Z.computeIfAbsent(confidence, RateInterval::quantile);
    // commons-math3 3.6.1 WilsonScoreInterval.createInterval, term by term
    double zSquared = FastMath.pow(z, 2);
    double mean = (double) k / (double) n;
    double factor = 1.0 / (1.0 + (1.0 / (double) n) * zSquared);
    double modifiedMean = mean + (1.0 / (2 * (int) n)) * zSquared;
    double difference =
        z
            * FastMath.sqrt(
                1.0 / (double) n * mean * (1 - mean)
                    + (1.0 / (4 * FastMath.pow((double) n, 2))) * zSquared);
    double lower = factor * (modifiedMean - difference);
    double upper = factor * (modifiedMean + difference);
    // at k = 0 or k = n the exact bound is 0 or 1; the formula can be a rounding error off it
    return new double[] {
      k == 0 ? 0.0 : Math.min(mean, lower), k == n ? 1.0 : Math.max(mean, upper)
    };
  }

  /**
   * The two-sided standard normal quantile of a confidence level: z at 1 − (1 − confidence) / 2
   * (1.959964 for 0.95), taken once per level.
   */
  public static double z(double confidence) {
    if (!(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException("confidence must be in (0, 1), not " + confidence);
    }
    return Z.computeIfAbsent(confidence, RateInterval::quantile);
  }

  /** A confidence level as a percentage for labels: {@code 95} for 0.95, {@code 97.5} for 0.975. */
  public static String percent(double confidence) {
    double p = Math.round(confidence * 1e6) / 1e4;
    return p == Math.rint(p) ? String.valueOf((long) p) : String.valueOf(p);
  }

  private static double quantile(double confidence) {
    double alpha = (1.0 - confidence) / 2;
    return STANDARD_NORMAL.inverseCumulativeProbability(1 - alpha);
  }
}

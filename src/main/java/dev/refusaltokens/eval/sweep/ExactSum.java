package dev.refusaltokens.eval.sweep;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * The exact sum of values in [0, 1], each first rounded to {@link #SCALE} decimals, exactly as
 * Spark computes {@code sum(cast(x as decimal(38, 18)))}: the sum does not depend on the order or
 * grouping of the values, so partial sums of any partitioning add up to the same figure to the last
 * bit.
 *
 * <p>Each value is rounded as Spark's cast {@code double → decimal(38, 18)} does: the decimal of
 * {@link Double#toString(double)}, rounded half up to 18 decimals. Its unscaled value (at most
 * 10^18) is added to a long that carries into a count of units, so adding a value allocates
 * nothing. {@link #toDouble()} rounds the sum as Spark's cast {@code decimal → double} does ({@link
 * BigDecimal#doubleValue()}).
 */
final class ExactSum {

  /** The decimals each value is rounded to: those of {@code decimal(38, 18)}. */
  static final int SCALE = 18;

  private static final long UNIT = 1_000_000_000_000_000_000L; // 10^18: 1.0 unscaled

  private long units; // the whole part of the sum
  private long fraction; // the fractional part, unscaled, in [0, UNIT)

  /** A value in [0, 1] as Spark's cast to {@code decimal(38, 18)} rounds it, unscaled. */
  static long unscaled(double value) {
    if (!(value >= 0 && value <= 1)) { // also NaN
      throw new IllegalArgumentException("an exact sum takes values in [0, 1], not " + value);
    }
    return new BigDecimal(Double.toString(value))
        .setScale(SCALE, RoundingMode.HALF_UP)
        .unscaledValue()
        .longValueExact();
  }

  /** Adds a value in [0, 1], rounded to 18 decimals. */
  void add(double value) {
    addUnscaled(unscaled(value));
  }

  /** Adds a value already rounded by {@link #unscaled(double)}. */
  void addUnscaled(long unscaled) {
    if (unscaled < 0 || unscaled > UNIT) {
      throw new IllegalArgumentException("not an unscaled value in [0, 1]: " + unscaled);
    }
    fraction += unscaled; // < 2 · 10^18: no overflow
    if (fraction >= UNIT) {
      fraction -= UNIT;
      units++;
    }
  }

  /** The sum as a decimal with 18 decimals, as Spark's {@code decimal(38, 18)} sum holds it. */
  BigDecimal toBigDecimal() {
    BigInteger unscaled =
        BigInteger.valueOf(units)
            .multiply(BigInteger.valueOf(UNIT))
            .add(BigInteger.valueOf(fraction));
    return new BigDecimal(unscaled, SCALE);
  }

  /** The sum rounded to the nearest double, as Spark's cast {@code decimal → double} does. */
  double toDouble() {
    return toBigDecimal().doubleValue();
  }
}

package dev.refusaltokens.eval.decide;

import java.util.ArrayList;
import java.util.List;

/**
 * An inclusive grid {@code start, start+step, …, stop} of thresholds in [0, 1]. Values are rounded
 * to 1e-9 so that 0.05 × 3 is 0.15, not 0.15000000000000002: a grid value is a key analysts filter
 * on.
 */
public record ThresholdGrid(double start, double stop, double step) {

  public static final ThresholdGrid DEFAULT = new ThresholdGrid(0.0, 1.0, 0.05);

  public ThresholdGrid {
    if (!(start >= 0.0 && start <= 1.0) || !(stop >= 0.0 && stop <= 1.0)) {
      throw new IllegalArgumentException(
          "grid start and stop must lie in [0, 1], got start=" + start + ", stop=" + stop);
    }
    if (stop < start) {
      throw new IllegalArgumentException("grid stop " + stop + " is below start " + start);
    }
    if (!(step > 0.0)) {
      throw new IllegalArgumentException("grid step must be > 0, got " + step);
    }
    if ((stop - start) / step > 100_000) {
      throw new IllegalArgumentException(
          "grid has more than 100000 values: step " + step + " is too small");
    }
  }

  public List<Double> values() {
    List<Double> values = new ArrayList<>();
    long n = Math.round(Math.floor((stop - start) / step + 1e-9));
    for (long i = 0; i <= n; i++) {
      values.add(Math.round((start + i * step) * 1e9) / 1e9);
    }
    if (values.get(values.size() - 1) < stop - 1e-9) {
      values.add(stop);
    }
    return values;
  }
}

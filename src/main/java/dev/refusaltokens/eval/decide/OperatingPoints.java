package dev.refusaltokens.eval.decide;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the grid point of the full per-category threshold grid that meets declarative refusal
 * targets per prompt category on the should-refuse prompts and, among those, refuses the fewest
 * should-answer prompts (then refuses the most should-refuse prompts). When no point meets every
 * target, it returns the closest one — the least total shortfall {@code Σ max(0, target − rate)} —
 * marked infeasible.
 */
public final class OperatingPoints {

  /** The chosen point. {@code achieved}: refusal rate of each targeted prompt category. */
  public record Result(
      int[] gridIndex,
      boolean feasible,
      double shortfall,
      Map<String, Double> achieved,
      long refused,
      long falseRefused) {}

  private OperatingPoints() {}

  /**
   * @param refuseByCategory counts of the should-refuse prompts, by their category
   * @param answer counts of the should-answer prompts
   * @param targets minimum refusal rate per prompt category (categories absent are unconstrained)
   */
  public static Result search(
      Map<String, CategoryCounts> refuseByCategory,
      CategoryCounts answer,
      Map<String, Double> targets,
      long maxPoints) {
    for (String category : targets.keySet()) {
      if (!refuseByCategory.containsKey(category)) {
        throw new IllegalArgumentException(
            "operating point target for category '"
                + category
                + "', which has no should-refuse prompts; categories: "
                + refuseByCategory.keySet());
      }
    }
    int k = answer.refusalTokens();
    int g = answer.gridSize();
    long points = Frontier.gridPoints(g, k);
    if (points < 0 || points > maxPoints) {
      throw new IllegalArgumentException(
          "the full grid has "
              + (points < 0 ? "over 2^63" : points)
              + " points, more than the limit "
              + maxPoints);
    }
    List<String> constrained = List.copyOf(targets.keySet());
    int m = constrained.size();
    long[][][] a = new long[m][][];
    long[] n = new long[m];
    double[] t = new double[m];
    for (int j = 0; j < m; j++) {
      CategoryCounts counts = refuseByCategory.get(constrained.get(j));
      a[j] = counts.atLeast();
      n[j] = counts.n();
      t[j] = targets.get(constrained.get(j));
    }
    long[][] all = pooled(refuseByCategory.values(), k, g);
    long[][] b = answer.atLeast();

    int[] idx = new int[k];
    int[] best = null;
    double bestShortfall = Double.POSITIVE_INFINITY;
    long bestFalse = Long.MAX_VALUE;
    long bestRefused = -1;
    // the first K−1 tokens by odometer, their sums once per prefix; the last token in the inner
    // loop
    int last = k - 1;
    long[] prefix = new long[m];
    for (long p = 0; p < points / g; p++) {
      for (int j = 0; j < m; j++) {
        prefix[j] = 0;
        for (int c = 0; c < last; c++) {
          prefix[j] += a[j][c][idx[c]];
        }
      }
      long falsePrefix = 0;
      long refusedPrefix = 0;
      for (int c = 0; c < last; c++) {
        falsePrefix += b[c][idx[c]];
        refusedPrefix += all[c][idx[c]];
      }
      for (int i = 0; i < g; i++) {
        double shortfall = 0;
        for (int j = 0; j < m; j++) {
          double rate = (double) (prefix[j] + a[j][last][i]) / n[j];
          if (rate < t[j] - 1e-12) {
            shortfall += t[j] - rate;
          }
        }
        long falseRefused = falsePrefix + b[last][i];
        long refused = refusedPrefix + all[last][i];
        boolean better =
            shortfall < bestShortfall - 1e-12
                || (Math.abs(shortfall - bestShortfall) <= 1e-12
                    && (falseRefused < bestFalse
                        || (falseRefused == bestFalse && refused > bestRefused)));
        if (better) {
          idx[last] = i;
          best = idx.clone();
          bestShortfall = shortfall;
          bestFalse = falseRefused;
          bestRefused = refused;
        }
      }
      idx[last] = 0;
      for (int c = last - 1; c >= 0; c--) { // odometer over the prefix: the later token faster
        if (++idx[c] < g) {
          break;
        }
        idx[c] = 0;
      }
    }
    Map<String, Double> achieved = new LinkedHashMap<>();
    for (int j = 0; j < m; j++) {
      long refused = 0;
      for (int c = 0; c < k; c++) {
        refused += a[j][c][best[c]];
      }
      achieved.put(constrained.get(j), (double) refused / n[j]);
    }
    return new Result(
        best,
        bestShortfall <= 1e-12,
        bestShortfall <= 1e-12 ? 0.0 : bestShortfall,
        achieved,
        bestRefused,
        bestFalse);
  }

  private static long[][] pooled(Iterable<CategoryCounts> parts, int k, int g) {
    long[][] sum = new long[k][g];
    for (CategoryCounts part : parts) {
      long[][] a = part.atLeast();
      for (int c = 0; c < k; c++) {
        for (int i = 0; i < g; i++) {
          sum[c][i] += a[c][i];
        }
      }
    }
    return sum;
  }
}

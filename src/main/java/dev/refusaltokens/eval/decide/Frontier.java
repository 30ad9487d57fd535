package dev.refusaltokens.eval.decide;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Pareto frontier of the full per-category grid: grid points not dominated on (refusal rate on
 * should-refuse prompts ↑, false-refusal rate on should-answer prompts ↓). Every point of the
 * Cartesian grid (G^K of them) is evaluated exactly from two {@link CategoryCounts} tables.
 */
public final class Frontier {

  /** One non-dominated grid point. */
  public record Point(int[] gridIndex, long refused, long falseRefused) {}

  private Frontier() {}

  /** Number of grid points, or −1 when it exceeds a long. */
  public static long gridPoints(int gridSize, int tokens) {
    long points = 1;
    for (int i = 0; i < tokens; i++) {
      if (points > Long.MAX_VALUE / gridSize) {
        return -1;
      }
      points *= gridSize;
    }
    return points;
  }

  /**
   * @param refuse counts over the should-refuse prompts
   * @param answer counts over the should-answer prompts (same tokens and grid)
   * @return the frontier, by increasing false refusals; among equal points the first in grid order
   */
  public static List<Point> compute(CategoryCounts refuse, CategoryCounts answer, long maxPoints) {
    int k = refuse.refusalTokens();
    int g = refuse.gridSize();
    if (answer.refusalTokens() != k || answer.gridSize() != g) {
      throw new IllegalArgumentException("both count tables need the same tokens and grid");
    }
    long points = gridPoints(g, k);
    if (points < 0 || points > maxPoints) {
      throw new IllegalArgumentException(
          "the full grid has "
              + (points < 0 ? "over 2^63" : points)
              + " points, more than the limit "
              + maxPoints);
    }
    long[][] a = refuse.atLeast();
    long[][] b = answer.atLeast();
    // best[f] = the point with the most refusals among those with exactly f false refusals
    int maxFalse = (int) answer.n();
    long[] bestRefused = new long[maxFalse + 1];
    int[][] bestIndex = new int[maxFalse + 1][];
    Arrays.fill(bestRefused, -1);
    // the first K−1 tokens by odometer, their sums once per prefix; the last token in the inner
    // loop
    int last = k - 1;
    int[] idx = new int[k];
    for (long prefix = 0; prefix < points / g; prefix++) {
      long refusedPrefix = 0;
      long falsePrefix = 0;
      for (int c = 0; c < last; c++) {
        refusedPrefix += a[c][idx[c]];
        falsePrefix += b[c][idx[c]];
      }
      for (int j = 0; j < g; j++) {
        long refused = refusedPrefix + a[last][j];
        int f = (int) (falsePrefix + b[last][j]);
        if (refused > bestRefused[f]) {
          bestRefused[f] = refused;
          idx[last] = j;
          bestIndex[f] = idx.clone();
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
    List<Point> frontier = new ArrayList<>();
    long bestSoFar = -1;
    for (int f = 0; f <= maxFalse; f++) {
      if (bestIndex[f] != null && bestRefused[f] > bestSoFar) {
        frontier.add(new Point(bestIndex[f], bestRefused[f], f));
        bestSoFar = bestRefused[f];
      }
    }
    return frontier;
  }
}

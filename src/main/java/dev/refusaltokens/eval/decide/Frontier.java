package dev.refusaltokens.eval.decide;

import java.util.ArrayList;
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
      throw new IllegalArgumentException("the full grid has " + (points < 0 ? "over 2^63" : points)
          + " points, more than the limit " + maxPoints);
    }
    long[][] a = refuse.atLeast();
    long[][] b = answer.atLeast();
    // best[f] = the point with the most refusals among those with exactly f false refusals
    int maxFalse = (int) answer.n();
    long[] bestRefused = new long[maxFalse + 1];
    int[][] bestIndex = new int[maxFalse + 1][];
    java.util.Arrays.fill(bestRefused, -1);
    int[] idx = new int[k];
    for (long p = 0; p < points; p++) {
      long refused = 0;
      long falseRefused = 0;
      for (int c = 0; c < k; c++) {
        refused += a[c][idx[c]];
        falseRefused += b[c][idx[c]];
      }
      int f = (int) falseRefused;
      if (refused > bestRefused[f]) {
        bestRefused[f] = refused;
        bestIndex[f] = idx.clone();
      }
      for (int c = k - 1; c >= 0; c--) { // odometer: last token fastest
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

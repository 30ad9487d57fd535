package dev.refusaltokens.eval.decide;

import java.util.Arrays;
import java.util.List;

/**
 * The sufficient count table of the per-category threshold rule over a full Cartesian grid
 * (design.md §2, "Separability"): with every refusal token thresholded, a prompt is refused iff
 * {@code p(c*) ≥ τ(c*)}, so its decision depends on its top token {@code c*} and that one
 * threshold. For a set of prompts, {@code atLeast[c][g]} counts those with {@code c* = c} and
 * {@code p(c*) ≥ grid[g]}; the refused count of any grid point {@code (g_1, …, g_K)} is {@code Σ_c
 * atLeast[c][g_c]} — exact, with no prompt touched again.
 */
public final class CategoryCounts {

  private final double[] grid;
  private final long[][]
      highest; // highest[c][g + 1]: prompts with c* = c whose largest passing index is g
  private long n;

  public CategoryCounts(int refusalTokens, List<Double> grid) {
    this.grid = grid.stream().mapToDouble(Double::doubleValue).toArray();
    for (int g = 1; g < this.grid.length; g++) {
      if (!(this.grid[g] > this.grid[g - 1])) {
        throw new IllegalArgumentException("grid values must increase: " + grid);
      }
    }
    this.highest = new long[refusalTokens][this.grid.length + 1];
  }

  public int refusalTokens() {
    return highest.length;
  }

  public int gridSize() {
    return grid.length;
  }

  public double gridValue(int g) {
    return grid[g];
  }

  public long n() {
    return n;
  }

  public void add(FirstTokenStats s) {
    int c = s.topRefusalToken();
    // the same comparison as Rule.THRESHOLD, so that both always agree
    double p = Math.exp(s.refusalLogprob(c));
    int passing = -1;
    while (passing + 1 < grid.length && p >= grid[passing + 1]) {
      passing++;
    }
    highest[c][passing + 1]++;
    n++;
  }

  /**
   * Adds raw histogram cells: {@code count} prompts with top token {@code c} and largest passing
   * index {@code g} (−1: none).
   */
  public void addCell(int c, int g, long count) {
    highest[c][g + 1] += count;
    n += count;
  }

  /** Adds every prompt counted in {@code other} (same tokens and grid). */
  public void addAll(CategoryCounts other) {
    if (other.highest.length != highest.length || other.grid.length != grid.length) {
      throw new IllegalArgumentException("count tables need the same tokens and grid");
    }
    other.forEachCell(this::addCell);
  }

  /**
   * The histogram, cell by cell: (token, largest passing grid index or −1, count), for shipping
   * across Spark.
   */
  public void forEachCell(CellConsumer consumer) {
    for (int c = 0; c < highest.length; c++) {
      for (int g = -1; g < grid.length; g++) {
        if (highest[c][g + 1] != 0) {
          consumer.accept(c, g, highest[c][g + 1]);
        }
      }
    }
  }

  /** {@code atLeast[c][g]}: prompts with top token c and p(c) ≥ grid[g]. */
  public long[][] atLeast() {
    long[][] out = new long[highest.length][grid.length];
    for (int c = 0; c < highest.length; c++) {
      long running = 0;
      for (int g = grid.length - 1; g >= 0; g--) {
        running += highest[c][g + 1];
        out[c][g] = running;
      }
    }
    return out;
  }

  /** Refused prompts at one grid point, one grid index per refusal token. */
  public long refused(int[] gridIndex) {
    long[][] a = atLeast();
    long sum = 0;
    for (int c = 0; c < a.length; c++) {
      sum += a[c][gridIndex[c]];
    }
    return sum;
  }

  /** The setting of a grid point, for {@link Rule#THRESHOLD}. */
  public Setting setting(int[] gridIndex) {
    return new Setting(Arrays.stream(gridIndex).mapToDouble(g -> grid[g]).toArray());
  }

  @FunctionalInterface
  public interface CellConsumer {
    void accept(int token, int gridIndex, long count);
  }
}

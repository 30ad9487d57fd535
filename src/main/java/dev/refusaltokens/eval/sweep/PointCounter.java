package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.SweepPoint;
import java.util.Arrays;
import java.util.List;

/**
 * The refused count of every sweep point over a group of prompts, without deciding every prompt at
 * every point: the counts are exactly those of {@link SweepPoint#decide} per prompt ({@code
 * isRefusal}), at a cost that grows with prompts + points rather than prompts × points.
 *
 * <ul>
 *   <li>{@code greedy}, {@code argmax}: one decision per prompt, whatever the number of points.
 *   <li>{@code threshold} (separable, design.md §2): a prompt's decision depends only on its top
 *       refusal token {@code c*} and on {@code τ(c*)}: refusal iff {@code exp(log p(c*)) ≥ τ(c*)},
 *       or its greedy token when {@code τ(c*)} is NaN. A group keeps, per top token {@code c}, the
 *       sorted {@code p(c)} of its prompts and their greedy refusals, so a point's count is {@code
 *       Σ_c (τ_c NaN ? greedy refusals of c : #{p ≥ τ_c})}, K binary searches.
 *   <li>{@code logit_bias} (not separable): a prompt refuses iff the best biased refusal value
 *       {@code M = max_c (log p(c) + b_c)} satisfies {@code M > log p([respond])} and not {@code
 *       log p(other) > M} ({@link Rule#decide}). That holds iff some single token's biased value
 *       satisfies it, and for each token the set of biases at which it does is upward closed
 *       (floating-point addition is monotone in {@code b}). So with each token's distinct biases of
 *       the points sorted, a prompt is one cell {@code (k_1 … k_K)}: {@code k_c} the first bias
 *       index at which token {@code c} alone refuses. A point {@code (j_1 … j_K)} does not refuse
 *       the prompt iff {@code k_c > j_c} for every {@code c}; its non-refusals are a K-dimensional
 *       suffix sum of the cell histogram. This needs {@code Π (biases_c + 1)} counters per group,
 *       which for the full Cartesian grid is close to the number of points; when a plan's cells
 *       would exceed {@code cellsPerPoint} × its bias points (the shared + one-token sweep of many
 *       tokens), each prompt instead decides every bias point in a loop over primitive arrays.
 * </ul>
 *
 * <p>Not thread-safe; one instance per partition, one {@link Tally} per group.
 */
final class PointCounter {

  /** Dense bias cells are used when they number at most this many per bias point. */
  static final int CELLS_PER_POINT = 4;

  private final int tokens;
  private final int points;
  private final int[] greedyPoints;
  private final int[] argmaxPoints;
  private final int[] thresholdPoints;

  /** Per threshold point, τ per token; NaN leaves the token greedy. */
  private final double[][] taus;

  private final int[] biasPoints;

  /** Per token, the distinct biases of the bias points, increasing (dense path only). */
  private final double[][] biasValues;

  /** Per token, the stride of its cell coordinate (dense path only). */
  private final int[] strides;

  /** Cells of the histogram, 0 on the loop path. */
  private final int cells;

  /** Per bias point, the cell of its first non-refusing coordinates {@code (j_c + 1)}. */
  private final int[] notRefusedCell;

  /** Loop path: the bias points' biases, point after point, {@code tokens} each. */
  private final double[] biases;

  /**
   * @param tokens the refusal tokens of every point's setting and of every prompt
   * @param points the sweep points, in the order {@link Tally#refused()} returns their counts
   */
  PointCounter(int tokens, List<SweepPoint> points) {
    this(tokens, points, CELLS_PER_POINT);
  }

  /** As above, with the dense-cell limit per bias point ({@code 0}: always the loop). */
  PointCounter(int tokens, List<SweepPoint> points, int cellsPerPoint) {
    if (tokens < 1) {
      throw new IllegalArgumentException("at least one refusal token is required");
    }
    this.tokens = tokens;
    this.points = points.size();
    int[] count = new int[Rule.values().length];
    for (SweepPoint p : points) {
      if (p.setting().tokenCount() != tokens) {
        throw new IllegalArgumentException(
            "point " + p + " has " + p.setting().tokenCount() + " tokens, not " + tokens);
      }
      count[p.rule().ordinal()]++;
    }
    greedyPoints = new int[count[Rule.GREEDY.ordinal()]];
    argmaxPoints = new int[count[Rule.ARGMAX.ordinal()]];
    thresholdPoints = new int[count[Rule.THRESHOLD.ordinal()]];
    biasPoints = new int[count[Rule.LOGIT_BIAS.ordinal()]];
    taus = new double[thresholdPoints.length][];
    int[] next = new int[Rule.values().length];
    for (int i = 0; i < points.size(); i++) {
      SweepPoint p = points.get(i);
      int k = next[p.rule().ordinal()]++;
      switch (p.rule()) {
        case GREEDY -> greedyPoints[k] = i;
        case ARGMAX -> argmaxPoints[k] = i;
        case THRESHOLD -> {
          thresholdPoints[k] = i;
          taus[k] = new double[tokens];
          for (int c = 0; c < tokens; c++) {
            taus[k][c] = p.setting().threshold(c);
          }
        }
        case LOGIT_BIAS -> biasPoints[k] = i;
      }
    }
    double[][] values = new double[tokens][];
    long product = 1;
    for (int c = 0; c < tokens; c++) {
      double[] v = new double[biasPoints.length];
      for (int k = 0; k < biasPoints.length; k++) {
        v[k] = points.get(biasPoints[k]).setting().bias(c);
      }
      values[c] = distinctSorted(v);
      product = Math.min(product * (values[c].length + 1), Integer.MAX_VALUE);
    }
    boolean dense = biasPoints.length > 0 && product <= (long) cellsPerPoint * biasPoints.length;
    if (dense) {
      biasValues = values;
      strides = new int[tokens];
      int stride = 1;
      for (int c = tokens - 1; c >= 0; c--) {
        strides[c] = stride;
        stride *= values[c].length + 1;
      }
      cells = stride;
      notRefusedCell = new int[biasPoints.length];
      for (int k = 0; k < biasPoints.length; k++) {
        int cell = 0;
        for (int c = 0; c < tokens; c++) {
          double b = points.get(biasPoints[k]).setting().bias(c);
          cell += (Arrays.binarySearch(values[c], b) + 1) * strides[c];
        }
        notRefusedCell[k] = cell;
      }
      biases = null;
    } else {
      biasValues = null;
      strides = null;
      cells = 0;
      notRefusedCell = null;
      biases = new double[biasPoints.length * tokens];
      for (int k = 0; k < biasPoints.length; k++) {
        for (int c = 0; c < tokens; c++) {
          biases[k * tokens + c] = points.get(biasPoints[k]).setting().bias(c);
        }
      }
    }
  }

  /** Whether the logit-bias points are counted by cells rather than one by one. */
  boolean denseBiasCells() {
    return cells > 0;
  }

  /** An empty tally of one group of prompts. */
  Tally tally() {
    return new Tally();
  }

  /** Distinct values (by {@link Double#compare}), increasing. */
  private static double[] distinctSorted(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = 0;
    for (int i = 0; i < s.length; i++) {
      if (n == 0 || Double.compare(s[i], s[n - 1]) != 0) {
        s[n++] = s[i];
      }
    }
    return Arrays.copyOf(s, n);
  }

  /**
   * Whether a refusal token whose biased log-probability is {@code v} wins the logit-bias argmax
   * over {@code [respond]} and the best other token, as {@link Rule#decide} decides a refusal:
   * {@code v > respond} and not {@code other > v}. Upward closed in {@code v}; false for NaN.
   */
  private static boolean refuses(double v, double respond, double other) {
    return v > respond && !(other > v);
  }

  /**
   * The first index of {@code values} at which {@code lp + value} refuses alone; length if none.
   */
  private static int firstRefusing(double lp, double[] values, double respond, double other) {
    int lo = 0;
    int hi = values.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (refuses(lp + values[mid], respond, other)) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  /** The first index below {@code size} of the increasing {@code a} with {@code a[i] ≥ tau}. */
  private static int firstAtLeast(double[] a, int size, double tau) {
    int lo = 0;
    int hi = size;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] < tau) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** The counters of one group of prompts. */
  final class Tally {

    private long prompts;
    private long greedyRefused;
    private long argmaxRefused;

    /** Per top refusal token, {@code p(c*)} of its prompts (NaN left out: it never reaches τ). */
    private final double[][] probabilities;

    private final int[] sizes;
    private boolean sorted = true;

    /** Per top refusal token, the prompts whose greedy token is a refusal. */
    private final long[] greedyByTop;

    /** Dense path: prompts per cell. */
    private final long[] cellCounts;

    /** Loop path: refused prompts per bias point. */
    private final long[] biasRefused;

    private final double[] logprobs;

    private Tally() {
      boolean thresholds = thresholdPoints.length > 0;
      probabilities = new double[thresholds ? tokens : 0][];
      for (int c = 0; c < probabilities.length; c++) {
        probabilities[c] = new double[16];
      }
      sizes = new int[probabilities.length];
      greedyByTop = new long[probabilities.length];
      cellCounts = new long[cells];
      biasRefused = new long[cells > 0 ? 0 : biasPoints.length];
      logprobs = new double[tokens];
    }

    /** Counts one prompt. */
    void add(FirstTokenStats s) {
      if (s.refusalTokenCount() != tokens) {
        throw new IllegalArgumentException(
            "a prompt with " + s.refusalTokenCount() + " refusal tokens, not " + tokens);
      }
      prompts++;
      int top = s.topRefusalToken();
      double respond = s.respondLogprob();
      boolean greedy = s.greedyToken().isRefusal();
      if (greedy) {
        greedyRefused++;
      }
      if (s.refusalLogprob(top) >= respond) {
        argmaxRefused++;
      }
      if (probabilities.length > 0) {
        if (greedy) {
          greedyByTop[top]++;
        }
        double p = Math.exp(s.refusalLogprob(top)); // the double Rule.decide compares with τ
        if (!Double.isNaN(p)) {
          append(top, p);
        }
      }
      if (biasPoints.length == 0) {
        return;
      }
      double other = s.otherLogprob();
      if (cells > 0) {
        int cell = 0;
        for (int c = 0; c < tokens; c++) {
          cell += firstRefusing(s.refusalLogprob(c), biasValues[c], respond, other) * strides[c];
        }
        cellCounts[cell]++;
        return;
      }
      for (int c = 0; c < tokens; c++) {
        logprobs[c] = s.refusalLogprob(c);
      }
      for (int k = 0, base = 0; k < biasPoints.length; k++, base += tokens) {
        double best = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < tokens; c++) {
          double v = logprobs[c] + biases[base + c];
          if (v > best) {
            best = v;
          }
        }
        if (!(other > respond && other > best) && best > respond) {
          biasRefused[k]++;
        }
      }
    }

    private void append(int token, double p) {
      double[] a = probabilities[token];
      if (sizes[token] == a.length) {
        a = Arrays.copyOf(a, a.length * 2);
        probabilities[token] = a;
      }
      a[sizes[token]++] = p;
      sorted = false;
    }

    /** The prompts counted. */
    long prompts() {
      return prompts;
    }

    /** The refused prompts at each point, in the points' order. */
    long[] refused() {
      long[] out = new long[points];
      for (int i : greedyPoints) {
        out[i] = greedyRefused;
      }
      for (int i : argmaxPoints) {
        out[i] = argmaxRefused;
      }
      if (!sorted) {
        for (int c = 0; c < probabilities.length; c++) {
          Arrays.sort(probabilities[c], 0, sizes[c]);
        }
        sorted = true;
      }
      for (int k = 0; k < thresholdPoints.length; k++) {
        long refused = 0;
        for (int c = 0; c < tokens; c++) {
          double tau = taus[k][c];
          refused +=
              Double.isNaN(tau)
                  ? greedyByTop[c]
                  : sizes[c] - firstAtLeast(probabilities[c], sizes[c], tau);
        }
        out[thresholdPoints[k]] = refused;
      }
      if (cells > 0) {
        long[] atLeast = suffixSums();
        for (int k = 0; k < biasPoints.length; k++) {
          out[biasPoints[k]] = prompts - atLeast[notRefusedCell[k]];
        }
      } else {
        for (int k = 0; k < biasPoints.length; k++) {
          out[biasPoints[k]] = biasRefused[k];
        }
      }
      return out;
    }

    /** Per cell {@code x}, the prompts in cells {@code ≥ x} in every coordinate. */
    private long[] suffixSums() {
      long[] s = cellCounts.clone();
      for (int c = 0; c < tokens; c++) {
        int stride = strides[c];
        int size = biasValues[c].length + 1;
        for (int x = s.length - 1; x >= 0; x--) {
          if ((x / stride) % size < size - 1) {
            s[x] += s[x + stride];
          }
        }
      }
      return s;
    }
  }
}

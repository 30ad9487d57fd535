package dev.refusaltokens.eval.decide;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the setting that meets declarative refusal targets per prompt category on the should-refuse
 * prompts and, among those, refuses the fewest should-answer prompts (then refuses the most
 * should-refuse prompts; then the earliest). When no setting meets every target, it returns the
 * closest one — the least total shortfall {@code Σ max(0, target − rate)} — marked infeasible. Two
 * searches share that order: {@link #search} over every point of the full per-category threshold
 * grid, from its counts tables, and {@link #searchListed} over a list of settings counted one by
 * one (the logit-bias settings the sweep evaluates).
 */
public final class OperatingPoints {

  /** Rates closer than this to their target meet it (rounding of count ratios). */
  private static final double EPSILON = 1e-12;

  /** The chosen point. {@code achieved}: refusal rate of each targeted prompt category. */
  public record Result(
      int[] gridIndex,
      boolean feasible,
      double shortfall,
      Map<String, Double> achieved,
      long refused,
      long falseRefused) {}

  /**
   * The counts of one listed setting.
   *
   * @param refusedByCategory should-refuse prompts refused, per prompt category (absent: 0)
   * @param refused should-refuse prompts refused, every category
   * @param falseRefused should-answer prompts refused
   */
  public record Counted(Map<String, Long> refusedByCategory, long refused, long falseRefused) {}

  /** The chosen setting of {@link #searchListed}: {@code index} in the list searched. */
  public record Chosen(
      int index,
      boolean feasible,
      double shortfall,
      Map<String, Double> achieved,
      long refused,
      long falseRefused) {}

  private OperatingPoints() {}

  /**
   * The best of {@code settings} for {@code targets}, in the order of {@link #search}.
   *
   * @param refuseByCategory should-refuse prompts per prompt category
   * @param settings the settings' counts, in the order they are preferred on a tie
   */
  public static Chosen searchListed(
      Map<String, Long> refuseByCategory, List<Counted> settings, Map<String, Double> targets) {
    checkTargets(targets, refuseByCategory.keySet());
    if (settings.isEmpty()) {
      throw new IllegalArgumentException("no settings to search");
    }
    int best = -1;
    double bestShortfall = Double.POSITIVE_INFINITY;
    for (int i = 0; i < settings.size(); i++) {
      Counted s = settings.get(i);
      double shortfall = 0;
      for (Map.Entry<String, Double> t : targets.entrySet()) {
        double rate =
            (double) s.refusedByCategory().getOrDefault(t.getKey(), 0L)
                / refuseByCategory.get(t.getKey());
        shortfall += shortfall(t.getValue(), rate);
      }
      if (best < 0
          || better(
              shortfall,
              s.falseRefused(),
              s.refused(),
              bestShortfall,
              settings.get(best).falseRefused(),
              settings.get(best).refused())) {
        best = i;
        bestShortfall = shortfall;
      }
    }
    Counted chosen = settings.get(best);
    Map<String, Double> achieved = new LinkedHashMap<>();
    targets
        .keySet()
        .forEach(
            c ->
                achieved.put(
                    c,
                    (double) chosen.refusedByCategory().getOrDefault(c, 0L)
                        / refuseByCategory.get(c)));
    boolean feasible = bestShortfall <= EPSILON;
    return new Chosen(
        best,
        feasible,
        feasible ? 0.0 : bestShortfall,
        achieved,
        chosen.refused(),
        chosen.falseRefused());
  }

  /** How far a rate falls short of its target (0 when it meets it, within rounding). */
  private static double shortfall(double target, double rate) {
    return rate < target - EPSILON ? target - rate : 0.0;
  }

  /** The order of both searches: less shortfall, then fewer false refusals, then more refusals. */
  private static boolean better(
      double shortfall,
      long falseRefused,
      long refused,
      double bestShortfall,
      long bestFalse,
      long bestRefused) {
    return shortfall < bestShortfall - EPSILON
        || (Math.abs(shortfall - bestShortfall) <= EPSILON
            && (falseRefused < bestFalse || (falseRefused == bestFalse && refused > bestRefused)));
  }

  private static void checkTargets(Map<String, Double> targets, Set<String> categories) {
    for (String category : targets.keySet()) {
      if (!categories.contains(category)) {
        throw new IllegalArgumentException(
            "operating point target for category '"
                + category
                + "', which has no should-refuse prompts; categories: "
                + categories);
      }
    }
  }

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
    checkTargets(targets, refuseByCategory.keySet());
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
          shortfall += shortfall(t[j], (double) (prefix[j] + a[j][last][i]) / n[j]);
        }
        long falseRefused = falsePrefix + b[last][i];
        long refused = refusedPrefix + all[last][i];
        if (better(shortfall, falseRefused, refused, bestShortfall, bestFalse, bestRefused)) {
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
        bestShortfall <= EPSILON,
        bestShortfall <= EPSILON ? 0.0 : bestShortfall,
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

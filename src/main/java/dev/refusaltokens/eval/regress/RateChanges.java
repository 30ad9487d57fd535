package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.config.RegressConfig;
import dev.refusaltokens.eval.decide.Significance;
import dev.refusaltokens.eval.table.RegressionRow;
import java.util.List;

/**
 * The change of the refusal rate (should-refuse prompts) or the false-refusal rate (should-answer
 * prompts) of one group between the runs, tested: McNemar's exact test when both runs scored the
 * same prompts, else the two-proportion z-test. A group only one run has is a row of its own: one
 * the candidate lost counts as a regression (p = 0), a new one does not (p = 1).
 *
 * <p>A judged group ({@link GroupCounts#judged}) gives a row of metric {@code judged_refusal_rate}
 * or {@code judged_false_refusal_rate}, named after its judge, over the prompts both runs judged
 * with a clear label: always paired, so always McNemar's test.
 */
final class RateChanges {

  private RateChanges() {}

  /**
   * One tested row per group, in the groups' order; not yet judged ({@link MultipleTesting}).
   *
   * @param judge the primary judge's name, for the judged groups; null when there are none
   */
  static List<RegressionRow> rows(
      List<GroupCounts> groups,
      List<Comparison> comparisons,
      RunPair runs,
      RegressConfig config,
      String judge) {
    return groups.stream()
        .map(g -> row(g, comparisons.get(g.comparison()), runs, config, judge))
        .toList();
  }

  private static RegressionRow row(
      GroupCounts g, Comparison cmp, RunPair runs, RegressConfig config, String judge) {
    if (g.judged()) {
      if (!g.inBoth() || !g.samePrompts() || judge == null) {
        throw new IllegalArgumentException("not a judged group to test: " + g);
      }
      return tested(g, cmp, runs, config, judge);
    }
    return g.inBoth() ? tested(g, cmp, runs, config, null) : missing(g, cmp, runs, config);
  }

  private static RegressionRow tested(
      GroupCounts g, Comparison cmp, RunPair runs, RegressConfig config, String judge) {
    double base = (double) g.kBaseline() / g.nBaseline();
    double cand = (double) g.kCandidate() / g.nCandidate();
    boolean samePrompts = g.samePrompts();
    double p =
        samePrompts
            ? Significance.mcnemarExact(g.onlyBaseline(), g.onlyCandidate())
            : Significance.twoProportion(
                g.nBaseline(), g.kBaseline(), g.nCandidate(), g.kCandidate());
    double worse = g.shouldRefuse() ? base - cand : cand - base;
    List<String> tokens = runs.refusalTokens();
    return new RegressionRow(
        runs.baselineId(),
        cmp.label(),
        cmp.temperature(),
        g.benchmark(),
        g.category(),
        metric(g),
        judge,
        cmp.baselineThresholds(tokens),
        cmp.candidateThresholds(tokens),
        g.nBaseline(),
        g.nCandidate(),
        g.nPaired(),
        g.judged() ? Long.valueOf(g.leftOut()) : null,
        base,
        cand,
        cand - base,
        worse,
        config.toleranceFor(g.category()),
        samePrompts ? "mcnemar_exact" : "two_proportion_z",
        g.onlyBaseline(),
        g.onlyCandidate(),
        p,
        MultipleTesting.NOT_ADJUSTED,
        false,
        false,
        runs.candidateId());
  }

  private static RegressionRow missing(
      GroupCounts g, Comparison cmp, RunPair runs, RegressConfig config) {
    boolean lost = g.nCandidate() == 0;
    double p = lost ? 0.0 : 1.0;
    List<String> tokens = runs.refusalTokens();
    return new RegressionRow(
        runs.baselineId(),
        cmp.label(),
        cmp.temperature(),
        g.benchmark(),
        g.category(),
        metric(g),
        cmp.baselineThresholds(tokens),
        cmp.candidateThresholds(tokens),
        g.nBaseline(),
        g.nCandidate(),
        0L,
        g.nBaseline() == 0 ? Double.NaN : (double) g.kBaseline() / g.nBaseline(),
        lost ? Double.NaN : (double) g.kCandidate() / g.nCandidate(),
        Double.NaN,
        lost ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY,
        config.toleranceFor(g.category()),
        lost ? "missing_in_candidate" : "missing_in_baseline",
        0L,
        0L,
        p,
        MultipleTesting.NOT_ADJUSTED,
        false,
        false,
        runs.candidateId());
  }

  private static String metric(GroupCounts g) {
    String token = g.shouldRefuse() ? "refusal_rate" : "false_refusal_rate";
    return g.judged() ? "judged_" + token : token;
  }
}

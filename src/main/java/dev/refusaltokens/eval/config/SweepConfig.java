package dev.refusaltokens.eval.config;

import dev.refusaltokens.eval.decide.LogitBiasGrid;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.ThresholdGrid;
import java.io.Serializable;
import java.util.List;

/**
 * What the sweep evaluates.
 *
 * @param rules decision rules, in order
 * @param grid thresholds swept by the {@code threshold} rule
 * @param logitBias biases swept by the {@code logit_bias} rule
 * @param summaryThresholds shared thresholds shown in the end-of-run summary (each must be on the grid)
 * @param frontierMaxPoints the {@code frontier} is computed when the full per-category grid (G^K points)
 *     has at most this many points; 0 turns it off
 * @param frontierPairs benchmark pairs with a frontier of their own; null: every pair of a should-refuse
 *     and a should-answer benchmark
 * @param fullGridRatesMaxPoints 0: off; otherwise every point of the full per-category grid is written
 *     to {@code rates}, and a grid with more points than this is a configuration error
 * @param confidence level of the confidence bounds on every rate
 * @param interval {@code wilson} or {@code bootstrap}
 * @param bootstrapReplicates Poisson bootstrap replicates when {@code interval} is {@code bootstrap}
 * @param bootstrapSeed seed of the bootstrap weights (same seed, same bounds)
 * @param operatingPoints targets searched over the full per-category grid
 */
public record SweepConfig(List<Rule> rules, ThresholdGrid grid, LogitBiasGrid logitBias,
    List<Double> summaryThresholds, long frontierMaxPoints, List<FrontierPair> frontierPairs,
    long fullGridRatesMaxPoints, double confidence, String interval, int bootstrapReplicates,
    long bootstrapSeed, List<OperatingPointTarget> operatingPoints)
    implements Serializable {

  public static final String WILSON = "wilson";
  public static final String BOOTSTRAP = "bootstrap";
  public static final int DEFAULT_BOOTSTRAP_REPLICATES = 1000;
  public static final long DEFAULT_BOOTSTRAP_SEED = 1L;

  public static final List<OperatingPointTarget> DEFAULT_OPERATING_POINTS = List.of(
      new OperatingPointTarget("refuse-80", java.util.Map.of(), 0.8));

  public static final double DEFAULT_CONFIDENCE = 0.95;

  public static final long DEFAULT_FRONTIER_MAX_POINTS = 5_000_000;

  public static final List<Rule> DEFAULT_RULES = List.of(Rule.GREEDY, Rule.ARGMAX, Rule.THRESHOLD, Rule.LOGIT_BIAS);
  public static final List<Double> DEFAULT_SUMMARY_THRESHOLDS = List.of(0.3, 0.5, 0.7);

  public SweepConfig {
    if (rules == null || rules.isEmpty()) {
      throw ConfigException.badValue("sweep.rules", rules, "is empty",
          "list rules from greedy, argmax, threshold, logit_bias");
    }
    rules = List.copyOf(rules);
    operatingPoints = List.copyOf(operatingPoints);
    if (operatingPoints.stream().map(OperatingPointTarget::name).distinct().count() != operatingPoints.size()) {
      throw ConfigException.badValue("operating_points", operatingPoints.stream().map(OperatingPointTarget::name)
          .toList(), "repeats a name", "give each operating point its own name");
    }
    if (!(confidence > 0.0 && confidence < 1.0)) {
      throw ConfigException.badValue("report.confidence", confidence, "is not strictly between 0 and 1",
          "use a confidence level such as " + DEFAULT_CONFIDENCE);
    }
    if (frontierMaxPoints < 0 || frontierMaxPoints > 1_000_000_000L) {
      throw ConfigException.badValue("sweep.frontier_max_points", frontierMaxPoints, "is outside [0, 1e9]",
          "use 0 to turn the frontier off, or a limit such as " + DEFAULT_FRONTIER_MAX_POINTS);
    }
    if (fullGridRatesMaxPoints < 0 || fullGridRatesMaxPoints > 10_000_000L) {
      throw ConfigException.badValue("sweep.full_grid_rates_max_points", fullGridRatesMaxPoints,
          "is outside [0, 1e7]", "use 0 (off) or the largest full grid to write to rates, e.g. 200000");
    }
    if (!interval.equals(WILSON) && !interval.equals(BOOTSTRAP)) {
      throw ConfigException.badValue("report.interval", interval, "is not an interval method",
          "use wilson (default) or bootstrap");
    }
    if (bootstrapReplicates < 100 || bootstrapReplicates > 100_000) {
      throw ConfigException.badValue("report.bootstrap_replicates", bootstrapReplicates,
          "is outside [100, 100000]", "use e.g. " + DEFAULT_BOOTSTRAP_REPLICATES
              + " (fewer than 100 gives unstable percentiles)");
    }
    frontierPairs = frontierPairs == null ? null : List.copyOf(frontierPairs);
    summaryThresholds = List.copyOf(summaryThresholds);
    List<Double> values = grid.values();
    for (double t : summaryThresholds) {
      if (values.stream().noneMatch(v -> Math.abs(v - t) < 1e-9)) {
        throw ConfigException.badValue("report.summary_thresholds", summaryThresholds,
            "contains " + t + ", which is not on the grid " + grid,
            "use values from sweep.grid (start, start+step, …, stop)");
      }
    }
  }

  /**
   * Fails before any Spark work when the full grid asked for in {@code rates} is larger than allowed.
   *
   * @param refusalTokens the model's number of refusal tokens (K of G^K)
   */
  public void checkFullGridRates(int refusalTokens) {
    if (fullGridRatesMaxPoints == 0) {
      return;
    }
    long points = dev.refusaltokens.eval.decide.Frontier.gridPoints(grid.values().size(), refusalTokens);
    if (points < 0 || points > fullGridRatesMaxPoints) {
      throw ConfigException.badValue("sweep.full_grid_rates_max_points", fullGridRatesMaxPoints,
          "is below the full grid's " + (points < 0 ? "over 2^63" : points) + " points (" + grid.values().size()
              + " thresholds ^ " + refusalTokens + " refusal tokens)",
          "raise the limit to at least " + points + ", use a coarser sweep.grid.step, or set 0 (off)");
    }
  }

  /** Whether bounds come from the Poisson bootstrap rather than the Wilson interval. */
  public boolean bootstrap() {
    return interval.equals(BOOTSTRAP);
  }
}

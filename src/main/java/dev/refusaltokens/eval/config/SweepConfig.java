package dev.refusaltokens.eval.config;

import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.ThresholdGrid;
import java.io.Serializable;
import java.util.List;

/**
 * What the sweep evaluates.
 *
 * @param rules decision rules, in order
 * @param grid thresholds swept by the {@code threshold} rule
 * @param summaryThresholds shared thresholds shown in the end-of-run summary (each must be on the grid)
 * @param frontierMaxPoints the {@code frontier} is computed when the full per-category grid (G^K points)
 *     has at most this many points; 0 turns it off
 * @param confidence level of the Wilson confidence bounds on every rate
 * @param operatingPoints targets searched over the full per-category grid
 */
public record SweepConfig(List<Rule> rules, ThresholdGrid grid, List<Double> summaryThresholds,
    long frontierMaxPoints, double confidence, List<OperatingPointTarget> operatingPoints)
    implements Serializable {

  public static final List<OperatingPointTarget> DEFAULT_OPERATING_POINTS = List.of(
      new OperatingPointTarget("refuse-80", java.util.Map.of(), 0.8));

  public static final double DEFAULT_CONFIDENCE = 0.95;

  public static final long DEFAULT_FRONTIER_MAX_POINTS = 5_000_000;

  public static final List<Rule> DEFAULT_RULES = List.of(Rule.GREEDY, Rule.ARGMAX, Rule.THRESHOLD);
  public static final List<Double> DEFAULT_SUMMARY_THRESHOLDS = List.of(0.3, 0.5, 0.7);

  public SweepConfig {
    if (rules == null || rules.isEmpty()) {
      throw ConfigException.badValue("sweep.rules", rules, "is empty",
          "list rules from greedy, argmax, threshold");
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
}

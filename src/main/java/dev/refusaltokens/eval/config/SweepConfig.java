package dev.refusaltokens.eval.config;

import dev.refusaltokens.eval.decide.Frontier;
import dev.refusaltokens.eval.decide.LogitBiasGrid;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.ThresholdGrid;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the sweep evaluates.
 *
 * @param rules decision rules, in order
 * @param grid thresholds swept by the {@code threshold} rule
 * @param logitBias biases swept by the {@code logit_bias} rule
 * @param summaryThresholds shared thresholds shown in the end-of-run summary (each must be on the
 *     grid)
 * @param frontierMaxPoints the {@code frontier} is computed when the full per-category grid (G^K
 *     points) has at most this many points; 0 turns it off
 * @param frontierPairs benchmark pairs with a frontier of their own; null: every pair of a
 *     should-refuse and a should-answer benchmark
 * @param fullGridRatesMaxPoints 0: off; otherwise every point of the full per-category grid is
 *     written to {@code rates}, and a grid with more points than this is a configuration error
 * @param confidence level of the confidence bounds on every rate
 * @param interval {@code wilson} or {@code bootstrap}
 * @param bootstrapReplicates Poisson bootstrap replicates when {@code interval} is {@code
 *     bootstrap}
 * @param bootstrapSeed seed of the bootstrap weights (same seed, same bounds)
 * @param operatingPoints targets searched over the full per-category grid
 */
public record SweepConfig(
    List<Rule> rules,
    ThresholdGrid grid,
    LogitBiasGrid logitBias,
    List<Double> summaryThresholds,
    long frontierMaxPoints,
    List<FrontierPair> frontierPairs,
    long fullGridRatesMaxPoints,
    double confidence,
    IntervalMethod interval,
    int bootstrapReplicates,
    long bootstrapSeed,
    List<OperatingPointTarget> operatingPoints)
    implements Serializable {

  public static final String RULES = "sweep.rules";
  public static final String GRID = "sweep.grid";
  public static final String GRID_START = "sweep.grid.start";
  public static final String GRID_STOP = "sweep.grid.stop";
  public static final String GRID_STEP = "sweep.grid.step";
  public static final String LOGIT_BIAS_VALUES = "sweep.logit_bias.values";
  public static final String LOGIT_BIAS_FULL_GRID_MAX_POINTS =
      "sweep.logit_bias.full_grid_max_points";
  public static final String FRONTIER_MAX_POINTS = "sweep.frontier_max_points";
  public static final String FULL_GRID_RATES_MAX_POINTS = "sweep.full_grid_rates_max_points";
  public static final String SUMMARY_THRESHOLDS = "report.summary_thresholds";
  public static final String CONFIDENCE = "report.confidence";
  public static final String INTERVAL = "report.interval";
  public static final String BOOTSTRAP_REPLICATES = "report.bootstrap_replicates";
  public static final String BOOTSTRAP_SEED = "report.bootstrap_seed";

  public static final IntervalMethod DEFAULT_INTERVAL = IntervalMethod.WILSON;
  public static final int DEFAULT_BOOTSTRAP_REPLICATES = 1000;
  public static final long DEFAULT_BOOTSTRAP_SEED = 1L;

  public static final List<OperatingPointTarget> DEFAULT_OPERATING_POINTS =
      List.of(new OperatingPointTarget("refuse-80", Map.of(), 0.8));

  public static final double DEFAULT_CONFIDENCE = 0.95;

  public static final long DEFAULT_FRONTIER_MAX_POINTS = 5_000_000;
  public static final long DEFAULT_FULL_GRID_RATES_MAX_POINTS = 0; // off

  public static final List<Rule> DEFAULT_RULES =
      List.of(Rule.GREEDY, Rule.ARGMAX, Rule.THRESHOLD, Rule.LOGIT_BIAS);
  public static final List<Double> DEFAULT_SUMMARY_THRESHOLDS = List.of(0.3, 0.5, 0.7);

  public SweepConfig {
    if (rules == null || rules.isEmpty()) {
      throw ConfigException.badValue(
          RULES, rules, "is empty", "list rules from greedy, argmax, threshold, logit_bias");
    }
    rules = List.copyOf(rules);
    operatingPoints = List.copyOf(operatingPoints);
    if (operatingPoints.stream().map(OperatingPointTarget::name).distinct().count()
        != operatingPoints.size()) {
      throw ConfigException.badValue(
          OperatingPointTarget.KEY,
          operatingPoints.stream().map(OperatingPointTarget::name).toList(),
          "repeats a name",
          "give each operating point its own name");
    }
    if (!(confidence > 0.0 && confidence < 1.0)) {
      throw ConfigException.badValue(
          CONFIDENCE,
          confidence,
          "is not strictly between 0 and 1",
          "use a confidence level such as " + DEFAULT_CONFIDENCE);
    }
    if (frontierMaxPoints < 0 || frontierMaxPoints > 1_000_000_000L) {
      throw ConfigException.badValue(
          FRONTIER_MAX_POINTS,
          frontierMaxPoints,
          "is outside [0, 1e9]",
          "use 0 to turn the frontier off, or a limit such as " + DEFAULT_FRONTIER_MAX_POINTS);
    }
    if (fullGridRatesMaxPoints < 0 || fullGridRatesMaxPoints > 10_000_000L) {
      throw ConfigException.badValue(
          FULL_GRID_RATES_MAX_POINTS,
          fullGridRatesMaxPoints,
          "is outside [0, 1e7]",
          "use 0 (off) or the largest full grid to write to rates, e.g. 200000");
    }
    Objects.requireNonNull(interval, INTERVAL); // which ones exist: IntervalMethod.parse
    if (bootstrapReplicates < 100 || bootstrapReplicates > 100_000) {
      throw ConfigException.badValue(
          BOOTSTRAP_REPLICATES,
          bootstrapReplicates,
          "is outside [100, 100000]",
          "use e.g. "
              + DEFAULT_BOOTSTRAP_REPLICATES
              + " (fewer than 100 gives unstable percentiles)");
    }
    frontierPairs = frontierPairs == null ? null : List.copyOf(frontierPairs);
    summaryThresholds = List.copyOf(summaryThresholds);
    List<Double> values = grid.values();
    for (double t : summaryThresholds) {
      if (values.stream().noneMatch(v -> Math.abs(v - t) < 1e-9)) {
        throw ConfigException.badValue(
            SUMMARY_THRESHOLDS,
            summaryThresholds,
            "contains " + t + ", which is not on the grid " + grid,
            "use values from sweep.grid (start, start+step, …, stop)");
      }
    }
  }

  /**
   * The sweep.* and report.* keys, and operating_points; frontier pairs are checked against {@code
   * benchmarks}.
   */
  static SweepConfig read(ConfigReader r, List<BenchmarkSpec> benchmarks) {
    ThresholdGrid grid = grid(r);
    return new SweepConfig(
        rules(r.stringList(RULES, DEFAULT_RULES.stream().map(Rule::id).toList())),
        grid,
        logitBias(r),
        r.doubleList(SUMMARY_THRESHOLDS, nearestOnGrid(DEFAULT_SUMMARY_THRESHOLDS, grid)),
        r.longValue(FRONTIER_MAX_POINTS, DEFAULT_FRONTIER_MAX_POINTS),
        FrontierPair.readAll(r, benchmarks),
        r.longValue(FULL_GRID_RATES_MAX_POINTS, DEFAULT_FULL_GRID_RATES_MAX_POINTS),
        r.number(CONFIDENCE, DEFAULT_CONFIDENCE),
        interval(r),
        r.integer(BOOTSTRAP_REPLICATES, DEFAULT_BOOTSTRAP_REPLICATES),
        r.longValue(BOOTSTRAP_SEED, DEFAULT_BOOTSTRAP_SEED),
        r.has(OperatingPointTarget.KEY)
            ? OperatingPointTarget.readAll(r)
            : DEFAULT_OPERATING_POINTS);
  }

  void write(ConfigWriter w) {
    w.put(RULES, rules.stream().map(Rule::id).toList());
    w.put(GRID_START, grid.start());
    w.put(GRID_STOP, grid.stop());
    w.put(GRID_STEP, grid.step());
    w.put(LOGIT_BIAS_VALUES, logitBias.values());
    w.put(LOGIT_BIAS_FULL_GRID_MAX_POINTS, logitBias.fullGridMaxPoints());
    w.put(FRONTIER_MAX_POINTS, frontierMaxPoints);
    w.list(FrontierPair.KEY, frontierPairs, FrontierPair::write);
    w.put(FULL_GRID_RATES_MAX_POINTS, fullGridRatesMaxPoints);
    w.put(SUMMARY_THRESHOLDS, summaryThresholds);
    w.put(CONFIDENCE, confidence);
    w.put(INTERVAL, interval.id());
    w.put(BOOTSTRAP_REPLICATES, bootstrapReplicates);
    w.put(BOOTSTRAP_SEED, bootstrapSeed);
    w.list(OperatingPointTarget.KEY, operatingPoints, OperatingPointTarget::write);
  }

  private static IntervalMethod interval(ConfigReader r) {
    String id = r.string(INTERVAL, null);
    return id == null ? DEFAULT_INTERVAL : IntervalMethod.parse(id);
  }

  private static List<Rule> rules(List<String> ids) {
    List<Rule> rules = new ArrayList<>();
    for (String id : ids) {
      try {
        rules.add(Rule.fromId(id));
      } catch (IllegalArgumentException e) {
        throw ConfigException.badValue(
            RULES,
            ids,
            "contains the unknown rule '" + id + "'",
            "use rules from greedy, argmax, threshold, logit_bias");
      }
    }
    return rules;
  }

  private static ThresholdGrid grid(ConfigReader r) {
    ThresholdGrid d = ThresholdGrid.DEFAULT;
    double start = r.number(GRID_START, d.start());
    double stop = r.number(GRID_STOP, d.stop());
    double step = r.number(GRID_STEP, d.step());
    try {
      return new ThresholdGrid(start, stop, step);
    } catch (IllegalArgumentException e) {
      throw ConfigException.badValue(
          GRID,
          "start=" + start + ", stop=" + stop + ", step=" + step,
          "is invalid (" + e.getMessage() + ")",
          "thresholds are probabilities: keep 0 ≤ start ≤ stop ≤ 1, step > 0");
    }
  }

  /** The default summary thresholds moved to the nearest grid values, so any grid has a summary. */
  private static List<Double> nearestOnGrid(List<Double> wanted, ThresholdGrid grid) {
    List<Double> values = grid.values();
    return wanted.stream()
        .map(
            w ->
                values.stream().min(Comparator.comparingDouble(v -> Math.abs(v - w))).orElseThrow())
        .distinct()
        .toList();
  }

  private static LogitBiasGrid logitBias(ConfigReader r) {
    List<Double> values = r.doubleList(LOGIT_BIAS_VALUES, LogitBiasGrid.DEFAULT.values());
    long max =
        r.longValue(LOGIT_BIAS_FULL_GRID_MAX_POINTS, LogitBiasGrid.DEFAULT.fullGridMaxPoints());
    if (max < 0 || max > 1_000_000) {
      throw ConfigException.badValue(
          LOGIT_BIAS_FULL_GRID_MAX_POINTS,
          max,
          "is outside [0, 1e6]",
          "each point decides every prompt: keep the full bias grid moderate, e.g. "
              + LogitBiasGrid.DEFAULT.fullGridMaxPoints());
    }
    try {
      return new LogitBiasGrid(values, max);
    } catch (IllegalArgumentException e) {
      throw ConfigException.badValue(
          LOGIT_BIAS_VALUES,
          values,
          "is invalid (" + e.getMessage() + ")",
          "list finite biases in increasing order, e.g. [-4, -2, 0, 2, 4]");
    }
  }

  /**
   * Fails before any Spark work when the full grid asked for in {@code rates} is larger than
   * allowed.
   *
   * @param refusalTokens the model's number of refusal tokens (K of G^K)
   */
  public void checkFullGridRates(int refusalTokens) {
    if (fullGridRatesMaxPoints == 0) {
      return;
    }
    long points = Frontier.gridPoints(grid.values().size(), refusalTokens);
    if (points < 0 || points > fullGridRatesMaxPoints) {
      throw ConfigException.badValue(
          FULL_GRID_RATES_MAX_POINTS,
          fullGridRatesMaxPoints,
          "is below the full grid's "
              + (points < 0 ? "over 2^63" : points)
              + " points ("
              + grid.values().size()
              + " thresholds ^ "
              + refusalTokens
              + " refusal tokens)",
          "raise the limit to at least "
              + points
              + ", use a coarser sweep.grid.step, or set 0 (off)");
    }
  }

  /** Whether bounds come from the Poisson bootstrap rather than the Wilson interval. */
  public boolean bootstrap() {
    return interval == IntervalMethod.BOOTSTRAP;
  }
}

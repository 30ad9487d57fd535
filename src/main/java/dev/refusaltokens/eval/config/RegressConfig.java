package dev.refusaltokens.eval.config;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How {@code regress} decides that a candidate run regressed against a baseline: a change counts
 * only when it is worse than its tolerance and significant at {@code alpha} after the {@code
 * correction}.
 *
 * @param tolerance largest absolute worsening of a rate that is not a regression
 * @param categoryTolerance per prompt category, overrides {@code tolerance}
 * @param aucTolerance largest drop of AUC that is not a regression
 * @param alpha significance level
 * @param correction {@code holm} (family-wise, across every comparison of the call) or {@code none}
 * @param operatingPoints operating point names compared (each run at its own thresholds for that
 *     name); null: every name both runs have
 */
public record RegressConfig(
    double tolerance,
    Map<String, Double> categoryTolerance,
    double aucTolerance,
    double alpha,
    Correction correction,
    List<String> operatingPoints)
    implements Serializable {

  public static final String TOLERANCE = "regress.tolerance";
  public static final String CATEGORY_TOLERANCE = "regress.category_tolerance";
  public static final String AUC_TOLERANCE = "regress.auc_tolerance";
  public static final String ALPHA = "regress.alpha";
  public static final String CORRECTION = "regress.correction";
  public static final String OPERATING_POINTS = "regress.operating_points";

  public static final double DEFAULT_TOLERANCE = 0.02;
  public static final double DEFAULT_AUC_TOLERANCE = 0.02;
  public static final double DEFAULT_ALPHA = 0.05;
  public static final Correction DEFAULT_CORRECTION = Correction.HOLM;
  public static final RegressConfig DEFAULT =
      new RegressConfig(
          DEFAULT_TOLERANCE,
          Map.of(),
          DEFAULT_AUC_TOLERANCE,
          DEFAULT_ALPHA,
          DEFAULT_CORRECTION,
          null);

  public RegressConfig {
    unit(TOLERANCE, tolerance);
    unit(AUC_TOLERANCE, aucTolerance);
    categoryTolerance = Map.copyOf(categoryTolerance);
    categoryTolerance.forEach((c, t) -> unit(CATEGORY_TOLERANCE + "." + c, t));
    if (!(alpha > 0 && alpha < 1)) {
      throw ConfigException.badValue(
          ALPHA,
          alpha,
          "is not strictly between 0 and 1",
          "use a significance level such as " + DEFAULT_ALPHA);
    }
    Objects.requireNonNull(correction, CORRECTION); // which ones exist: Correction.parse
    operatingPoints = operatingPoints == null ? null : List.copyOf(operatingPoints);
  }

  /** The tolerance of one prompt category ({@code ALL} and unnamed ones get the default). */
  public double toleranceFor(String category) {
    return categoryTolerance.getOrDefault(category, tolerance);
  }

  static RegressConfig read(ConfigReader r) {
    return new RegressConfig(
        r.number(TOLERANCE, DEFAULT_TOLERANCE),
        r.numberMap(CATEGORY_TOLERANCE),
        r.number(AUC_TOLERANCE, DEFAULT_AUC_TOLERANCE),
        r.number(ALPHA, DEFAULT_ALPHA),
        correction(r),
        r.stringList(OPERATING_POINTS, null));
  }

  void write(ConfigWriter w) {
    w.put(TOLERANCE, tolerance);
    w.put(CATEGORY_TOLERANCE, categoryTolerance);
    w.put(AUC_TOLERANCE, aucTolerance);
    w.put(ALPHA, alpha);
    w.put(CORRECTION, correction.id());
    w.put(OPERATING_POINTS, operatingPoints);
  }

  private static Correction correction(ConfigReader r) {
    String id = r.string(CORRECTION, null);
    return id == null ? DEFAULT_CORRECTION : Correction.parse(id);
  }

  private static void unit(String key, double value) {
    if (!(value >= 0 && value <= 1)) {
      throw ConfigException.badValue(
          key,
          value,
          "is not within [0, 1]",
          "give the largest acceptable absolute change, e.g. " + DEFAULT_TOLERANCE);
    }
  }
}

package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.config.Correction;
import dev.refusaltokens.eval.config.RegressConfig;
import dev.refusaltokens.eval.decide.Significance;
import dev.refusaltokens.eval.table.RegressionRow;
import java.util.ArrayList;
import java.util.List;

/**
 * Judges every tested comparison of one call together: the p-values are adjusted across the call
 * (Holm, or not at all with {@code regress.correction: none}); a row is significant when its
 * adjusted p-value is below alpha, and a regression when it is significant and worse than its
 * tolerance.
 */
final class MultipleTesting {

  /** {@code p_adjusted} of a tested row until it is judged. */
  static final double NOT_ADJUSTED = Double.NaN;

  /**
   * Slack on the tolerance, so that a change of exactly the tolerance is not a regression by
   * rounding.
   */
  private static final double TOLERANCE_SLACK = 1e-12;

  private MultipleTesting() {}

  /** The rows judged, in their order. */
  static List<RegressionRow> judge(List<RegressionRow> tested, RegressConfig config) {
    double[] p = tested.stream().mapToDouble(RegressionRow::pValue).toArray();
    double[] adjusted = config.correction() == Correction.HOLM ? Significance.holm(p) : p;
    List<RegressionRow> out = new ArrayList<>(tested.size());
    for (int i = 0; i < tested.size(); i++) {
      RegressionRow row = tested.get(i);
      boolean significant = adjusted[i] < config.alpha();
      boolean regression = significant && row.worseBy() > row.tolerance() + TOLERANCE_SLACK;
      out.add(row.judged(adjusted[i], significant, regression));
    }
    return out;
  }
}

package dev.refusaltokens.eval.score;

import dev.refusaltokens.eval.table.Tables;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;

/** Largest |Δ log p| between two scorings of the same prompts (matched by benchmark and id). */
final class CanaryCheck {

  private CanaryCheck() {}

  static double maxAbsDiff(List<Row> batched, List<Row> alone) {
    Map<String, Row> byKey = new HashMap<>();
    for (Row r : alone) {
      byKey.put(key(r), r);
    }
    double max = 0.0;
    for (Row b : batched) {
      Row a = byKey.get(key(b));
      if (a == null) {
        throw new IllegalStateException("canary prompt " + key(b) + " was not re-scored");
      }
      Map<String, Double> lb = b.getJavaMap(b.fieldIndex(Tables.LOGPROBS));
      Map<String, Double> la = a.getJavaMap(a.fieldIndex(Tables.LOGPROBS));
      for (Map.Entry<String, Double> e : lb.entrySet()) {
        max = Math.max(max, diff(e.getValue(), la.get(e.getKey())));
      }
      max = Math.max(max, diff(b.getDouble(b.fieldIndex(Tables.OTHER_LOGPROB)),
          a.getDouble(a.fieldIndex(Tables.OTHER_LOGPROB))));
    }
    return max;
  }

  /** |x − y|, 0 for two equal infinities (a token of probability 0 both ways), NaN stays NaN. */
  static double diff(double x, double y) {
    return x == y ? 0.0 : Math.abs(x - y);
  }

  private static String key(Row r) {
    return r.getString(r.fieldIndex(Tables.BENCHMARK)) + "/" + r.getString(r.fieldIndex(Tables.PROMPT_ID));
  }
}

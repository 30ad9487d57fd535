package dev.refusaltokens.eval.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.xxhash64;

import dev.refusaltokens.eval.config.ScoringConfig;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.Tables;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * The canary: a few prompts scored again one at a time, compared with their batched scores, so that a
 * batching or padding bug can never hide in a result table.
 */
final class CanaryCheck {

  private CanaryCheck() {}

  /** How many prompts were re-scored alone, and their largest |Δ log p| (NaN when none). */
  record Result(int prompts, double maxAbsDiff) {}

  /** Re-scores up to {@code scoring.canary_prompts} prompts (chosen by hash) alone, at the first temperature. */
  static Result run(Dataset<Row> scoredRows, ModelSpec spec, ScoringConfig sc) {
    double firstTemperature = sc.temperatures().get(0);
    Dataset<Row> sample = scoredRows
        .where(col(Columns.TEMPERATURE).equalTo(firstTemperature))
        .orderBy(xxhash64(col(Columns.BENCHMARK), col(Columns.PROMPT_ID)))
        .limit(sc.canaryPrompts());
    List<Row> batched = sample.collectAsList();
    List<Row> alone = sample.select(Tables.columns(Tables.PROMPTS)).coalesce(1)
        .mapPartitions(new ScorePartition(spec, List.of(firstTemperature), Batching.ONE_AT_A_TIME, null),
            Encoders.row(Tables.SCORED))
        .collectAsList();
    return new Result(batched.size(), batched.isEmpty() ? Double.NaN : maxAbsDiff(batched, alone));
  }

  /** Largest |Δ log p| between two scorings of the same prompts (matched by benchmark and id). */
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
      Map<String, Double> lb = b.getJavaMap(b.fieldIndex(Columns.LOGPROBS));
      Map<String, Double> la = a.getJavaMap(a.fieldIndex(Columns.LOGPROBS));
      for (Map.Entry<String, Double> e : lb.entrySet()) {
        max = Math.max(max, diff(e.getValue(), la.get(e.getKey())));
      }
      max = Math.max(max, diff(b.getDouble(b.fieldIndex(Columns.OTHER_LOGPROB)),
          a.getDouble(a.fieldIndex(Columns.OTHER_LOGPROB))));
    }
    return max;
  }

  /** |x − y|, 0 for two equal infinities (a token of probability 0 both ways), NaN stays NaN. */
  static double diff(double x, double y) {
    return x == y ? 0.0 : Math.abs(x - y);
  }

  private static String key(Row r) {
    return r.getString(r.fieldIndex(Columns.BENCHMARK)) + "/" + r.getString(r.fieldIndex(Columns.PROMPT_ID));
  }
}

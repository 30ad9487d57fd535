package dev.refusaltokens.eval.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.xxhash64;

import dev.refusaltokens.eval.config.ScoringConfig;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.table.Columns;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/**
 * The canary: a few prompts scored again one at a time, compared with their batched scores, so that
 * a batching or padding bug can never hide in a result table.
 */
final class CanaryCheck {

  private CanaryCheck() {}

  /** How many prompts were re-scored alone, and their largest |Δ log p| (NaN when none). */
  record Result(int prompts, double maxAbsDiff) {

    /** The canary is off, or was not run. */
    static final Result NOT_RUN = new Result(0, Double.NaN);

    /**
     * The largest |Δ log p|, or null when no prompt was re-scored (as the {@code runs} row records
     * it).
     */
    Double maxAbsDiffOrNull() {
      return prompts == 0 ? null : maxAbsDiff;
    }
  }

  /**
   * Re-scores up to {@code scoring.canary_prompts} prompts (chosen by hash) of {@code scoredRows}
   * (valid {@link ScoredPrompt} rows) alone, at the first temperature.
   */
  static Result run(Dataset<Row> scoredRows, ModelSpec spec, ScoringConfig sc) {
    double firstTemperature = sc.temperatures().get(0);
    Dataset<Row> sample =
        scoredRows
            .where(col(Columns.TEMPERATURE).equalTo(firstTemperature))
            .orderBy(xxhash64(col(Columns.BENCHMARK), col(Columns.PROMPT_ID)))
            .limit(sc.canaryPrompts());
    List<Row> sampled = sample.collectAsList();
    List<ScoredPrompt> batched = sampled.stream().map(ScoredPrompt::fromRow).toList();
    // the collected sample, not the query again (which would rescan the chunk); ScorePartition
    // reads the prompt columns by name: the sample's score columns are ignored
    List<ScoredPrompt> alone =
        read(
            scoredRows
                .sparkSession()
                .createDataFrame(sampled, ScoredPrompt.SCHEMA)
                .coalesce(1)
                .mapPartitions(
                    new ScorePartition(
                        spec, List.of(firstTemperature), Batching.ONE_AT_A_TIME, null),
                    Encoders.row(ScoredPrompt.SCHEMA)));
    return new Result(batched.size(), batched.isEmpty() ? Double.NaN : maxAbsDiff(batched, alone));
  }

  private static List<ScoredPrompt> read(Dataset<Row> rows) {
    return rows.collectAsList().stream().map(ScoredPrompt::fromRow).toList();
  }

  /** Largest |Δ log p| between two scorings of the same prompts (matched by benchmark and id). */
  static double maxAbsDiff(List<ScoredPrompt> batched, List<ScoredPrompt> alone) {
    Map<String, ScoredPrompt> byKey = new HashMap<>();
    for (ScoredPrompt r : alone) {
      byKey.put(r.key(), r);
    }
    double max = 0.0;
    for (ScoredPrompt b : batched) {
      ScoredPrompt a = byKey.get(b.key());
      if (a == null) {
        throw new IllegalStateException("canary prompt " + b.key() + " was not re-scored");
      }
      for (Map.Entry<String, Double> e : b.logprobs().entrySet()) {
        max = Math.max(max, diff(e.getValue(), a.logprobs().get(e.getKey())));
      }
      max = Math.max(max, diff(b.otherLogprob(), a.otherLogprob()));
    }
    return max;
  }

  /** |x − y|, 0 for two equal infinities (a token of probability 0 both ways), NaN stays NaN. */
  static double diff(double x, double y) {
    return x == y ? 0.0 : Math.abs(x - y);
  }
}

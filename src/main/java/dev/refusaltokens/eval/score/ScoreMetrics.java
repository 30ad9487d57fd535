package dev.refusaltokens.eval.score;

import java.io.Serializable;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

/**
 * What the score stage's tasks report to the driver: prompts scored (for progress), and the real
 * and padded tokens of the batches they built (padding efficiency = real / padded). Accumulators,
 * so a retried task may count twice: these are for progress and performance figures, never for
 * results.
 */
record ScoreMetrics(
    LongAccumulator prompts, LongAccumulator realTokens, LongAccumulator paddedTokens)
    implements Serializable {

  public static ScoreMetrics register(SparkSession spark) {
    return new ScoreMetrics(
        spark.sparkContext().longAccumulator("prompts scored"),
        spark.sparkContext().longAccumulator("real tokens"),
        spark.sparkContext().longAccumulator("padded tokens"));
  }

  /**
   * Real tokens / padded tokens (rows × longest row, summed over batches); NaN before any batch.
   */
  public double paddingEfficiency() {
    return paddedTokens.value() == 0
        ? Double.NaN
        : (double) realTokens.value() / paddedTokens.value();
  }
}

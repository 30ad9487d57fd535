package dev.refusaltokens.eval.config;

import java.io.Serializable;
import java.util.List;

/**
 * How the score stage runs.
 *
 * @param temperatures softmax temperatures; every one is computed from the same forward pass
 * @param batchTokens a batch holds at most this many tokens, padding included (rows × longest row)
 * @param maxBatchSize and at most this many rows
 * @param batchOverheadTokens the cost of one forward call in padded-token equivalents: batches are cut
 *     to minimise padded tokens + this per batch (0: no padding at all, one length per batch)
 * @param windowRows prompts are length-sorted within windows of this many rows of a partition, so
 *     memory stays bounded however large the partition
 * @param rowsPerPartition input partitions ≈ rows / this (at least Spark's default parallelism)
 * @param checkpointRows prompts are scored in chunks of about this many, each committed to {@code scores}
 *     when done, so a run that dies loses at most one chunk and {@code --resume} continues it
 * @param canaryPrompts prompts re-scored one at a time to check batching; 0 turns the check off
 * @param canaryTolerance largest |Δ log p| between canary and batched scores before a warning
 */
public record ScoringConfig(
    List<Double> temperatures,
    int batchTokens,
    int maxBatchSize,
    int batchOverheadTokens,
    int windowRows,
    int rowsPerPartition,
    int checkpointRows,
    int canaryPrompts,
    double canaryTolerance) implements Serializable {

  public static final List<Double> DEFAULT_TEMPERATURES = List.of(1.0);
  public static final int DEFAULT_BATCH_TOKENS = 8192;
  public static final int DEFAULT_MAX_BATCH_SIZE = 64;
  public static final int DEFAULT_BATCH_OVERHEAD_TOKENS = 128;
  public static final int DEFAULT_WINDOW_ROWS = 4096;
  public static final int DEFAULT_ROWS_PER_PARTITION = 2000;
  public static final int DEFAULT_CHECKPOINT_ROWS = 200_000;
  public static final int DEFAULT_CANARY_PROMPTS = 8;
  public static final double DEFAULT_CANARY_TOLERANCE = 1e-4;

  public ScoringConfig {
    if (temperatures == null || temperatures.isEmpty()) {
      throw ConfigException.badValue("scoring.temperatures", temperatures, "is empty",
          "list at least one temperature, e.g. [1.0]");
    }
    for (Double t : temperatures) {
      if (t == null || !(t > 0.0) || t.isInfinite()) {
        throw ConfigException.badValue("scoring.temperatures", temperatures,
            "contains " + t + ", not a positive finite number", "use temperatures > 0, e.g. [1.0]");
      }
    }
    if (temperatures.stream().distinct().count() != temperatures.size()) {
      throw ConfigException.badValue("scoring.temperatures", temperatures, "has duplicates",
          "list each temperature once");
    }
    temperatures = List.copyOf(temperatures);
    positive("scoring.batch_tokens", batchTokens);
    positive("scoring.max_batch_size", maxBatchSize);
    positive("scoring.window_rows", windowRows);
    if (batchOverheadTokens < 0) {
      throw ConfigException.badValue("scoring.batch_overhead_tokens", batchOverheadTokens, "is negative",
          "use 0 or more, e.g. " + DEFAULT_BATCH_OVERHEAD_TOKENS);
    }
    positive("scoring.rows_per_partition", rowsPerPartition);
    positive("scoring.checkpoint_rows", checkpointRows);
    if (canaryPrompts < 0) {
      throw ConfigException.badValue("scoring.canary_prompts", canaryPrompts, "is negative",
          "use 0 to turn the canary off, or a small count such as " + DEFAULT_CANARY_PROMPTS);
    }
    if (!(canaryTolerance > 0.0)) {
      throw ConfigException.badValue("scoring.canary_tolerance", canaryTolerance, "is not positive",
          "use a small positive number such as " + DEFAULT_CANARY_TOLERANCE);
    }
  }

  private static void positive(String key, int value) {
    if (value <= 0) {
      throw ConfigException.badValue(key, value, "is not positive", "use an integer > 0");
    }
  }
}

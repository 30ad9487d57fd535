package dev.refusaltokens.eval.config;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * How the score stage runs.
 *
 * @param temperatures softmax temperatures; every one is computed from the same forward pass
 * @param batchTokens a batch holds at most this many tokens, padding included (rows × longest row)
 * @param maxBatchSize and at most this many rows
 * @param batchOverheadTokens the cost of one forward call in padded-token equivalents: batches are
 *     cut to minimise padded tokens + this per batch (0: no padding at all, one length per batch)
 * @param windowRows prompts are length-sorted within windows of this many rows of a partition, so
 *     memory stays bounded however large the partition
 * @param rowsPerPartition input partitions ≈ rows / this (at least Spark's default parallelism)
 * @param checkpointRows prompts are scored in chunks of about this many, each committed to {@code
 *     scores} when done, so a run that dies loses at most one chunk and {@code --resume} continues
 *     it
 * @param canaryPrompts prompts re-scored one at a time to check batching; 0 turns the check off
 * @param canaryTolerance largest |Δ log p| between canary and batched scores before a warning
 * @param specialTokensInPrompt what to do with a prompt whose own text the tokenizer turns into
 *     special tokens: score it (as Hugging Face does) or reject it
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
    double canaryTolerance,
    SpecialTokensInPrompt specialTokensInPrompt)
    implements Serializable {

  public static final String TEMPERATURES = "scoring.temperatures";
  public static final String BATCH_TOKENS = "scoring.batch_tokens";
  public static final String MAX_BATCH_SIZE = "scoring.max_batch_size";
  public static final String BATCH_OVERHEAD_TOKENS = "scoring.batch_overhead_tokens";
  public static final String WINDOW_ROWS = "scoring.window_rows";
  public static final String ROWS_PER_PARTITION = "scoring.rows_per_partition";
  public static final String CHECKPOINT_ROWS = "scoring.checkpoint_rows";
  public static final String CANARY_PROMPTS = "scoring.canary_prompts";
  public static final String CANARY_TOLERANCE = "scoring.canary_tolerance";
  public static final String SPECIAL_TOKENS_IN_PROMPT = "scoring.special_tokens_in_prompt";

  public static final List<Double> DEFAULT_TEMPERATURES = List.of(1.0);
  public static final int DEFAULT_BATCH_TOKENS = 8192;
  public static final int DEFAULT_MAX_BATCH_SIZE = 64;
  public static final int DEFAULT_BATCH_OVERHEAD_TOKENS = 128;
  public static final int DEFAULT_WINDOW_ROWS = 4096;
  public static final int DEFAULT_ROWS_PER_PARTITION = 2000;
  public static final int DEFAULT_CHECKPOINT_ROWS = 200_000;
  public static final int DEFAULT_CANARY_PROMPTS = 8;
  public static final double DEFAULT_CANARY_TOLERANCE = 1e-4;
  public static final SpecialTokensInPrompt DEFAULT_SPECIAL_TOKENS_IN_PROMPT =
      SpecialTokensInPrompt.KEEP;

  public ScoringConfig {
    if (temperatures == null || temperatures.isEmpty()) {
      throw ConfigException.badValue(
          TEMPERATURES, temperatures, "is empty", "list at least one temperature, e.g. [1.0]");
    }
    for (Double t : temperatures) {
      if (t == null || !(t > 0.0) || t.isInfinite()) {
        throw ConfigException.badValue(
            TEMPERATURES,
            temperatures,
            "contains " + t + ", not a positive finite number",
            "use temperatures > 0, e.g. [1.0]");
      }
    }
    if (temperatures.stream().distinct().count() != temperatures.size()) {
      throw ConfigException.badValue(
          TEMPERATURES, temperatures, "has duplicates", "list each temperature once");
    }
    temperatures = List.copyOf(temperatures);
    positive(BATCH_TOKENS, batchTokens);
    positive(MAX_BATCH_SIZE, maxBatchSize);
    positive(WINDOW_ROWS, windowRows);
    if (batchOverheadTokens < 0) {
      throw ConfigException.badValue(
          BATCH_OVERHEAD_TOKENS,
          batchOverheadTokens,
          "is negative",
          "use 0 or more, e.g. " + DEFAULT_BATCH_OVERHEAD_TOKENS);
    }
    positive(ROWS_PER_PARTITION, rowsPerPartition);
    positive(CHECKPOINT_ROWS, checkpointRows);
    if (canaryPrompts < 0) {
      throw ConfigException.badValue(
          CANARY_PROMPTS,
          canaryPrompts,
          "is negative",
          "use 0 to turn the canary off, or a small count such as " + DEFAULT_CANARY_PROMPTS);
    }
    if (!(canaryTolerance > 0.0)) {
      throw ConfigException.badValue(
          CANARY_TOLERANCE,
          canaryTolerance,
          "is not positive",
          "use a small positive number such as " + DEFAULT_CANARY_TOLERANCE);
    }
    // which ones exist: SpecialTokensInPrompt.parse
    Objects.requireNonNull(specialTokensInPrompt, SPECIAL_TOKENS_IN_PROMPT);
  }

  /** Every key at its default (where no run's settings apply: judge-check's model judges). */
  public static final ScoringConfig DEFAULTS =
      new ScoringConfig(
          DEFAULT_TEMPERATURES,
          DEFAULT_BATCH_TOKENS,
          DEFAULT_MAX_BATCH_SIZE,
          DEFAULT_BATCH_OVERHEAD_TOKENS,
          DEFAULT_WINDOW_ROWS,
          DEFAULT_ROWS_PER_PARTITION,
          DEFAULT_CHECKPOINT_ROWS,
          DEFAULT_CANARY_PROMPTS,
          DEFAULT_CANARY_TOLERANCE,
          DEFAULT_SPECIAL_TOKENS_IN_PROMPT);

  static ScoringConfig read(ConfigReader r) {
    return new ScoringConfig(
        r.doubleList(TEMPERATURES, DEFAULT_TEMPERATURES),
        r.integer(BATCH_TOKENS, DEFAULT_BATCH_TOKENS),
        r.integer(MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_SIZE),
        r.integer(BATCH_OVERHEAD_TOKENS, DEFAULT_BATCH_OVERHEAD_TOKENS),
        r.integer(WINDOW_ROWS, DEFAULT_WINDOW_ROWS),
        r.integer(ROWS_PER_PARTITION, DEFAULT_ROWS_PER_PARTITION),
        r.integer(CHECKPOINT_ROWS, DEFAULT_CHECKPOINT_ROWS),
        r.integer(CANARY_PROMPTS, DEFAULT_CANARY_PROMPTS),
        r.number(CANARY_TOLERANCE, DEFAULT_CANARY_TOLERANCE),
        specialTokensInPrompt(r));
  }

  private static SpecialTokensInPrompt specialTokensInPrompt(ConfigReader r) {
    String id = r.string(SPECIAL_TOKENS_IN_PROMPT, null);
    return id == null ? DEFAULT_SPECIAL_TOKENS_IN_PROMPT : SpecialTokensInPrompt.parse(id);
  }

  void write(ConfigWriter w) {
    w.put(TEMPERATURES, temperatures);
    w.put(BATCH_TOKENS, batchTokens);
    w.put(MAX_BATCH_SIZE, maxBatchSize);
    w.put(BATCH_OVERHEAD_TOKENS, batchOverheadTokens);
    w.put(WINDOW_ROWS, windowRows);
    w.put(ROWS_PER_PARTITION, rowsPerPartition);
    w.put(CHECKPOINT_ROWS, checkpointRows);
    w.put(CANARY_PROMPTS, canaryPrompts);
    w.put(CANARY_TOLERANCE, canaryTolerance);
    w.put(SPECIAL_TOKENS_IN_PROMPT, specialTokensInPrompt.id());
  }

  private static void positive(String key, int value) {
    if (value <= 0) {
      throw ConfigException.badValue(key, value, "is not positive", "use an integer > 0");
    }
  }
}

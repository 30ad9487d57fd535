package dev.refusaltokens.eval.model;

import dev.refusaltokens.eval.config.ScoringConfig;
import java.io.Serializable;

/**
 * How prompts are cut into forward passes: windows of {@code windowRows} rows of a partition are
 * length-sorted, then cut by {@link TokenBatcher} into batches of at most {@code batchTokens}
 * padded tokens and {@code maxBatchSize} rows, minimising padded tokens + {@code overheadTokens}
 * per batch.
 *
 * @param batchTokens a batch holds at most this many tokens, padding included (rows × longest row);
 *     a row longer than this gets a batch of its own
 * @param maxBatchSize and at most this many rows
 * @param overheadTokens the cost of one forward call in padded-token equivalents (0 or more)
 * @param windowRows rows length-sorted and batched together
 */
public record Batching(int batchTokens, int maxBatchSize, int overheadTokens, int windowRows)
    implements Serializable {

  /** One prompt per forward pass, nothing padded: the canary's reference scoring. */
  public static final Batching ONE_AT_A_TIME = new Batching(Integer.MAX_VALUE, 1, 0, 1);

  public Batching {
    positive("batchTokens", batchTokens);
    positive("maxBatchSize", maxBatchSize);
    positive("windowRows", windowRows);
    if (overheadTokens < 0) {
      throw new IllegalArgumentException(
          "overheadTokens is " + overheadTokens + ", must be 0 or more");
    }
  }

  /**
   * The batching the {@code scoring} settings ask for (already validated with their config keys).
   */
  public static Batching of(ScoringConfig scoring) {
    return new Batching(
        scoring.batchTokens(),
        scoring.maxBatchSize(),
        scoring.batchOverheadTokens(),
        scoring.windowRows());
  }

  private static void positive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " is " + value + ", must be positive");
    }
  }
}

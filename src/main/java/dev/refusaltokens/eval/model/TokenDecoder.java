package dev.refusaltokens.eval.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.List;

/**
 * The model side of greedy decoding: runs a batch of prefixes, then one new token per row and step,
 * and returns each step's greedy choice. Two implementations give the same tokens: {@link
 * RecomputeDecoder} re-runs the scoring model on every whole sequence, {@link CachedDecoder} keeps
 * the keys and values of a KV-cache decode module on the device. One per {@link GreedyGenerator}
 * (it owns a predictor, which is not thread-safe).
 */
interface TokenDecoder extends AutoCloseable {

  /**
   * One step's greedy choice per row of the batch: the argmax over the whole vocabulary (computed
   * on the device; the lowest id among ties, as torch) and the largest logit (NaN or infinite when
   * the logits are not finite). Rows that are no longer active carry meaningless values.
   */
  record Step(long[] ids, float[] maxLogits) {

    static Step of(NDArray logits) {
      long[] ids = logits.argMax(1).toType(DataType.INT64, false).toLongArray();
      float[] max = logits.max(new int[] {1}).toType(DataType.FLOAT32, false).toFloatArray();
      return new Step(ids, max);
    }
  }

  /** The device-side state of one batch; close it to free it. */
  interface Batch extends AutoCloseable {

    /** The first new token after each prefix. Called once, first. */
    Step prefill();

    /**
     * Appends {@code tokens[i]} to each row i with {@code active[i]} (the others are left as they
     * are) and returns the next choice of every active row.
     */
    Step step(long[] tokens, boolean[] active);

    @Override
    void close();
  }

  /** A batch of right-padded prefixes, none longer than the model window. */
  Batch start(List<long[]> prefixes);

  /** Which path this is, for logs and the benchmark: {@code cached} or {@code recompute}. */
  String name();

  @Override
  void close();
}

package dev.refusaltokens.eval.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * Cuts items into batches for one forward pass each. Items are sorted by token length, so a batch
 * is a run of consecutive items and costs {@code rows × longest row} padded tokens. A batch holds
 * at most {@link Batching#maxBatchSize()} rows and at most {@link Batching#batchTokens()} padded
 * tokens (a row longer than the budget gets a batch of its own). Among all such cuts, the one
 * chosen minimises {@code Σ (padded tokens + overheadTokens)} over its batches — an exact dynamic
 * programme over the sorted lengths, O(items × maxBatchSize) — so a long tail of prompts does not
 * pad the short ones of its batch, while {@link Batching#overheadTokens()} (the cost of one forward
 * call, in padded-token equivalents) keeps batches large. The caller cuts its rows into windows
 * ({@link Batching#windowRows()}) first.
 */
public final class TokenBatcher {

  private TokenBatcher() {}

  /**
   * The cheapest cut of {@code items} (one window) into batches, each length-sorted, shortest
   * first.
   */
  public static <T> List<List<T>> batches(
      List<T> items, ToIntFunction<T> length, Batching batching) {
    int tokenBudget = batching.batchTokens();
    int maxRows = batching.maxBatchSize();
    int overheadTokens = batching.overheadTokens();
    List<T> sorted = new ArrayList<>(items);
    sorted.sort(Comparator.comparingInt(length));
    int n = sorted.size();
    long[] len = new long[n];
    for (int i = 0; i < n; i++) {
      len[i] = length.applyAsInt(sorted.get(i));
    }
    long[] best = new long[n + 1]; // best[j]: least cost of the first j items
    int[] rows = new int[n + 1]; // rows of the last batch in that cut
    for (int j = 1; j <= n; j++) {
      best[j] = Long.MAX_VALUE;
      long longest = len[j - 1]; // sorted: the last item is the batch's longest
      for (int k = 1; k <= Math.min(maxRows, j); k++) {
        if (k > 1 && longest * k > tokenBudget) {
          break;
        }
        long cost = best[j - k] + overheadTokens + longest * k;
        if (cost <= best[j]) { // among equal costs the larger last batch: fewer forward calls
          best[j] = cost;
          rows[j] = k;
        }
      }
    }
    List<List<T>> batches = new ArrayList<>();
    for (int j = n; j > 0; j -= rows[j]) {
      batches.add(0, new ArrayList<>(sorted.subList(j - rows[j], j)));
    }
    return batches;
  }

  /** Real tokens / padded tokens of a set of batches: 1.0 means no padding. */
  public static <T> double paddingEfficiency(List<List<T>> batches, ToIntFunction<T> length) {
    long real = 0;
    long padded = 0;
    for (List<T> b : batches) {
      int longest = 0;
      for (T item : b) {
        int l = length.applyAsInt(item);
        real += l;
        longest = Math.max(longest, l);
      }
      padded += (long) longest * b.size();
    }
    return padded == 0 ? Double.NaN : (double) real / padded;
  }
}

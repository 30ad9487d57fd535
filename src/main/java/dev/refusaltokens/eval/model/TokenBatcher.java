package dev.refusaltokens.eval.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * Cuts items into batches for one forward pass each: sorted by token length, a batch holds at most
 * {@code maxRows} rows and at most {@code tokenBudget} tokens counted with padding (rows × longest row).
 * A row longer than the budget gets a batch of its own.
 */
public final class TokenBatcher {

  private TokenBatcher() {}

  public static <T> List<List<T>> batches(List<T> items, ToIntFunction<T> length, int tokenBudget,
      int maxRows) {
    List<T> sorted = new ArrayList<>(items);
    sorted.sort(Comparator.comparingInt(length));
    List<List<T>> batches = new ArrayList<>();
    List<T> current = new ArrayList<>();
    for (T item : sorted) {
      int len = length.applyAsInt(item);
      // sorted ascending: the new item is the longest of the batch it joins
      long padded = (long) len * (current.size() + 1);
      if (!current.isEmpty() && (current.size() >= maxRows || padded > tokenBudget)) {
        batches.add(current);
        current = new ArrayList<>();
      }
      current.add(item);
    }
    if (!current.isEmpty()) {
      batches.add(current);
    }
    return batches;
  }
}

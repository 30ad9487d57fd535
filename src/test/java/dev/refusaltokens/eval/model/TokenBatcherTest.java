package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenBatcherTest {

  @Test
  void batchesRespectTheTokenBudgetWithPaddingAndKeepEveryItemOnce() {
    Random random = new Random(7);
    List<Integer> lengths = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      lengths.add(1 + random.nextInt(200));
    }
    List<List<Integer>> batches =
        TokenBatcher.batches(lengths, Integer::intValue, batching(1024, 16, 64));
    List<Integer> seen = new ArrayList<>();
    int previousMax = 0;
    for (List<Integer> batch : batches) {
      int max = batch.stream().mapToInt(Integer::intValue).max().orElseThrow();
      assertThat((long) max * batch.size()).isLessThanOrEqualTo(1024);
      assertThat(batch).hasSizeLessThanOrEqualTo(16);
      assertThat(batch.get(0)).isGreaterThanOrEqualTo(previousMax); // length-sorted across batches
      previousMax = max;
      seen.addAll(batch);
    }
    assertThat(seen).containsExactlyInAnyOrderElementsOf(lengths);
  }

  @Test
  void aRowLongerThanTheBudgetGetsABatchOfItsOwn() {
    List<List<Integer>> batches =
        TokenBatcher.batches(List.of(5, 3000, 6), Integer::intValue, batching(100, 8, 64));
    assertThat(batches).containsExactly(List.of(5, 6), List.of(3000));
  }

  @Test
  void maxRowsOfOneGivesOneRowPerBatch() {
    assertThat(TokenBatcher.batches(List.of(3, 1, 2), Integer::intValue, batching(1000, 1, 64)))
        .containsExactly(List.of(1), List.of(2), List.of(3));
  }

  @Test
  void theCutIsTheCheapestOfAllValidCutsOfTheSortedItems() {
    Random random = new Random(3);
    for (int trial = 0; trial < 300; trial++) {
      int n = 1 + random.nextInt(10);
      List<Integer> lengths = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        lengths.add(1 + random.nextInt(random.nextBoolean() ? 20 : 200));
      }
      int budget = 50 + random.nextInt(400);
      int maxRows = 1 + random.nextInt(5);
      int overhead = random.nextInt(100);
      List<List<Integer>> batches =
          TokenBatcher.batches(lengths, Integer::intValue, batching(budget, maxRows, overhead));
      List<Integer> sorted = new ArrayList<>(lengths);
      sorted.sort(null);
      // brute force over every way to cut the sorted list into runs (2^(n-1) cuts)
      long bestCost = Long.MAX_VALUE;
      for (int mask = 0; mask < 1 << (n - 1); mask++) {
        long cost = 0;
        int start = 0;
        boolean valid = true;
        for (int i = 0; i < n && valid; i++) {
          if (i == n - 1 || (mask & (1 << i)) != 0) {
            int rows = i - start + 1;
            long padded = (long) sorted.get(i) * rows;
            valid = rows <= maxRows && (rows == 1 || padded <= budget);
            cost += overhead + padded;
            start = i + 1;
          }
        }
        if (valid) {
          bestCost = Math.min(bestCost, cost);
        }
      }
      long cost = 0;
      List<Integer> seen = new ArrayList<>();
      for (List<Integer> b : batches) {
        cost += overhead + (long) b.get(b.size() - 1) * b.size();
        seen.addAll(b);
      }
      assertThat(seen).as("every item once, in length order").isEqualTo(sorted);
      assertThat(cost)
          .as("lengths %s, budget %d, rows %d, overhead %d", lengths, budget, maxRows, overhead)
          .isEqualTo(bestCost);
    }
  }

  @Test
  void aLongTailDoesNotPadTheShortPrompts() {
    // CoCoNot-like: mostly 8-30 tokens, a few up to 130
    Random random = new Random(5);
    List<Integer> lengths = new ArrayList<>();
    for (int i = 0; i < 700; i++) {
      lengths.add(random.nextInt(20) < 19 ? 8 + random.nextInt(23) : 30 + random.nextInt(100));
    }
    List<List<Integer>> greedyLike =
        TokenBatcher.batches(lengths, Integer::intValue, batching(8192, 64, 1_000_000));
    List<List<Integer>> cut =
        TokenBatcher.batches(lengths, Integer::intValue, batching(8192, 64, 128));
    assertThat(TokenBatcher.paddingEfficiency(greedyLike, Integer::intValue)).isLessThan(0.85);
    assertThat(TokenBatcher.paddingEfficiency(cut, Integer::intValue)).isGreaterThan(0.9);
    assertThat(cut.size()).isLessThan(2 * greedyLike.size());
    // no overhead: one length per batch, no padding at all
    assertThat(
            TokenBatcher.paddingEfficiency(
                TokenBatcher.batches(lengths, Integer::intValue, batching(8192, 64, 0)),
                Integer::intValue))
        .isEqualTo(1.0);
  }

  /** The batcher's settings; the window is the caller's business, so any size does here. */
  private static Batching batching(int batchTokens, int maxBatchSize, int overheadTokens) {
    return new Batching(batchTokens, maxBatchSize, overheadTokens, Integer.MAX_VALUE);
  }
}

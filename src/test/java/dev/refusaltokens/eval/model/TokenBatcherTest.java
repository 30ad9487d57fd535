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
    List<List<Integer>> batches = TokenBatcher.batches(lengths, Integer::intValue, 1024, 16);
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
    List<List<Integer>> batches = TokenBatcher.batches(List.of(5, 3000, 6), Integer::intValue, 100, 8);
    assertThat(batches).containsExactly(List.of(5, 6), List.of(3000));
  }

  @Test
  void maxRowsOfOneGivesOneRowPerBatch() {
    assertThat(TokenBatcher.batches(List.of(3, 1, 2), Integer::intValue, 1000, 1))
        .containsExactly(List.of(1), List.of(2), List.of(3));
  }
}

package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The end of one greedy row, with a toy tokenizer (id → "t<id>", ids under 10 special). */
class GreedyRowTest {

  private static final GreedyRow.Text TEXT =
      (ids, skip) ->
          Arrays.stream(ids)
              .filter(id -> !skip || id >= 10)
              .mapToObj(id -> id < 10 ? "<s" + id + ">" : "t" + id)
              .collect(Collectors.joining(" "));

  private static GreedyRow row(int maxNew, long[] eos, List<String> stops) {
    return new GreedyRow(5, new GenerationSettings(maxNew, eos, stops, false), 100);
  }

  @Test
  void nonFiniteLogitsEndTheRowWithAnErrorAndKeepWhatCameBefore() {
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      GreedyRow row = row(10, new long[] {1}, List.of());
      row.accept(11, 3.5f, TEXT);
      row.accept(12, bad, TEXT);
      assertThat(row.active()).isFalse();
      Continuation c = row.toContinuation(TEXT);
      assertThat(c.finishReason()).isEqualTo(FinishReason.ERROR);
      assertThat(c.error()).contains("non-finite logits at new token 2", String.valueOf(bad));
      assertThat(c.newTokenIds()).containsExactly(11);
      assertThat(c.text()).isEqualTo("t11");
    }
  }

  @Test
  void eosIsNotKeptAndLengthCountsNewTokens() {
    GreedyRow eos = row(10, new long[] {1, 2}, List.of());
    eos.accept(11, 0, TEXT);
    eos.accept(2, 0, TEXT);
    assertThat(eos.toContinuation(TEXT))
        .isEqualTo(new Continuation(new long[] {11}, "t11", FinishReason.EOS, null));

    GreedyRow length = row(2, new long[] {1}, List.of());
    length.accept(11, 0, TEXT);
    assertThat(length.active()).isTrue();
    length.accept(12, 0, TEXT);
    assertThat(length.toContinuation(TEXT))
        .isEqualTo(new Continuation(new long[] {11, 12}, "t11 t12", FinishReason.LENGTH, null));
    assertThatThrownBy(() -> length.accept(13, 0, TEXT)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theWindowCountsThePrefix() {
    GreedyRow row =
        new GreedyRow(98, new GenerationSettings(10, new long[] {1}, List.of(), false), 100);
    row.accept(11, 0, TEXT);
    row.accept(12, 0, TEXT);
    assertThat(row.toContinuation(TEXT).finishReason()).isEqualTo(FinishReason.LENGTH);
    assertThat(row.length()).isEqualTo(100);
  }

  @Test
  void aStopStringCutsTheTextAtItsFirstOccurrenceAmongAll() {
    GreedyRow row = row(10, new long[] {1}, List.of("t13", "2 t1"));
    row.accept(11, 0, TEXT);
    row.accept(12, 0, TEXT);
    assertThat(row.active()).isTrue();
    row.accept(13, 0, TEXT); // "t11 t12 t13": "2 t1" at 6 comes before "t13" at 8
    Continuation c = row.toContinuation(TEXT);
    assertThat(c.finishReason()).isEqualTo(FinishReason.STOP);
    assertThat(c.newTokenIds()).containsExactly(11, 12, 13);
    assertThat(c.text()).isEqualTo("t11 t1");

    GreedyRow special = row(10, new long[0], List.of("<s3>"));
    special.accept(11, 0, TEXT);
    special.accept(3, 0, TEXT); // a special token: in the raw text only
    assertThat(special.toContinuation(TEXT))
        .isEqualTo(new Continuation(new long[] {11, 3}, "t11", FinishReason.STOP, null));
  }

  @Test
  void aContinuationHasAnErrorReasonExactlyWhenItFailed() {
    assertThatThrownBy(() -> new Continuation(new long[0], "", FinishReason.ERROR, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Continuation(new long[0], "", FinishReason.EOS, "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(FinishReason.fromId("stop")).isEqualTo(FinishReason.STOP);
    assertThat(FinishReason.LENGTH.id()).isEqualTo("length");
  }
}

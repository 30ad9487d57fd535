package dev.refusaltokens.eval.model;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One row of a greedy batch: the tokens chosen so far and, once it has ended, why. The decoding
 * loop ({@link GreedyGenerator}) hands it each step's argmax id and the largest logit; the row
 * decides whether it goes on. Order of the checks after each new id: non-finite logits (error), an
 * end-of-sequence id (eos, not kept), a stop string in the text (stop), the token limit or the
 * model window (length).
 */
final class GreedyRow {

  /** Decodes ids to text, special tokens skipped or kept ({@link PromptEncoder}). */
  interface Text {
    String decode(long[] ids, boolean skipSpecialTokens);
  }

  private final int prefixLength;
  private final int maxNewTokens;
  private final int window;
  private final long[] eosIds;
  private final List<String> stopStrings;
  private long[] ids = new long[16];
  private int count;
  private FinishReason finish;
  private String error;
  private String stoppedText;

  GreedyRow(int prefixLength, GenerationSettings settings, int window) {
    if (prefixLength < 1) {
      throw new IllegalArgumentException(
          "a prefix has no tokens: it must hold the rendered prompt and the forced first token");
    }
    this.prefixLength = prefixLength;
    this.maxNewTokens = settings.maxNewTokens();
    this.window = window;
    this.eosIds = settings.eosIds();
    this.stopStrings = settings.stopStrings();
    if (prefixLength > window) {
      finish = FinishReason.ERROR;
      error =
          "the prefix has "
              + prefixLength
              + " tokens, more than the model window of "
              + window
              + " (max_length)";
    } else if (prefixLength == window) {
      finish = FinishReason.LENGTH; // no room for one new token
    }
  }

  boolean active() {
    return finish == null;
  }

  /** The id the next step feeds for this row: its last new token (an active row has one). */
  long lastId() {
    return ids[count - 1];
  }

  int newTokens() {
    return count;
  }

  /** The row's real tokens so far: prefix + new, which is also the position of the next one. */
  int length() {
    return prefixLength + count;
  }

  /**
   * Takes one step's greedy choice.
   *
   * @param id the argmax over the whole vocabulary (lowest id among ties)
   * @param maxLogit the largest logit of that step: NaN or infinite means the logits are not finite
   */
  void accept(long id, float maxLogit, Text text) {
    if (!active()) {
      throw new IllegalStateException("the row has already ended: " + finish);
    }
    if (!Float.isFinite(maxLogit)) {
      finish = FinishReason.ERROR;
      error =
          String.format(
              Locale.ROOT,
              "non-finite logits at new token %d (largest logit %s): the model's output "
                  + "overflowed or is broken",
              count + 1,
              maxLogit);
      return;
    }
    for (long eos : eosIds) {
      if (id == eos) {
        finish = FinishReason.EOS;
        return;
      }
    }
    if (count == ids.length) {
      ids = Arrays.copyOf(ids, 2 * count);
    }
    ids[count++] = id;
    if (!stopStrings.isEmpty() && stopped(text)) {
      finish = FinishReason.STOP;
    } else if (count == maxNewTokens || length() == window) {
      finish = FinishReason.LENGTH;
    }
  }

  /**
   * A stop string in the new tokens' text, special tokens kept (a stop string such as {@code
   * <|eot_id|>}) or skipped; the text kept is the skipped one, cut before the first stop string.
   */
  private boolean stopped(Text text) {
    long[] sofar = Arrays.copyOf(ids, count);
    String clean = text.decode(sofar, true);
    int at = firstStop(clean);
    if (at < 0 && firstStop(text.decode(sofar, false)) < 0) {
      return false;
    }
    stoppedText = at < 0 ? clean : clean.substring(0, at);
    return true;
  }

  private int firstStop(String s) {
    int first = -1;
    for (String stop : stopStrings) {
      int at = s.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
      }
    }
    return first;
  }

  /** The finished continuation. */
  Continuation toContinuation(Text text) {
    if (active()) {
      throw new IllegalStateException("the row has not ended");
    }
    long[] out = Arrays.copyOf(ids, count);
    String decoded = finish == FinishReason.STOP ? stoppedText : text.decode(out, true);
    return new Continuation(out, decoded, finish, error);
  }
}

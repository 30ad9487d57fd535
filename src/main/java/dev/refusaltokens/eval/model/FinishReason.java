package dev.refusaltokens.eval.model;

import java.util.Locale;

/** Why a greedy continuation ended ({@link Continuation#finishReason()}). */
public enum FinishReason {
  /** The model chose an end-of-sequence id (not part of the continuation). */
  EOS,
  /** A stop string appeared; the text ends before it. */
  STOP,
  /** {@code max_new_tokens} reached, or the model's window is full. */
  LENGTH,
  /** The continuation could not go on (non-finite logits, a prefix longer than the window). */
  ERROR;

  /**
   * The lowercase id written to tables: {@code eos}, {@code stop}, {@code length}, {@code error}.
   */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The reason of a lowercase id. */
  public static FinishReason fromId(String id) {
    for (FinishReason r : values()) {
      if (r.id().equals(id)) {
        return r;
      }
    }
    throw new IllegalArgumentException(
        "unknown finish reason '" + id + "': one of eos, stop, length, error");
  }
}

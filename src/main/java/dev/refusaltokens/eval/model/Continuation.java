package dev.refusaltokens.eval.model;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * One greedy continuation of a prefix (a rendered prompt + its forced first token).
 *
 * @param newTokenIds the generated ids: the forced token and the end-of-sequence id excluded; with
 *     {@link FinishReason#STOP}, up to and including the token that completed the stop string
 * @param text the decoded new ids, special tokens skipped; with {@link FinishReason#STOP}, cut
 *     before the first stop string
 * @param finishReason why it ended
 * @param error what went wrong, for {@link FinishReason#ERROR} only (else null)
 */
public record Continuation(long[] newTokenIds, String text, FinishReason finishReason, String error)
    implements Serializable {

  public Continuation {
    newTokenIds = newTokenIds.clone();
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(finishReason, "finishReason");
    if ((finishReason == FinishReason.ERROR) != (error != null)) {
      throw new IllegalArgumentException(
          "a continuation has an error reason exactly when it finished with error: "
              + finishReason
              + ", "
              + error);
    }
  }

  @Override
  public long[] newTokenIds() {
    return newTokenIds.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Continuation c
        && Arrays.equals(newTokenIds, c.newTokenIds)
        && text.equals(c.text)
        && finishReason == c.finishReason
        && Objects.equals(error, c.error);
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(newTokenIds), text, finishReason, error);
  }

  @Override
  public String toString() {
    return "Continuation["
        + finishReason.id()
        + (error == null ? "" : " (" + error + ")")
        + ", "
        + Arrays.toString(newTokenIds)
        + ", \""
        + text
        + "\"]";
  }
}

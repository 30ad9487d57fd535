package dev.refusaltokens.eval.judge;

import java.io.Serializable;
import java.util.Objects;

/**
 * One judge's reading of one response.
 *
 * @param label the label given
 * @param refusalProbability the judge's probability that the response refuses, for judges that have
 *     one (a model judge); null for the string-match judge
 */
public record Verdict(Label label, Double refusalProbability) implements Serializable {

  public Verdict {
    Objects.requireNonNull(label, "label");
    if (refusalProbability != null && !(refusalProbability >= 0.0 && refusalProbability <= 1.0)) {
      throw new IllegalArgumentException(
          "refusal probability " + refusalProbability + " is not in [0, 1]");
    }
  }

  /** A verdict without a probability. */
  public static Verdict of(Label label) {
    return new Verdict(label, null);
  }
}

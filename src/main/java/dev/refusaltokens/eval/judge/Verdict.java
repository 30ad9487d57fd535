package dev.refusaltokens.eval.judge;

import java.io.Serializable;
import java.util.Objects;

/**
 * One judge's reading of one response.
 *
 * @param label the label given
 * @param refusalProbability the judge's probability that the response refuses, for judges that have
 *     one (a model judge: p(refused) among its verdict tokens); null for the string-match judge
 * @param otherMass a model judge's probability on first tokens that are no verdict token (the mass
 *     its verdict does not account for); null for other judges and for a response not put through
 *     the judge model
 */
public record Verdict(Label label, Double refusalProbability, Double otherMass)
    implements Serializable {

  public Verdict {
    Objects.requireNonNull(label, "label");
    for (Double p : new Double[] {refusalProbability, otherMass}) {
      if (p != null && !(p >= 0.0 && p <= 1.0)) {
        throw new IllegalArgumentException("probability " + p + " is not in [0, 1]");
      }
    }
  }

  /** A verdict without probabilities. */
  public static Verdict of(Label label) {
    return new Verdict(label, null, null);
  }
}

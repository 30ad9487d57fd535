package dev.refusaltokens.eval.decide;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The sufficient statistic of one prompt at one temperature: natural-log probabilities, over the
 * whole vocabulary, of {@code [respond]}, of each refusal token (in the configured order) and of
 * the best other vocabulary token. Every decision rule is exact arithmetic on this record; no model
 * is needed.
 */
public record FirstTokenStats(double respondLogprob, double[] refusalLogprobs, double otherLogprob)
    implements Serializable {

  public FirstTokenStats {
    if (refusalLogprobs.length == 0) {
      throw new IllegalArgumentException("at least one refusal token is required");
    }
    refusalLogprobs = refusalLogprobs.clone();
  }

  public int refusalTokenCount() {
    return refusalLogprobs.length;
  }

  public double refusalLogprob(int token) {
    return refusalLogprobs[token];
  }

  /** {@code c* = argmax_c p(c)} over the refusal tokens; the lowest index wins a tie. */
  public int topRefusalToken() {
    int best = 0;
    for (int c = 1; c < refusalLogprobs.length; c++) {
      if (refusalLogprobs[c] > refusalLogprobs[best]) {
        best = c;
      }
    }
    return best;
  }

  /** The model's own first token: the argmax over the whole vocabulary. */
  public FirstToken greedyToken() {
    int top = topRefusalToken();
    double refusal = refusalLogprobs[top];
    if (otherLogprob > respondLogprob && otherLogprob > refusal) {
      return FirstToken.other();
    }
    return refusal > respondLogprob ? FirstToken.refusal(top) : FirstToken.respond();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FirstTokenStats s
        && Double.compare(respondLogprob, s.respondLogprob) == 0
        && Double.compare(otherLogprob, s.otherLogprob) == 0
        && Arrays.equals(refusalLogprobs, s.refusalLogprobs);
  }

  @Override
  public int hashCode() {
    return 31 * Double.hashCode(respondLogprob) + Arrays.hashCode(refusalLogprobs);
  }

  @Override
  public String toString() {
    return "FirstTokenStats[respond="
        + respondLogprob
        + ", refusal="
        + Arrays.toString(refusalLogprobs)
        + ", other="
        + otherLogprob
        + "]";
  }
}

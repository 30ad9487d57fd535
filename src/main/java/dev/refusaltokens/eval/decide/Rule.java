package dev.refusaltokens.eval.decide;

import java.util.Locale;

/**
 * The decision rules of the sweep. Each maps a prompt's {@link FirstTokenStats} and a {@link
 * Setting} to the first token the model would emit.
 *
 * <ul>
 *   <li>{@code greedy}: the model's own argmax over the whole vocabulary (no intervention).
 *   <li>{@code argmax}: control tokens only: refuse with {@code c*} iff {@code p(c*) ≥
 *       p([respond])}, else {@code [respond]}; for the single-token model this is the paper's rule
 *       A0.
 *   <li>{@code threshold}: per-token thresholds (rule B′ of design.md): with {@code c*} the most
 *       probable refusal token, emit {@code c*} iff {@code p_T(c*) ≥ τ(c*)}, else {@code
 *       [respond]}; when {@code c*} has no threshold it is left greedy. One τ over a selected set S
 *       is the official category rule B; a single {@code [refuse]} token is rule A.
 *   <li>{@code logit_bias}: add a bias {@code b(c)} to each refusal token's tempered logit {@code
 *       z/T} and take the greedy argmax over the whole vocabulary. Adding {@code b} to a tempered
 *       logit adds {@code b} to its log-softmax before renormalisation, which does not change the
 *       argmax, so the decision is exact on the stored log-probabilities. At {@code T = 1} the bias
 *       is on the logit itself; at other temperatures it equals a bias of {@code b·T} on the raw
 *       logit. Not separable: the winning token depends on every bias.
 * </ul>
 */
public enum Rule {
  GREEDY,
  ARGMAX,
  THRESHOLD,
  LOGIT_BIAS;

  /** The name used in config and in the {@code rates.rule} column. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Rule fromId(String id) {
    for (Rule r : values()) {
      if (r.id().equals(id)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown rule '" + id + "'");
  }

  public FirstToken decide(FirstTokenStats s, Setting setting) {
    return switch (this) {
      case GREEDY -> s.greedyToken();
      case ARGMAX -> {
        int top = s.topRefusalToken();
        yield s.refusalLogprob(top) >= s.respondLogprob()
            ? FirstToken.refusal(top)
            : FirstToken.respond();
      }
      case THRESHOLD -> {
        int top = s.topRefusalToken();
        double tau = setting.threshold(top);
        if (Double.isNaN(tau)) {
          yield s.greedyToken();
        }
        // Compare in probability space: p ≥ τ, with p = exp(log p). τ = 0 refuses every prompt.
        yield Math.exp(s.refusalLogprob(top)) >= tau
            ? FirstToken.refusal(top)
            : FirstToken.respond();
      }
      case LOGIT_BIAS -> {
        // the same tie-breaking as FirstTokenStats.greedyToken: lowest index, then refusal over
        // respond
        int best = 0;
        double bestValue = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < s.refusalTokenCount(); c++) {
          double v = s.refusalLogprob(c) + setting.bias(c);
          if (v > bestValue) {
            best = c;
            bestValue = v;
          }
        }
        if (s.otherLogprob() > s.respondLogprob() && s.otherLogprob() > bestValue) {
          yield FirstToken.other();
        }
        yield bestValue > s.respondLogprob() ? FirstToken.refusal(best) : FirstToken.respond();
      }
    };
  }
}

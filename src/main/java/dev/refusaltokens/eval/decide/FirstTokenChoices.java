package dev.refusaltokens.eval.decide;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The distinct first tokens that the sweep's settings emit for one prompt, over all its scored
 * temperatures: the continuations the respond stage generates for it. Each setting is decided
 * exactly as the sweep decides it ({@link SweepPoint#decide}), so the judged outcome of every
 * setting is the judged response after the token this set holds for it (design: generation.md §2).
 * Under {@code greedy}, {@code argmax} and every {@code threshold} setting the token is one of
 * {@code [respond]}, the top refusal token {@code c*} and the greedy token; under {@code
 * logit_bias} any refusal token may win. The full per-category threshold grid (frontier, operating
 * points) needs no points of its own: at {@code c*} its decision depends on {@code τ(c*)} alone, a
 * value of the same grid as the shared-τ points.
 */
public final class FirstTokenChoices {

  private FirstTokenChoices() {}

  /**
   * The most distinct first tokens any prompt can need under {@code rules} with {@code
   * refusalTokens} refusal tokens: the bound {@code responses.max_first_tokens_per_prompt} is
   * checked against, before any work.
   */
  public static int maxPerPrompt(List<Rule> rules, int refusalTokens) {
    if (rules.contains(Rule.LOGIT_BIAS)) {
      return refusalTokens + 2; // [respond], any refusal token, the best other token
    }
    if (rules.contains(Rule.GREEDY) || rules.contains(Rule.THRESHOLD)) {
      return 3; // [respond], c*, the greedy token
    }
    return rules.isEmpty() ? 0 : 2; // argmax: [respond] or c*
  }

  /**
   * The tokens the {@code points} emit for a prompt scored at several temperatures ({@code
   * perTemperature}), in the order first met. Stops early once as many tokens as the rules can emit
   * were met: a temperature rescales the logits, which keeps their order, so {@code c*} and the
   * greedy token are the same at every temperature and the bound holds across temperatures.
   */
  public static List<FirstToken> of(List<FirstTokenStats> perTemperature, List<SweepPoint> points) {
    Set<FirstToken> out = new LinkedHashSet<>();
    if (perTemperature.isEmpty()) {
      return List.of();
    }
    int bound = bound(points, perTemperature.get(0).refusalTokenCount());
    for (FirstTokenStats stats : perTemperature) {
      for (SweepPoint p : points) {
        out.add(p.decide(stats));
        if (out.size() == bound) {
          return new ArrayList<>(out);
        }
      }
    }
    return new ArrayList<>(out);
  }

  private static int bound(List<SweepPoint> points, int refusalTokens) {
    Set<Rule> rules = new LinkedHashSet<>();
    for (SweepPoint p : points) {
      rules.add(p.rule());
    }
    return maxPerPrompt(new ArrayList<>(rules), refusalTokens);
  }
}

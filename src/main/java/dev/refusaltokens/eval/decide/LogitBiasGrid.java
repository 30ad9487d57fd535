package dev.refusaltokens.eval.decide;

import java.io.Serializable;
import java.util.List;

/**
 * The biases swept by {@link Rule#LOGIT_BIAS}. When {@code values.size()^K ≤ fullGridMaxPoints}
 * every combination of per-token biases is evaluated (the full Cartesian grid); otherwise one bias
 * shared by every refusal token, plus one sweep per token with the others unbiased. Each point
 * decides every prompt, so the cost is prompts × points.
 *
 * @param values logit biases (natural-log units), finite, distinct, in increasing order
 * @param fullGridMaxPoints the largest full grid evaluated
 */
public record LogitBiasGrid(List<Double> values, long fullGridMaxPoints) implements Serializable {

  public static final LogitBiasGrid DEFAULT =
      new LogitBiasGrid(List.of(-4.0, -2.0, 0.0, 2.0, 4.0), 10_000);

  public LogitBiasGrid {
    values = List.copyOf(values);
    if (values.isEmpty()) {
      throw new IllegalArgumentException("needs at least one bias value");
    }
    for (int i = 0; i < values.size(); i++) {
      if (!Double.isFinite(values.get(i))) {
        throw new IllegalArgumentException("bias " + values.get(i) + " is not finite");
      }
      if (i > 0 && !(values.get(i) > values.get(i - 1))) {
        throw new IllegalArgumentException("bias values must increase: " + values);
      }
    }
    if (fullGridMaxPoints < 0) {
      throw new IllegalArgumentException(
          "the full-grid limit must be ≥ 0, got " + fullGridMaxPoints);
    }
  }

  /** Whether {@code tokens} refusal tokens get the full Cartesian grid. */
  public boolean fullGrid(int tokens) {
    long points = Frontier.gridPoints(values.size(), tokens);
    return points >= 0 && points <= fullGridMaxPoints;
  }
}

package dev.refusaltokens.eval.decide;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The points the sweep evaluates: {@code greedy} and {@code argmax} once each; for {@code
 * threshold}, one τ shared by all refusal tokens at every grid value, and — with several refusal
 * tokens — one sweep per token with the other tokens left greedy. With a single refusal token both
 * threshold sweeps are the same points and appear once. For {@code logit_bias}, the grid of {@link
 * LogitBiasGrid}.
 */
public final class SweepPlan {

  private SweepPlan() {}

  public static List<SweepPoint> points(
      int refusalTokens, List<Rule> rules, ThresholdGrid grid, LogitBiasGrid biases) {
    Set<SweepPoint> points = new LinkedHashSet<>();
    int[] all = new int[refusalTokens];
    for (int c = 0; c < refusalTokens; c++) {
      all[c] = c;
    }
    for (Rule rule : rules) {
      switch (rule) {
        case GREEDY, ARGMAX -> points.add(new SweepPoint(rule, Setting.none(refusalTokens)));
        case THRESHOLD -> {
          for (double tau : grid.values()) {
            points.add(new SweepPoint(rule, Setting.shared(refusalTokens, tau, all)));
          }
          for (int c = 0; c < refusalTokens; c++) {
            for (double tau : grid.values()) {
              points.add(new SweepPoint(rule, Setting.shared(refusalTokens, tau, c)));
            }
          }
        }
        case LOGIT_BIAS -> points.addAll(biasPoints(refusalTokens, biases));
      }
    }
    return new ArrayList<>(points);
  }

  private static List<SweepPoint> biasPoints(int refusalTokens, LogitBiasGrid biases) {
    List<Double> values = biases.values();
    List<SweepPoint> points = new ArrayList<>();
    if (biases.fullGrid(refusalTokens)) {
      int[] idx = new int[refusalTokens];
      long total = Frontier.gridPoints(values.size(), refusalTokens);
      for (long p = 0; p < total; p++) {
        double[] b = new double[refusalTokens];
        for (int c = 0; c < refusalTokens; c++) {
          b[c] = values.get(idx[c]);
        }
        points.add(new SweepPoint(Rule.LOGIT_BIAS, new Setting(b)));
        for (int c = refusalTokens - 1; c >= 0; c--) { // odometer: last token fastest
          if (++idx[c] < values.size()) {
            break;
          }
          idx[c] = 0;
        }
      }
      return points;
    }
    int[] all = new int[refusalTokens];
    for (int c = 0; c < refusalTokens; c++) {
      all[c] = c;
    }
    for (double b : values) {
      points.add(new SweepPoint(Rule.LOGIT_BIAS, Setting.shared(refusalTokens, b, all)));
    }
    for (int c = 0; c < refusalTokens; c++) {
      for (double b : values) {
        if (b != 0.0) { // one token at bias 0 is the shared bias 0: greedy, listed once
          points.add(new SweepPoint(Rule.LOGIT_BIAS, Setting.shared(refusalTokens, b, c)));
        }
      }
    }
    return points;
  }
}

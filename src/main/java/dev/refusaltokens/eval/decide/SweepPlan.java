package dev.refusaltokens.eval.decide;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The points the sweep evaluates: {@code greedy} and {@code argmax} once each; for {@code threshold},
 * one τ shared by all refusal tokens at every grid value, and — with several refusal tokens — one sweep
 * per token with the other tokens left greedy. With a single refusal token both threshold sweeps are the
 * same points and appear once.
 */
public final class SweepPlan {

  private SweepPlan() {}

  public static List<SweepPoint> points(int refusalTokens, List<Rule> rules, ThresholdGrid grid) {
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
      }
    }
    return new ArrayList<>(points);
  }
}

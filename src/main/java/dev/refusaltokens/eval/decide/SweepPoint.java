package dev.refusaltokens.eval.decide;

import java.io.Serializable;

/** One evaluated point of the sweep: a rule and its setting. */
public record SweepPoint(Rule rule, Setting setting) implements Serializable {

  public SweepPoint {
    if (rule == Rule.THRESHOLD) {
      setting.requireThresholds();
    }
  }

  public FirstToken decide(FirstTokenStats stats) {
    return rule.decide(stats, setting);
  }
}

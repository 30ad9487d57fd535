package dev.refusaltokens.eval.decide;

/** One evaluated point of the sweep: a rule and its setting. */
public record SweepPoint(Rule rule, Setting setting) implements java.io.Serializable {

  public SweepPoint {
    if (rule == Rule.THRESHOLD) {
      setting.requireThresholds();
    }
  }

  public FirstToken decide(FirstTokenStats stats) {
    return rule.decide(stats, setting);
  }
}

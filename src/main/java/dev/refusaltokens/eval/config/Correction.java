package dev.refusaltokens.eval.config;

/**
 * {@code regress.correction}: how the p-values of one regress call are adjusted for many
 * comparisons.
 */
public enum Correction {
  /** Holm's step-down: family-wise over every comparison of the call. */
  HOLM("holm"),
  /** Each comparison on its own. */
  NONE("none");

  private final String id;

  Correction(String id) {
    this.id = id;
  }

  /** As written in the config and in the regress verdict. */
  public String id() {
    return id;
  }

  /** The id, so text that prints the correction reads as the config does. */
  @Override
  public String toString() {
    return id;
  }

  static Correction parse(String id) {
    for (Correction c : values()) {
      if (c.id.equals(id)) {
        return c;
      }
    }
    throw ConfigException.badValue(
        RegressConfig.CORRECTION, id, "is not a correction", "use holm (default) or none");
  }
}

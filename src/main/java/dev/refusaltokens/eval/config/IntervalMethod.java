package dev.refusaltokens.eval.config;

/** {@code report.interval}: how the confidence bounds on every rate are computed. */
public enum IntervalMethod {
  /** The Wilson score interval of each rate. */
  WILSON("wilson"),
  /** Percentiles of a Poisson bootstrap over prompts, in Spark. */
  BOOTSTRAP("bootstrap");

  private final String id;

  IntervalMethod(String id) {
    this.id = id;
  }

  /** As written in the config and in the {@code interval} column of the tables. */
  public String id() {
    return id;
  }

  /** The id, so text that prints the method reads as the config does. */
  @Override
  public String toString() {
    return id;
  }

  static IntervalMethod parse(String id) {
    for (IntervalMethod m : values()) {
      if (m.id.equals(id)) {
        return m;
      }
    }
    throw ConfigException.badValue(
        SweepConfig.INTERVAL, id, "is not an interval method", "use wilson (default) or bootstrap");
  }
}

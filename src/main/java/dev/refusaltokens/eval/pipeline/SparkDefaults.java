package dev.refusaltokens.eval.pipeline;

import java.util.Map;

/**
 * Spark settings the job needs whatever the deployment; applied when the user (spark-submit or
 * {@code spark.conf}) has not set them.
 */
public final class SparkDefaults {

  /**
   * Lets adaptive query execution coalesce the shuffle partitions of a persisted plan. Without it
   * the prompt table, persisted after its duplicate-id window, keeps {@code
   * spark.sql.shuffle.partitions} (200) partitions, and every later job over it runs 200 near-empty
   * tasks: on 2 cores that was 10 of the score stage's 16 seconds for CoCoNot.
   */
  public static final Map<String, String> CONF =
      Map.of(
          "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning", "true",
          "spark.ui.showConsoleProgress", "false");

  private SparkDefaults() {}
}

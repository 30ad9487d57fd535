package dev.refusaltokens.eval.job;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.pipeline.SparkDefaults;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Builds the job's SparkSession. The master comes from spark-submit when it sets one, else from
 * {@code spark.master}; the config's {@code spark.conf} entries are applied on top of spark-submit's.
 */
final class Sessions {

  private Sessions() {}

  static SparkSession build(EvalConfig config) {
    SparkConf conf = new SparkConf(); // picks up spark.* system properties set by spark-submit
    if (!conf.contains("spark.master")) {
      conf.setMaster(config.sparkMaster());
    }
    conf.setAppName("refusal-eval " + config.runId());
    config.sparkConf().forEach(conf::set);
    SparkDefaults.CONF.forEach(conf::setIfMissing);
    return SparkSession.builder().config(conf).getOrCreate();
  }

  /** Builds the session, runs {@code body} in it, and stops the session whatever happens. */
  static <T> T within(EvalConfig config, java.util.function.Function<SparkSession, T> body) {
    SparkSession spark = build(config);
    try {
      return body.apply(spark);
    } finally {
      spark.stop();
    }
  }
}

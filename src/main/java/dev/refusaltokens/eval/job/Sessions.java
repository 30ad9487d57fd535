package dev.refusaltokens.eval.job;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.pipeline.SparkDefaults;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import scala.Option;

/**
 * Builds the job's SparkSession. The master comes from spark-submit when it sets one, else from
 * {@code spark.master}; the config's {@code spark.conf} entries are applied on top of
 * spark-submit's.
 */
final class Sessions {

  private Sessions() {}

  static SparkSession build(EvalConfig config) {
    return build("refusal-eval " + config.runId(), config.sparkMaster(), config.sparkConf());
  }

  /** As {@link #build(EvalConfig)}, for a job with its own config ({@code judge-check}). */
  static SparkSession build(String appName, String master, Map<String, String> sparkConf) {
    SparkConf conf = new SparkConf(); // picks up spark.* system properties set by spark-submit
    if (!conf.contains("spark.master")) {
      conf.setMaster(master);
    }
    conf.setAppName(appName);
    sparkConf.forEach(conf::set);
    SparkDefaults.CONF.forEach(conf::setIfMissing);
    return SparkSession.builder().config(conf).getOrCreate();
  }

  /**
   * Runs {@code body} in the job's session, then stops that session if this call started it,
   * whatever happens. A session already running in this JVM (a test's, or a notebook's) is used and
   * left running: its owner stops it.
   */
  static <T> T within(EvalConfig config, Function<SparkSession, T> body) {
    return within("refusal-eval " + config.runId(), config.sparkMaster(), config.sparkConf(), body);
  }

  /** As {@link #within(EvalConfig, Function)}, for a job with its own config. */
  static <T> T within(
      String appName,
      String master,
      Map<String, String> sparkConf,
      Function<SparkSession, T> body) {
    Optional<SparkSession> running = running();
    SparkSession spark = build(appName, master, sparkConf);
    boolean started = running.map(s -> s != spark).orElse(true);
    try {
      return body.apply(spark);
    } finally {
      if (started) {
        spark.stop();
      }
    }
  }

  /**
   * The session {@code getOrCreate} would return: this thread's active one, else the default, if
   * usable.
   */
  private static Optional<SparkSession> running() {
    return Stream.of(SparkSession.getActiveSession(), SparkSession.getDefaultSession())
        .filter(Option::isDefined)
        .map(Option::get)
        .filter(s -> !s.sparkContext().isStopped())
        .findFirst();
  }
}

package dev.refusaltokens.eval.testing;

import dev.refusaltokens.eval.pipeline.SparkDefaults;
import org.apache.spark.sql.SparkSession;

/** One local SparkSession for the whole test JVM (starting one costs seconds on 2 cores). */
public final class SparkTestSession {

  private static SparkSession spark;

  private SparkTestSession() {}

  public static synchronized SparkSession get() {
    if (spark == null
        || spark.sparkContext().isStopped()) { // a test that needs another master stops it
      SparkSession.Builder builder =
          SparkSession.builder()
              .master("local[2]")
              .appName("refusal-eval-tests")
              .config("spark.ui.enabled", "false")
              .config("spark.sql.shuffle.partitions", "4");
      SparkDefaults.CONF.forEach(builder::config);
      spark = builder.getOrCreate();
      SparkSession session = spark;
      Runtime.getRuntime().addShutdownHook(new Thread(session::stop));
    }
    return spark;
  }
}

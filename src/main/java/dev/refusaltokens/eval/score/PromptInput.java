package dev.refusaltokens.eval.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sha2;

import dev.refusaltokens.eval.bench.PromptLoader;
import dev.refusaltokens.eval.config.BenchmarkSpec;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.table.Columns;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * A run's prompt sets as loaded, persisted while the stage runs (closing unpersists them), with the
 * counts the stage reports and checks the written tables against.
 *
 * @param all every input row ({@code ParsedPrompt} columns), the rejected ones included
 * @param inByBenchmark input rows per benchmark
 * @param valid the rows to score, with their {@code prompt_sha256}
 * @param validCount rows of {@code valid}
 */
record PromptInput(
    Dataset<Row> all, Map<String, Long> inByBenchmark, Dataset<Row> valid, long validCount)
    implements AutoCloseable {

  static PromptInput load(SparkSession spark, EvalConfig config) {
    JavaSparkContext.fromSparkContext(spark.sparkContext())
        .setJobGroup(
            "load",
            "Loading prompt sets " + config.benchmarks().stream().map(BenchmarkSpec::name).toList(),
            false);
    Dataset<Row> all =
        PromptLoader.load(spark, config.benchmarks()).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Map<String, Long> inByBenchmark = BenchmarkCount.countByBenchmark(all);
      Dataset<Row> valid =
          all.where(col(Columns.REASON).isNull())
              .withColumn(Columns.PROMPT_SHA256, sha2(col(Columns.PROMPT), 256));
      return new PromptInput(all, inByBenchmark, valid, valid.count());
    } catch (RuntimeException e) { // no record to close yet: release the cache here
      all.unpersist();
      throw e;
    }
  }

  /** Input rows, all benchmarks together. */
  long rowsIn() {
    return BenchmarkCount.total(inByBenchmark);
  }

  @Override
  public void close() {
    all.unpersist();
  }
}

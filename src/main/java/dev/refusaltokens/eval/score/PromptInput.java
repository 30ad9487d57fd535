package dev.refusaltokens.eval.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.refusaltokens.eval.bench.PromptLoader;
import dev.refusaltokens.eval.config.BenchmarkSpec;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RowReader;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * A run's prompt sets as loaded, persisted while the stage runs (closing unpersists them), with the
 * counts the stage reports and checks the written tables against.
 *
 * @param parsed every input row as parsed, the cached rows
 * @param all every input row ({@code ParsedPrompt} columns), duplicate ids marked, the rejected
 *     ones included
 * @param inByBenchmark input rows per benchmark
 * @param valid the rows to score ({@code prompt_sha256} is taken once, when a row is written to
 *     {@code scores})
 * @param validCount rows of {@code valid}
 */
record PromptInput(
    Dataset<Row> parsed,
    Dataset<Row> all,
    Map<String, Long> inByBenchmark,
    Dataset<Row> valid,
    long validCount)
    implements AutoCloseable {

  private static final String ROWS = "rows";
  private static final String VALID = "valid";

  static PromptInput load(SparkSession spark, EvalConfig config) {
    JavaSparkContext.fromSparkContext(spark.sparkContext())
        .setJobGroup(
            "load",
            "Loading prompt sets " + config.benchmarks().stream().map(BenchmarkSpec::name).toList(),
            false);
    Dataset<Row> parsed =
        PromptLoader.parse(spark, config.benchmarks()).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      // duplicate ids are found on the cached rows (the input is read and parsed once); with any,
      // `all` is a broadcast join over the cache, cheap enough to recompute on each use
      Dataset<Row> all = PromptLoader.markDuplicates(parsed);
      // one Spark job over the cached rows: the rows in and the valid rows of each benchmark
      Map<String, Long> inByBenchmark = new TreeMap<>();
      long validCount = 0;
      for (Row row :
          all.groupBy(Columns.BENCHMARK)
              .agg(
                  count(lit(1)).as(ROWS),
                  sum(when(col(Columns.REASON).isNull(), 1L).otherwise(0L)).as(VALID))
              .collectAsList()) {
        RowReader r = RowReader.of(row);
        inByBenchmark.put(r.string(Columns.BENCHMARK), r.longValue(ROWS));
        validCount += r.longValue(VALID);
      }
      return new PromptInput(
          parsed, all, inByBenchmark, all.where(col(Columns.REASON).isNull()), validCount);
    } catch (RuntimeException e) { // no record to close yet: release the cache here
      parsed.unpersist();
      throw e;
    }
  }

  /** Input rows, all benchmarks together. */
  long rowsIn() {
    return BenchmarkCount.total(inByBenchmark);
  }

  @Override
  public void close() {
    parsed.unpersist();
  }
}

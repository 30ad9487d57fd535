package dev.refusaltokens.eval.score;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RowReader;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * One row of {@code groupBy(benchmark).count()}, read by column name: Spark makes that row, and
 * names its count column {@value #COUNT}.
 */
record BenchmarkCount(String benchmark, long count) {

  static final String COUNT = "count";

  static BenchmarkCount fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new BenchmarkCount(r.string(Columns.BENCHMARK), r.longValue(COUNT));
  }

  /**
   * Rows per benchmark of {@code rows} (any rows with a {@code benchmark} column), by benchmark
   * name.
   */
  static Map<String, Long> countByBenchmark(Dataset<Row> rows) {
    Map<String, Long> out = new TreeMap<>();
    for (Row row : rows.groupBy(Columns.BENCHMARK).count().collectAsList()) {
      BenchmarkCount c = fromRow(row);
      out.put(c.benchmark(), c.count());
    }
    return out;
  }

  /** The sum of the counts. */
  static long total(Map<String, Long> byBenchmark) {
    return byBenchmark.values().stream().mapToLong(Long::longValue).sum();
  }
}

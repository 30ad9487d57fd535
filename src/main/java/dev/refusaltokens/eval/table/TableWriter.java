package dev.refusaltokens.eval.table;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * Writes a run's rows into {@code <output>/<table>}, partitioned by {@code run_id}, with dynamic
 * partition overwrite: re-running a run id replaces that run's partition and leaves other runs alone.
 */
public final class TableWriter {

  private TableWriter() {}

  public static String path(String output, String table) {
    return output.endsWith("/") ? output + table : output + "/" + table;
  }

  public static void writeRun(Dataset<Row> rows, String output, String table) {
    rows.write()
        .mode(SaveMode.Overwrite)
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(Tables.RUN_ID)
        .parquet(path(output, table));
  }

  /**
   * One run's rows of a table. The schema is given, not inferred: an inferred {@code run_id} such as
   * "42" would otherwise come back as an integer.
   */
  public static Dataset<Row> readRun(SparkSession spark, String output, String table,
      org.apache.spark.sql.types.StructType schema, String runId) {
    return spark.read().schema(schema).parquet(path(output, table)).where(
        org.apache.spark.sql.functions.col(Tables.RUN_ID).equalTo(runId));
  }
}

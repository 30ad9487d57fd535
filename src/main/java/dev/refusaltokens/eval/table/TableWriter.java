package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.functions.col;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * Writes and reads one run's partition {@code <output>/<table>/run_id=<id>/} of a table. Writing
 * overwrites exactly that folder: re-running a run id replaces its rows and leaves other runs alone, and
 * a run with no rows (no rejects, say) still leaves a partition with the schema, so readers see zero rows
 * rather than a missing or stale partition.
 */
public final class TableWriter {

  private TableWriter() {}

  public static String path(String output, String table) {
    return output.endsWith("/") ? output + table : output + "/" + table;
  }

  /** Run ids are {@code [A-Za-z0-9_.-]}: the partition folder name needs no escaping. */
  static String partitionPath(String output, String table, String runId) {
    return path(output, table) + "/" + Tables.RUN_ID + "=" + runId;
  }

  public static void writeRun(Dataset<Row> rows, String output, String table, String runId) {
    rows.drop(Tables.RUN_ID).write().mode(SaveMode.Overwrite).parquet(partitionPath(output, table, runId));
  }

  /** Removes a run's partition of a table, if there is one. */
  public static void deleteRun(SparkSession spark, String output, String table, String runId) {
    org.apache.hadoop.fs.Path partition = new org.apache.hadoop.fs.Path(partitionPath(output, table, runId));
    try {
      partition.getFileSystem(spark.sparkContext().hadoopConfiguration()).delete(partition, true);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("Cannot delete " + partition, e);
    }
  }

  /**
   * One run's rows of a table. The schema is given, not inferred: an inferred {@code run_id} such as
   * "42" would otherwise come back as an integer.
   */
  public static Dataset<Row> readRun(SparkSession spark, String output, String table, StructType schema,
      String runId) {
    return spark.read().schema(schema).parquet(path(output, table)).where(col(Tables.RUN_ID).equalTo(runId));
  }
}

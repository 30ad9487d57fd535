package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.functions.col;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * Writes and reads one run's partition {@code <output>/<table>/run_id=<id>/} of a table. Writing
 * overwrites exactly that folder: re-running a run id replaces its rows and leaves other runs
 * alone, and a run with no rows (no rejects, say) still leaves a partition with the schema, so
 * readers see zero rows rather than a missing or stale partition.
 */
public final class TableWriter {

  private TableWriter() {}

  public static String path(String output, String table) {
    return output.endsWith("/") ? output + table : output + "/" + table;
  }

  /** Run ids are {@code [A-Za-z0-9_.-]}: the partition folder name needs no escaping. */
  static String partitionPath(String output, String table, String runId) {
    return path(output, table) + "/" + Columns.RUN_ID + "=" + runId;
  }

  public static void writeRun(Dataset<Row> rows, String output, String table, String runId) {
    rows.drop(Columns.RUN_ID)
        .write()
        .mode(SaveMode.Overwrite)
        .parquet(partitionPath(output, table, runId));
  }

  /**
   * Adds rows to a run's partition (one committed Spark write: a retried task never duplicates
   * rows).
   */
  public static void appendRun(Dataset<Row> rows, String output, String table, String runId) {
    rows.drop(Columns.RUN_ID)
        .write()
        .mode(SaveMode.Append)
        .parquet(partitionPath(output, table, runId));
  }

  /**
   * Replaces a run's partition with {@code rows}, which may be read from that partition: they are
   * written to a side folder first (its name starts with '_', so readers skip it), then swapped in.
   */
  public static void replaceRun(
      SparkSession spark, Dataset<Row> rows, String output, String table, String runId) {
    String side = sidePath(output, table, runId);
    rows.drop(Columns.RUN_ID).write().mode(SaveMode.Overwrite).parquet(side);
    Path target = new Path(partitionPath(output, table, runId));
    try {
      swapIn(
          target.getFileSystem(spark.sparkContext().hadoopConfiguration()), new Path(side), target);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot replace " + target, e);
    }
  }

  /**
   * Finishes a {@link #replaceRun} that a killed process left half done, so that no committed write
   * is lost: a side folder holding {@code _SUCCESS} (its write was committed; the process died
   * while removing the old partition or before moving the new one in) becomes the partition; a side
   * folder without it (the process died while writing it) is removed, the partition being still
   * whole. Only the run's writer (the holder of its claim) may call this, before it writes.
   *
   * @return true when a committed side folder was moved in
   */
  public static boolean completeReplace(
      SparkSession spark, String output, String table, String runId) {
    Path side = new Path(sidePath(output, table, runId));
    Path target = new Path(partitionPath(output, table, runId));
    try {
      FileSystem fs = side.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(side)) {
        return false;
      }
      if (!fs.exists(new Path(side, SUCCESS))) {
        fs.delete(side, true);
        return false;
      }
      swapIn(fs, side, target);
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot complete the interrupted replace of " + target, e);
    }
  }

  /** The marker a committed Spark write leaves in its folder. */
  static final String SUCCESS = "_SUCCESS";

  /** Where {@link #replaceRun} writes first: a '_' folder, which readers of the table skip. */
  static String sidePath(String output, String table, String runId) {
    return path(output, table) + "/_replace-" + runId;
  }

  private static void swapIn(FileSystem fs, Path side, Path target) throws IOException {
    fs.delete(target, true);
    if (!fs.rename(side, target)) {
      throw new IOException("rename of " + side + " to " + target + " failed");
    }
  }

  /** One run's rows of a table, or null when the table or the run's partition does not exist. */
  public static Dataset<Row> readRunIfPresent(
      SparkSession spark, String output, String table, StructType schema, String runId) {
    Path partition = new Path(partitionPath(output, table, runId));
    try {
      if (!partition.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(partition)) {
        return null;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return readRun(spark, output, table, schema, runId);
  }

  /** Removes a run's partition of a table, if there is one. */
  public static void deleteRun(SparkSession spark, String output, String table, String runId) {
    Path partition = new Path(partitionPath(output, table, runId));
    try {
      partition.getFileSystem(spark.sparkContext().hadoopConfiguration()).delete(partition, true);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + partition, e);
    }
  }

  /** Every run's rows of a table; no rows (with the schema) when the table does not exist yet. */
  public static Dataset<Row> readAllRuns(
      SparkSession spark, String output, String table, StructType schema) {
    Path dir = new Path(path(output, table));
    try {
      if (!dir.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(dir)) {
        return spark.createDataFrame(List.of(), schema);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return spark.read().schema(schema).parquet(dir.toString());
  }

  /**
   * One run's rows of a table. The schema is given, not inferred: an inferred {@code run_id} such
   * as "42" would otherwise come back as an integer.
   */
  public static Dataset<Row> readRun(
      SparkSession spark, String output, String table, StructType schema, String runId) {
    return spark
        .read()
        .schema(schema)
        .parquet(path(output, table))
        .where(col(Columns.RUN_ID).equalTo(runId));
  }
}

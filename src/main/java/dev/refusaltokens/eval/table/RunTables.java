package dev.refusaltokens.eval.table;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * One run's partitions of the tables under one output folder: the handle every stage reads and
 * writes through. Writing checks the rows against the table's schema (names and types, in order),
 * so a stage cannot write a column the readers do not expect; see {@link TableWriter} for the
 * overwrite and append semantics.
 */
public final class RunTables {

  private final SparkSession spark;
  private final String output;
  private final String runId;

  public RunTables(SparkSession spark, String output, String runId) {
    this.spark = spark;
    this.output = output;
    this.runId = runId;
  }

  public SparkSession spark() {
    return spark;
  }

  public String output() {
    return output;
  }

  public String runId() {
    return runId;
  }

  /** The same output folder, another run. */
  public RunTables forRun(String otherRunId) {
    return new RunTables(spark, output, otherRunId);
  }

  /** {@code <output>/<table>}: the table's folder, every run's partition in it. */
  public String path(Table table) {
    return TableWriter.path(output, table.id());
  }

  /** This run's rows of a table (every column, {@code run_id} included). */
  public Dataset<Row> read(Table table) {
    return TableWriter.readRun(spark, output, table.id(), table.schema(), runId);
  }

  /** This run's rows, or null when the table or the run's partition does not exist. */
  public Dataset<Row> readIfPresent(Table table) {
    return TableWriter.readRunIfPresent(spark, output, table.id(), table.schema(), runId);
  }

  /** This run's rows of a table as records, collected to the driver. */
  public <R> List<R> collect(Table table, Function<Row, R> fromRow) {
    return read(table).collectAsList().stream().map(fromRow).toList();
  }

  /** Every run's rows of a table (empty when the table does not exist yet). */
  public Dataset<Row> readAllRuns(Table table) {
    return TableWriter.readAllRuns(spark, output, table.id(), table.schema());
  }

  /** Replaces this run's partition with {@code rows} ({@code run_id} may be present or not). */
  public void write(Table table, Dataset<Row> rows) {
    TableWriter.writeRun(checked(table, rows), output, table.id(), runId);
  }

  /** Replaces this run's partition with {@code records}. */
  public void write(Table table, List<? extends TableRecord> records) {
    write(
        table,
        spark.createDataFrame(records.stream().map(TableRecord::toRow).toList(), table.schema()));
  }

  /** Adds rows to this run's partition (one committed Spark write). */
  public void append(Table table, Dataset<Row> rows) {
    TableWriter.appendRun(checked(table, rows), output, table.id(), runId);
  }

  /** Replaces this run's partition with rows that may be read from it (through a side folder). */
  public void replace(Table table, Dataset<Row> rows) {
    TableWriter.replaceRun(spark, checked(table, rows), output, table.id(), runId);
  }

  /**
   * Finishes every {@link #replace} an earlier, killed writer of this run left half done ({@link
   * TableWriter#completeReplace}); the run's writer calls it once, before it reads or writes.
   *
   * @return the tables whose replacement was completed
   */
  public List<Table> completeInterruptedReplaces() {
    List<Table> done = new ArrayList<>();
    for (Table t : Table.values()) {
      if (TableWriter.completeReplace(spark, output, t.id(), runId)) {
        done.add(t);
      }
    }
    return done;
  }

  /**
   * Replaces this run's partition with {@code records} through a side folder, so that a process
   * killed at any moment leaves either the old rows or the new ones ({@link
   * #completeInterruptedReplaces}), never none: how the {@code runs} row is written.
   */
  public void replace(Table table, List<? extends TableRecord> records) {
    replace(
        table,
        spark.createDataFrame(records.stream().map(TableRecord::toRow).toList(), table.schema()));
  }

  /** Removes this run's partition of a table, if there is one. */
  public void delete(Table table) {
    TableWriter.deleteRun(spark, output, table.id(), runId);
  }

  /**
   * {@code rows} with the table's columns, in order; fails naming the first column that differs.
   */
  static Dataset<Row> checked(Table table, Dataset<Row> rows) {
    StructType want = table.schema();
    StructType have = rows.schema();
    List<StructField> wanted =
        List.of(want.fields()).stream()
            .filter(
                f ->
                    !f.name().equals(Columns.RUN_ID)
                        || have.getFieldIndex(Columns.RUN_ID).isDefined())
            .toList();
    if (wanted.size() != have.size()) {
      throw new IllegalStateException(
          "rows for table "
              + table
              + " have columns "
              + List.of(have.fieldNames())
              + ", the table has "
              + List.of(want.fieldNames()));
    }
    for (int i = 0; i < wanted.size(); i++) {
      StructField w = wanted.get(i);
      StructField h = have.fields()[i];
      if (!w.name().equals(h.name()) || !sameType(w, h)) {
        throw new IllegalStateException(
            "rows for table "
                + table
                + ": column "
                + i
                + " is "
                + h.name()
                + " "
                + h.dataType().simpleString()
                + ", the table has "
                + w.name()
                + " "
                + w.dataType().simpleString());
      }
    }
    return rows;
  }

  /**
   * Types equal but for nullability, which Spark's own plans do not always keep (catalog strings
   * omit it).
   */
  private static boolean sameType(StructField a, StructField b) {
    return a.dataType().catalogString().equals(b.dataType().catalogString());
  }
}

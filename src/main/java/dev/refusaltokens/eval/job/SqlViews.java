package dev.refusaltokens.eval.job;

import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.table.Table;
import dev.refusaltokens.eval.table.TableWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** {@code jobs/sql.sh}: the tables of an output folder as Spark SQL views, and results as CSV. */
final class SqlViews {

  private SqlViews() {}

  /**
   * One temporary view per table that exists under {@code output}, read with its declared schema.
   */
  static List<String> register(SparkSession spark, String output) {
    List<String> registered = new ArrayList<>();
    for (Table table : Table.values()) {
      Path dir = new Path(TableWriter.path(output, table.id()));
      try {
        if (dir.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(dir)) {
          spark
              .read()
              .schema(table.schema())
              .parquet(dir.toString())
              .createOrReplaceTempView(table.id());
          registered.add(table.id());
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    if (registered.isEmpty()) {
      throw new ConfigException(
          "No tables under output '"
              + output
              + "': pass --output with the folder an evaluation wrote");
    }
    return registered;
  }

  /** The first {@code maxRows} rows as CSV with a header; maps, arrays and structs as JSON text. */
  static void printCsv(Dataset<Row> result, int maxRows, OutputStream out) {
    // columns by position: a result may repeat a name (a join's two run_id) or hold dots (SELECT
    // 1.5)
    StructField[] fields = result.schema().fields();
    String[] positional = new String[fields.length];
    for (int i = 0; i < fields.length; i++) {
      positional[i] = "_c" + i;
    }
    Dataset<Row> renamed = result.toDF(positional);
    List<Column> columns = new ArrayList<>();
    for (int i = 0; i < fields.length; i++) {
      boolean complex =
          fields[i].dataType() instanceof MapType
              || fields[i].dataType() instanceof ArrayType
              || fields[i].dataType() instanceof StructType;
      columns.add(
          complex
              ? functions.to_json(functions.col(positional[i]))
              : functions.col(positional[i]).cast("string"));
    }
    List<Row> rows = renamed.select(columns.toArray(Column[]::new)).limit(maxRows).collectAsList();
    CsvSchema.Builder schema = CsvSchema.builder().setUseHeader(true);
    Arrays.stream(result.schema().fieldNames()).forEach(schema::addColumn);
    List<List<String>> values = new ArrayList<>();
    for (Row r : rows) {
      List<String> v = new ArrayList<>();
      for (int i = 0; i < r.size(); i++) {
        v.add(r.isNullAt(i) ? "" : r.getString(i));
      }
      values.add(v);
    }
    try {
      new CsvMapper().writer(schema.build()).writeValues(out).writeAll(values).flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

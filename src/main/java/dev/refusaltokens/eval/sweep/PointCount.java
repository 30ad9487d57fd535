package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.RowReader;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * A count of the rate sweep, partial (one partition's, from {@link DecidePartition}) or summed: of
 * one group's prompts (benchmark × temperature × category or {@code ALL} × should_refuse), {@code
 * n} in all and {@code refused} by sweep point number {@code point}.
 */
record PointCount(
    String benchmark,
    int point,
    double temperature,
    String category,
    boolean shouldRefuse,
    long n,
    long refused) {

  static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.POINT, IntegerType, false),
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(Columns.SHOULD_REFUSE, BooleanType, false),
              createStructField(Columns.N, LongType, false),
              createStructField(Columns.REFUSED, LongType, false)));

  Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.POINT, point)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.CATEGORY, category)
        .set(Columns.SHOULD_REFUSE, shouldRefuse)
        .set(Columns.N, n)
        .set(Columns.REFUSED, refused)
        .build();
  }

  static PointCount fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new PointCount(
        r.string(Columns.BENCHMARK),
        r.intValue(Columns.POINT),
        r.doubleValue(Columns.TEMPERATURE),
        r.string(Columns.CATEGORY),
        r.booleanValue(Columns.SHOULD_REFUSE),
        r.longValue(Columns.N),
        r.longValue(Columns.REFUSED));
  }
}

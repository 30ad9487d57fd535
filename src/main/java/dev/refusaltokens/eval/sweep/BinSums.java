package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.decide.Calibration;
import dev.refusaltokens.eval.table.CalibrationRow;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.RowReader;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * The {@link CalibrationPrompt}s of one group and reliability bin, summed: their count and the sums
 * of {@code p}, {@code y} and the squared error.
 */
record BinSums(
    double temperature,
    String benchmark,
    String category,
    int bin,
    long n,
    double sumP,
    long sumY,
    double sumSe) {

  static final String SUM_P = "sp";
  static final String SUM_Y = "sy";
  static final String SUM_SE = "sse";

  static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(CalibrationRow.Bin.BIN, IntegerType, false),
              createStructField(Columns.N, LongType, false),
              createStructField(SUM_P, DoubleType, false),
              createStructField(SUM_Y, LongType, false),
              createStructField(SUM_SE, DoubleType, false)));

  Calibration.Bin sums() {
    return new Calibration.Bin(n, sumP, sumY, sumSe);
  }

  Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.CATEGORY, category)
        .set(CalibrationRow.Bin.BIN, bin)
        .set(Columns.N, n)
        .set(SUM_P, sumP)
        .set(SUM_Y, sumY)
        .set(SUM_SE, sumSe)
        .build();
  }

  static BinSums fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new BinSums(
        r.doubleValue(Columns.TEMPERATURE),
        r.string(Columns.BENCHMARK),
        r.string(Columns.CATEGORY),
        r.intValue(CalibrationRow.Bin.BIN),
        r.longValue(Columns.N),
        r.doubleValue(SUM_P),
        r.longValue(SUM_Y),
        r.doubleValue(SUM_SE));
  }
}

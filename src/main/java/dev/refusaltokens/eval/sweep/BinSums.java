package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createDecimalType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.table.CalibrationRow;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.FirstTokenRow;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.RowReader;
import java.math.BigDecimal;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructType;

/**
 * The prompts of one calibration group (temperature × benchmark or {@code ALL} × category or {@code
 * ALL}), reliability bin and greedy first token, summed: their count, the sum of the label {@code
 * y} (1: should refuse) and the exact sums ({@link ExactSum}, 18 decimals) of {@code p} and of the
 * squared error {@code (p − y)²}. Partial sums of one partition, or their total over all.
 */
record BinSums(
    double temperature,
    String benchmark,
    String category,
    int bin,
    String firstToken,
    long n,
    long sumY,
    BigDecimal sumP,
    BigDecimal sumSe) {

  static final String SUM_Y = "sy";
  static final String SUM_P = "sp";
  static final String SUM_SE = "sse";

  /** The type of the exact sums: Spark's sum of a {@code decimal(38, 18)} column keeps it. */
  static final DecimalType SUM_TYPE = createDecimalType(38, ExactSum.SCALE);

  static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(CalibrationRow.Bin.BIN, IntegerType, false),
              createStructField(FirstTokenRow.FIRST_TOKEN, StringType, false),
              createStructField(Columns.N, LongType, false),
              createStructField(SUM_Y, LongType, false),
              createStructField(SUM_P, SUM_TYPE, false),
              createStructField(SUM_SE, SUM_TYPE, false)));

  /** The columns the partial sums are grouped by; every other column is summed. */
  static final List<String> KEYS =
      List.of(
          Columns.TEMPERATURE,
          Columns.BENCHMARK,
          Columns.CATEGORY,
          CalibrationRow.Bin.BIN,
          FirstTokenRow.FIRST_TOKEN);

  Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.CATEGORY, category)
        .set(CalibrationRow.Bin.BIN, bin)
        .set(FirstTokenRow.FIRST_TOKEN, firstToken)
        .set(Columns.N, n)
        .set(SUM_Y, sumY)
        .set(SUM_P, sumP)
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
        r.string(FirstTokenRow.FIRST_TOKEN),
        r.longValue(Columns.N),
        r.longValue(SUM_Y),
        row.getDecimal(row.fieldIndex(SUM_P)),
        row.getDecimal(row.fieldIndex(SUM_SE)));
  }
}

package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.table.CalibrationRow;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.FirstTokenRow;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.RowReader;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One prompt in one calibration group (temperature × benchmark or {@code ALL} × category or {@code
 * ALL}): its refusal probability {@code p}, reliability bin, label {@code y} (1: should refuse),
 * squared error and greedy first token.
 */
record CalibrationPrompt(
    double temperature,
    String benchmark,
    String category,
    int bin,
    int y,
    double p,
    double se,
    String firstToken) {

  static final String Y = "y";
  static final String P = "p";
  static final String SE = "se";

  static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(CalibrationRow.Bin.BIN, IntegerType, false),
              createStructField(Y, IntegerType, false),
              createStructField(P, DoubleType, false),
              createStructField(SE, DoubleType, false),
              createStructField(FirstTokenRow.FIRST_TOKEN, StringType, false)));

  Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.CATEGORY, category)
        .set(CalibrationRow.Bin.BIN, bin)
        .set(Y, y)
        .set(P, p)
        .set(SE, se)
        .set(FirstTokenRow.FIRST_TOKEN, firstToken)
        .build();
  }

  static CalibrationPrompt fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new CalibrationPrompt(
        r.doubleValue(Columns.TEMPERATURE),
        r.string(Columns.BENCHMARK),
        r.string(Columns.CATEGORY),
        r.intValue(CalibrationRow.Bin.BIN),
        r.intValue(Y),
        r.doubleValue(P),
        r.doubleValue(SE),
        r.string(FirstTokenRow.FIRST_TOKEN));
  }
}

package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.FirstTokenRow;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.RowReader;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/** The {@link CalibrationPrompt}s of one group with one greedy first token, counted. */
record FirstTokenCount(
    double temperature, String benchmark, String category, String firstToken, long n) {

  static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(FirstTokenRow.FIRST_TOKEN, StringType, false),
              createStructField(Columns.N, LongType, false)));

  Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.CATEGORY, category)
        .set(FirstTokenRow.FIRST_TOKEN, firstToken)
        .set(Columns.N, n)
        .build();
  }

  static FirstTokenCount fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new FirstTokenCount(
        r.doubleValue(Columns.TEMPERATURE),
        r.string(Columns.BENCHMARK),
        r.string(Columns.CATEGORY),
        r.string(FirstTokenRow.FIRST_TOKEN),
        r.longValue(Columns.N));
  }
}

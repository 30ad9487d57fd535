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
 * One cell of a {@link dev.refusaltokens.eval.decide.CategoryCounts} table, partial (one
 * partition's) or summed: of one group's prompts (temperature × benchmark × category ×
 * should_refuse), {@code n} have refusal token {@code token} on top with grid index {@code
 * gridIndex} the largest their probability passes.
 */
record GridCell(
    double temperature,
    String benchmark,
    String category,
    boolean shouldRefuse,
    int token,
    int gridIndex,
    long n) {

  static final String TOKEN = "token";
  static final String GRID_INDEX = "grid_index";

  static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(Columns.SHOULD_REFUSE, BooleanType, false),
              createStructField(TOKEN, IntegerType, false),
              createStructField(GRID_INDEX, IntegerType, false),
              createStructField(Columns.N, LongType, false)));

  Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.CATEGORY, category)
        .set(Columns.SHOULD_REFUSE, shouldRefuse)
        .set(TOKEN, token)
        .set(GRID_INDEX, gridIndex)
        .set(Columns.N, n)
        .build();
  }

  static GridCell fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new GridCell(
        r.doubleValue(Columns.TEMPERATURE),
        r.string(Columns.BENCHMARK),
        r.string(Columns.CATEGORY),
        r.booleanValue(Columns.SHOULD_REFUSE),
        r.intValue(TOKEN),
        r.intValue(GRID_INDEX),
        r.longValue(Columns.N));
  }
}

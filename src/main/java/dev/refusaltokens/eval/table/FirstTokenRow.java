package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code first_tokens}: how many prompts of one group (temperature × benchmark or {@code
 * ALL} × category or {@code ALL}) the model starts greedily with {@code firstToken} ({@code
 * [respond]}, a refusal token, or {@code (other)}), and their share of the group.
 */
public record FirstTokenRow(
    double temperature,
    String benchmark,
    String category,
    String firstToken,
    long n,
    double share,
    String runId)
    implements TableRecord {

  public static final String FIRST_TOKEN = "first_token";
  public static final String SHARE = "share";

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(FIRST_TOKEN, StringType, false),
              createStructField(Columns.N, LongType, false),
              createStructField(SHARE, DoubleType, false),
              createStructField(Columns.RUN_ID, StringType, false)));

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.CATEGORY, category)
        .set(FIRST_TOKEN, firstToken)
        .set(Columns.N, n)
        .set(SHARE, share)
        .set(Columns.RUN_ID, runId)
        .build();
  }

  public static FirstTokenRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new FirstTokenRow(
        r.doubleValue(Columns.TEMPERATURE),
        r.string(Columns.BENCHMARK),
        r.string(Columns.CATEGORY),
        r.string(FIRST_TOKEN),
        r.longValue(Columns.N),
        r.doubleValue(SHARE),
        r.string(Columns.RUN_ID));
  }
}

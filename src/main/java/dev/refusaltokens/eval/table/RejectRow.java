package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code rejects}: an input row that was not scored, with its reason (a {@code
 * RejectReason} id), the detail, and the raw input line or record.
 *
 * @param line the 1-based line (or record) number in the benchmark's file
 * @param promptId null when the row had no readable id
 */
public record RejectRow(
    String benchmark,
    long line,
    String promptId,
    String reason,
    String detail,
    String raw,
    String runId)
    implements TableRecord {

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.LINE, LongType, false),
              createStructField(Columns.PROMPT_ID, StringType, true),
              createStructField(Columns.REASON, StringType, false),
              createStructField(Columns.DETAIL, StringType, true),
              createStructField(Columns.RAW, StringType, false),
              createStructField(Columns.RUN_ID, StringType, false)));

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.LINE, line)
        .set(Columns.PROMPT_ID, promptId)
        .set(Columns.REASON, reason)
        .set(Columns.DETAIL, detail)
        .set(Columns.RAW, raw)
        .set(Columns.RUN_ID, runId)
        .build();
  }

  public static RejectRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new RejectRow(
        r.string(Columns.BENCHMARK),
        r.longValue(Columns.LINE),
        r.string(Columns.PROMPT_ID),
        r.string(Columns.REASON),
        r.string(Columns.DETAIL),
        r.string(Columns.RAW),
        r.string(Columns.RUN_ID));
  }
}

package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code judge_check_rejects}: a row of a labelled file that no judge was measured on,
 * with its reason (a {@code LabelledReject} id), the detail and the raw input.
 *
 * @param line the 1-based line (CSV, JSON Lines: where the record starts) or row number (Parquet)
 */
public record JudgeCheckRejectRow(long line, String reason, String detail, String raw, String runId)
    implements TableRecord {

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.LINE, LongType, false),
              createStructField(Columns.REASON, StringType, false),
              createStructField(Columns.DETAIL, StringType, true),
              createStructField(Columns.RAW, StringType, false),
              createStructField(Columns.RUN_ID, StringType, false)));

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.LINE, line)
        .set(Columns.REASON, reason)
        .set(Columns.DETAIL, detail)
        .set(Columns.RAW, raw)
        .set(Columns.RUN_ID, runId)
        .build();
  }

  public static JudgeCheckRejectRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new JudgeCheckRejectRow(
        r.longValue(Columns.LINE),
        r.string(Columns.REASON),
        r.string(Columns.DETAIL),
        r.string(Columns.RAW),
        r.string(Columns.RUN_ID));
  }
}

package dev.refusaltokens.eval.judge;

import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.RowReader;
import dev.refusaltokens.eval.table.TableRecord;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of a labelled file, read: a (prompt, response, human label, category) to judge, or a
 * reject with its reason. Nothing of the file is dropped: every line or record is one of these.
 *
 * @param line the 1-based line or row number
 * @param humanLabel the person's label after the {@code labels} mapping; null for a reject
 * @param category null when the row has none
 * @param reason null, or why the row is not judged
 * @param raw the line, record, or row as JSON
 */
public record LabelledResponse(
    long line,
    String prompt,
    String response,
    Label humanLabel,
    String category,
    LabelledReject reason,
    String detail,
    String raw)
    implements TableRecord {

  static final String HUMAN_LABEL = "human_label";
  static final String RESPONSE = "response";

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.LINE, LongType, false),
              createStructField(Columns.PROMPT, StringType, true),
              createStructField(RESPONSE, StringType, true),
              createStructField(HUMAN_LABEL, StringType, true),
              createStructField(Columns.CATEGORY, StringType, true),
              createStructField(Columns.REASON, StringType, true),
              createStructField(Columns.DETAIL, StringType, true),
              createStructField(Columns.RAW, StringType, false)));

  static LabelledResponse reject(long line, String raw, LabelledReject why, String detail) {
    return new LabelledResponse(line, null, null, null, null, why, detail, raw);
  }

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.LINE, line)
        .set(Columns.PROMPT, prompt)
        .set(RESPONSE, response)
        .set(HUMAN_LABEL, humanLabel == null ? null : humanLabel.id())
        .set(Columns.CATEGORY, category)
        .set(Columns.REASON, reason == null ? null : reason.id())
        .set(Columns.DETAIL, detail)
        .set(Columns.RAW, raw)
        .build();
  }

  public static LabelledResponse fromRow(Row row) {
    RowReader r = RowReader.of(row);
    String label = r.string(HUMAN_LABEL);
    String reason = r.string(Columns.REASON);
    return new LabelledResponse(
        r.longValue(Columns.LINE),
        r.string(Columns.PROMPT),
        r.string(RESPONSE),
        label == null ? null : Label.fromId(label),
        r.string(Columns.CATEGORY),
        reason == null ? null : LabelledReject.valueOf(reason.toUpperCase(Locale.ROOT)),
        r.string(Columns.DETAIL),
        r.string(Columns.RAW));
  }
}

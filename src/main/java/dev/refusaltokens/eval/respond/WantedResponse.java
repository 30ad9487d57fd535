package dev.refusaltokens.eval.respond;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.ResponseRow;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.RowReader;
import dev.refusaltokens.eval.table.TableRecord;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * A continuation the respond stage owes: one scored prompt and one first token that some configured
 * setting emits for it (an intermediate row between choosing the tokens and generating).
 */
record WantedResponse(
    String benchmark,
    String promptId,
    String prompt,
    String promptSha256,
    String category,
    boolean shouldRefuse,
    String firstToken,
    long firstTokenId,
    String firstTokenKind)
    implements TableRecord {

  static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.PROMPT_ID, StringType, false),
              createStructField(Columns.PROMPT, StringType, false),
              createStructField(Columns.PROMPT_SHA256, StringType, false),
              createStructField(Columns.CATEGORY, StringType, true),
              createStructField(Columns.SHOULD_REFUSE, BooleanType, false),
              createStructField(ResponseRow.FIRST_TOKEN, StringType, false),
              createStructField(ResponseRow.FIRST_TOKEN_ID, LongType, false),
              createStructField(ResponseRow.FIRST_TOKEN_KIND, StringType, false)));

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.PROMPT_ID, promptId)
        .set(Columns.PROMPT, prompt)
        .set(Columns.PROMPT_SHA256, promptSha256)
        .set(Columns.CATEGORY, category)
        .set(Columns.SHOULD_REFUSE, shouldRefuse)
        .set(ResponseRow.FIRST_TOKEN, firstToken)
        .set(ResponseRow.FIRST_TOKEN_ID, firstTokenId)
        .set(ResponseRow.FIRST_TOKEN_KIND, firstTokenKind)
        .build();
  }

  static WantedResponse fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new WantedResponse(
        r.string(Columns.BENCHMARK),
        r.string(Columns.PROMPT_ID),
        r.string(Columns.PROMPT),
        r.string(Columns.PROMPT_SHA256),
        r.string(Columns.CATEGORY),
        r.booleanValue(Columns.SHOULD_REFUSE),
        r.string(ResponseRow.FIRST_TOKEN),
        r.longValue(ResponseRow.FIRST_TOKEN_ID),
        r.string(ResponseRow.FIRST_TOKEN_KIND));
  }
}

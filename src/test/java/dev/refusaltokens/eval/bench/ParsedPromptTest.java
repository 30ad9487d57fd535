package dev.refusaltokens.eval.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.table.Columns;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** A prompt row is written and read by column name, nulls included. */
class ParsedPromptTest {

  static final ParsedPrompt VALID =
      new ParsedPrompt(
          "coconot_original",
          7,
          "id-7",
          "How do I …?",
          true,
          "Requests with safety concerns",
          "dangerous",
          "{\"id\": \"id-7\"}",
          null,
          null);

  @Test
  void aPromptRoundTripsThroughItsRowByName() {
    Row row = VALID.toRow();
    assertThat(row.schema()).isEqualTo(ParsedPrompt.SCHEMA);
    assertThat(row.getLong(row.fieldIndex(Columns.LINE))).isEqualTo(7L);
    assertThat(ParsedPrompt.fromRow(row)).isEqualTo(VALID);
  }

  @Test
  void aRejectKeepsItsNullsAndReadsBackFromAWiderRow() {
    ParsedPrompt reject =
        new ParsedPrompt("b", 3, null, null, null, null, null, "{oops", "malformed_json", "eof");
    assertThat(ParsedPrompt.fromRow(reject.toRow())).isEqualTo(reject);
    // the score stage's rows carry more columns (prompt_sha256, scores): those are ignored
    StructType wider = ParsedPrompt.SCHEMA.add(Columns.PROMPT_SHA256, "string");
    Row row = VALID.toRow();
    Object[] values = new Object[wider.size()];
    for (String name : ParsedPrompt.SCHEMA.fieldNames()) {
      values[wider.fieldIndex(name)] = row.get(row.fieldIndex(name));
    }
    values[wider.fieldIndex(Columns.PROMPT_SHA256)] = "ab12";
    assertThat(ParsedPrompt.fromRow(new GenericRowWithSchema(values, wider))).isEqualTo(VALID);
  }

  @Test
  void theScoreStagesVerdictReplacesReasonAndDetailOnly() {
    ParsedPrompt tooLong = VALID.rejected(RejectReason.TOO_LONG, "2049 tokens");
    assertThat(tooLong.reason()).isEqualTo("too_long");
    assertThat(tooLong.detail()).isEqualTo("2049 tokens");
    assertThat(tooLong.accepted()).isEqualTo(VALID);
  }
}

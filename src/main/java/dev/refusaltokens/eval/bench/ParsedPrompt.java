package dev.refusaltokens.eval.bench;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.config.BenchmarkSpec;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.RowReader;
import dev.refusaltokens.eval.table.TableRecord;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One input row of a prompt set in the common schema {@link #SCHEMA}, as loaded and before scoring:
 * nothing is dropped, and {@code reason} (a {@link RejectReason} id) is non-null for a row that
 * will not be scored.
 *
 * @param line the 1-based line (or record) number in the benchmark's file
 * @param promptId null when the row had no readable id
 * @param prompt null on a reject that has none
 * @param shouldRefuse null on a reject whose label is unknown
 */
public record ParsedPrompt(
    String benchmark,
    long line,
    String promptId,
    String prompt,
    Boolean shouldRefuse,
    String category,
    String subcategory,
    String raw,
    String reason,
    String detail)
    implements TableRecord {

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.LINE, LongType, false),
              createStructField(Columns.PROMPT_ID, StringType, true),
              createStructField(Columns.PROMPT, StringType, true),
              createStructField(Columns.SHOULD_REFUSE, BooleanType, true),
              createStructField(Columns.CATEGORY, StringType, true),
              createStructField(Columns.SUBCATEGORY, StringType, true),
              createStructField(Columns.RAW, StringType, false),
              createStructField(Columns.REASON, StringType, true),
              createStructField(Columns.DETAIL, StringType, true)));

  static ParsedPrompt reject(
      BenchmarkSpec spec, long line, String raw, String id, RejectReason reason, String detail) {
    return new ParsedPrompt(
        spec.name(), line, id, null, spec.shouldRefuse(), null, null, raw, reason.id(), detail);
  }

  /** This prompt as the score stage scored it: no reason, no detail. */
  public ParsedPrompt accepted() {
    return new ParsedPrompt(
        benchmark, line, promptId, prompt, shouldRefuse, category, subcategory, raw, null, null);
  }

  /** This prompt rejected later (by the score stage), with the reason and its detail. */
  public ParsedPrompt rejected(RejectReason why, String whyDetail) {
    return new ParsedPrompt(
        benchmark,
        line,
        promptId,
        prompt,
        shouldRefuse,
        category,
        subcategory,
        raw,
        why.id(),
        whyDetail);
  }

  /** Reads the prompt columns of a row by name; other columns of the row are ignored. */
  public static ParsedPrompt fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new ParsedPrompt(
        r.string(Columns.BENCHMARK),
        r.longValue(Columns.LINE),
        r.string(Columns.PROMPT_ID),
        r.string(Columns.PROMPT),
        r.boxedBoolean(Columns.SHOULD_REFUSE),
        r.string(Columns.CATEGORY),
        r.string(Columns.SUBCATEGORY),
        r.string(Columns.RAW),
        r.string(Columns.REASON),
        r.string(Columns.DETAIL));
  }

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.LINE, line)
        .set(Columns.PROMPT_ID, promptId)
        .set(Columns.PROMPT, prompt)
        .set(Columns.SHOULD_REFUSE, shouldRefuse)
        .set(Columns.CATEGORY, category)
        .set(Columns.SUBCATEGORY, subcategory)
        .set(Columns.RAW, raw)
        .set(Columns.REASON, reason)
        .set(Columns.DETAIL, detail)
        .build();
  }
}

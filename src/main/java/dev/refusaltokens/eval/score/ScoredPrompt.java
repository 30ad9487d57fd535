package dev.refusaltokens.eval.score;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createArrayType;
import static org.apache.spark.sql.types.DataTypes.createMapType;
import static org.apache.spark.sql.types.DataTypes.createStructField;

import dev.refusaltokens.eval.bench.ParsedPrompt;
import dev.refusaltokens.eval.bench.RejectReason;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.RowReader;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.table.TableRecord;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One output row of {@link ScorePartition}: the prompt's columns ({@link ParsedPrompt#SCHEMA}),
 * then either its scores at one temperature (one row per temperature; {@code reason} null) or,
 * once, the reason the model could not score it (every score column null but {@code
 * prompt_tokens}). The stage projects these rows onto {@code scores} and {@code rejects} ({@link
 * TableProjection}).
 *
 * @param prompt the prompt, its {@code reason} and {@code detail} the stage's verdict
 * @param temperature null on a reject
 * @param promptTokens tokens of the rendered prompt, on a reject too; null when the chat template
 *     could not render it
 * @param logprobs {@code log p_T} of each control token, in the model's control-token order; null
 *     on a reject
 * @param otherLogprob null on a reject
 * @param otherToken the best other vocabulary token; null on a reject
 * @param otherTokenId its vocabulary id; null on a reject
 * @param promptSpecialTokens the special tokens the prompt's own text produced ({@link
 *     dev.refusaltokens.eval.model.PromptSpecialTokens}), empty when none; null on a reject
 */
record ScoredPrompt(
    ParsedPrompt prompt,
    Double temperature,
    Integer promptTokens,
    Map<String, Double> logprobs,
    Double otherLogprob,
    String otherToken,
    Long otherTokenId,
    List<String> promptSpecialTokens)
    implements TableRecord {

  static final StructType SCHEMA =
      ParsedPrompt.SCHEMA
          .add(createStructField(Columns.TEMPERATURE, DoubleType, true))
          .add(createStructField(Columns.PROMPT_TOKENS, IntegerType, true))
          .add(
              createStructField(
                  Columns.LOGPROBS, createMapType(StringType, DoubleType, false), true))
          .add(createStructField(Columns.OTHER_LOGPROB, DoubleType, true))
          .add(createStructField(Columns.OTHER_TOKEN, StringType, true))
          .add(createStructField(ScoreRow.OTHER_TOKEN_ID, LongType, true))
          .add(
              createStructField(
                  ScoreRow.PROMPT_SPECIAL_TOKENS, createArrayType(StringType, false), true));

  /** A prompt's scores at one temperature. */
  static ScoredPrompt scored(
      ParsedPrompt prompt,
      double temperature,
      int promptTokens,
      Map<String, Double> logprobs,
      double otherLogprob,
      String otherToken,
      long otherTokenId,
      List<String> promptSpecialTokens) {
    return new ScoredPrompt(
        prompt.accepted(),
        temperature,
        promptTokens,
        logprobs,
        otherLogprob,
        otherToken,
        otherTokenId,
        List.copyOf(promptSpecialTokens));
  }

  /**
   * A prompt the model could not score (too long for its window, a non-finite log-probability, a
   * chat template that fails on it, special tokens in its text when those are rejected).
   *
   * @param promptTokens null when the prompt could not be rendered
   */
  static ScoredPrompt rejected(
      ParsedPrompt prompt, RejectReason why, String detail, Integer promptTokens) {
    return new ScoredPrompt(
        prompt.rejected(why, detail), null, promptTokens, null, null, null, null, null);
  }

  /** Reads a row by column name; {@code logprobs} is copied in the row's order. */
  static ScoredPrompt fromRow(Row row) {
    RowReader r = RowReader.of(row);
    Map<String, Double> logprobs = r.mapView(Columns.LOGPROBS);
    return new ScoredPrompt(
        ParsedPrompt.fromRow(row),
        r.boxedDouble(Columns.TEMPERATURE),
        r.boxedInt(Columns.PROMPT_TOKENS),
        logprobs == null ? null : new LinkedHashMap<>(logprobs),
        r.boxedDouble(Columns.OTHER_LOGPROB),
        r.string(Columns.OTHER_TOKEN),
        r.boxedLong(ScoreRow.OTHER_TOKEN_ID),
        r.list(ScoreRow.PROMPT_SPECIAL_TOKENS));
  }

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.BENCHMARK, prompt.benchmark())
        .set(Columns.LINE, prompt.line())
        .set(Columns.PROMPT_ID, prompt.promptId())
        .set(Columns.PROMPT, prompt.prompt())
        .set(Columns.SHOULD_REFUSE, prompt.shouldRefuse())
        .set(Columns.CATEGORY, prompt.category())
        .set(Columns.SUBCATEGORY, prompt.subcategory())
        .set(Columns.RAW, prompt.raw())
        .set(Columns.REASON, prompt.reason())
        .set(Columns.DETAIL, prompt.detail())
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.PROMPT_TOKENS, promptTokens)
        .set(Columns.LOGPROBS, logprobs)
        .set(Columns.OTHER_LOGPROB, otherLogprob)
        .set(Columns.OTHER_TOKEN, otherToken)
        .set(ScoreRow.OTHER_TOKEN_ID, otherTokenId)
        .set(ScoreRow.PROMPT_SPECIAL_TOKENS, promptSpecialTokens)
        .build();
  }

  /** {@code benchmark/prompt_id}: a prompt's key within a run. */
  String key() {
    return prompt.benchmark() + "/" + prompt.promptId();
  }
}

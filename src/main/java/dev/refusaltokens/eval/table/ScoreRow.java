package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createArrayType;
import static org.apache.spark.sql.types.DataTypes.createMapType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.decide.FirstTokenStats;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code scores}: a prompt at one temperature and its sufficient statistic — {@code log
 * p_T} of {@code [respond]} and of every refusal token (keyed by token string), and of the best
 * other vocabulary token. The one reader of scores rows for the sweep, regress and the canary.
 *
 * @param category null when the benchmark gives none ({@link #groupCategory()} says {@code (none)})
 * @param promptSpecialTokens the special tokens the prompt's own text produced (a literal {@code
 *     [respond]}, {@code <|im_start|>}), in order, one per occurrence; empty when none, null in
 *     rows scored before the column existed
 * @param otherTokenId the vocabulary id of {@code otherToken} (the respond stage forces it); null
 *     in rows scored before the column existed
 * @param runId null when read from a row whose {@code run_id} column was dropped
 */
public record ScoreRow(
    String benchmark,
    String promptId,
    String prompt,
    String promptSha256,
    boolean shouldRefuse,
    String category,
    String subcategory,
    double temperature,
    int promptTokens,
    Map<String, Double> logprobs,
    double otherLogprob,
    String otherToken,
    Long otherTokenId,
    List<String> promptSpecialTokens,
    String runId)
    implements TableRecord {

  /** The {@code category} group of prompts whose benchmark gives none. */
  public static final String NO_CATEGORY = "(none)";

  public static final String PROMPT_SPECIAL_TOKENS = "prompt_special_tokens";
  public static final String OTHER_TOKEN_ID = "other_token_id";

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.PROMPT_ID, StringType, false),
              createStructField(Columns.PROMPT, StringType, false),
              createStructField(Columns.PROMPT_SHA256, StringType, false),
              createStructField(Columns.SHOULD_REFUSE, BooleanType, false),
              createStructField(Columns.CATEGORY, StringType, true),
              createStructField(Columns.SUBCATEGORY, StringType, true),
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.PROMPT_TOKENS, IntegerType, false),
              createStructField(
                  Columns.LOGPROBS, createMapType(StringType, DoubleType, false), false),
              createStructField(Columns.OTHER_LOGPROB, DoubleType, false),
              createStructField(Columns.OTHER_TOKEN, StringType, false),
              createStructField(OTHER_TOKEN_ID, LongType, true),
              createStructField(PROMPT_SPECIAL_TOKENS, createArrayType(StringType, false), true),
              createStructField(Columns.RUN_ID, StringType, false)));

  /**
   * Reads a scores row by column name. {@code logprobs} is a view of the row's map, not a copy: the
   * sweep reads millions of rows and only looks values up.
   */
  public static ScoreRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new ScoreRow(
        r.string(Columns.BENCHMARK),
        r.string(Columns.PROMPT_ID),
        r.string(Columns.PROMPT),
        r.string(Columns.PROMPT_SHA256),
        r.booleanValue(Columns.SHOULD_REFUSE),
        r.string(Columns.CATEGORY),
        r.string(Columns.SUBCATEGORY),
        r.doubleValue(Columns.TEMPERATURE),
        r.intValue(Columns.PROMPT_TOKENS),
        r.mapView(Columns.LOGPROBS),
        r.doubleValue(Columns.OTHER_LOGPROB),
        r.string(Columns.OTHER_TOKEN),
        r.has(OTHER_TOKEN_ID) ? r.boxedLong(OTHER_TOKEN_ID) : null,
        r.has(PROMPT_SPECIAL_TOKENS) ? r.list(PROMPT_SPECIAL_TOKENS) : null,
        r.has(Columns.RUN_ID) ? r.string(Columns.RUN_ID) : null);
  }

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.PROMPT_ID, promptId)
        .set(Columns.PROMPT, prompt)
        .set(Columns.PROMPT_SHA256, promptSha256)
        .set(Columns.SHOULD_REFUSE, shouldRefuse)
        .set(Columns.CATEGORY, category)
        .set(Columns.SUBCATEGORY, subcategory)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.PROMPT_TOKENS, promptTokens)
        .set(Columns.LOGPROBS, logprobs)
        .set(Columns.OTHER_LOGPROB, otherLogprob)
        .set(Columns.OTHER_TOKEN, otherToken)
        .set(OTHER_TOKEN_ID, otherTokenId)
        .set(PROMPT_SPECIAL_TOKENS, promptSpecialTokens)
        .set(Columns.RUN_ID, runId)
        .build();
  }

  /** The category as the sweep groups it: {@link #NO_CATEGORY} when the benchmark gives none. */
  public String groupCategory() {
    return category == null ? NO_CATEGORY : category;
  }

  /** The sufficient statistic in the run's control-token order. */
  public FirstTokenStats stats(String respondToken, List<String> refusalTokens) {
    double[] refusal = new double[refusalTokens.size()];
    for (int c = 0; c < refusal.length; c++) {
      refusal[c] = logprob(refusalTokens.get(c));
    }
    return new FirstTokenStats(logprob(respondToken), refusal, otherLogprob);
  }

  /** {@code log p_T(token)}; fails when the scores were made with other control tokens. */
  public double logprob(String token) {
    Double v = logprobs.get(token);
    if (v == null) {
      throw new IllegalStateException(
          "scores row has no log-probability for "
              + token
              + " (its keys: "
              + logprobs.keySet()
              + "): the scores were made with other control tokens");
    }
    return v;
  }
}

package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createMapType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code responses}: a scored prompt × one first token that some configured setting
 * emits for it, the model's greedy response after that forced token, and each judge's label. The
 * judged outcome of every setting is read from these rows: a setting emits one first token per
 * prompt, and the response after it is this row's.
 *
 * @param firstToken the forced first token's string ({@code [respond]}, a refusal token, or the
 *     prompt's best other token, {@code scores.other_token})
 * @param firstTokenKind {@code respond}, {@code refusal} or {@code other}
 * @param response the decoded new tokens, the forced token and the end-of-sequence token excluded,
 *     cut before a stop string
 * @param newTokens how many tokens were generated after the forced one (end-of-sequence excluded)
 * @param finishReason {@code eos}, {@code stop}, {@code length} or {@code error}
 * @param error why generation failed ({@code error} rows only), else null
 * @param label the primary judge's ({@code judges[0]}) label: {@code refused}, {@code partial},
 *     {@code answered} or {@code unclear}
 * @param labels every configured judge's label, by judge name
 * @param refusalProbabilities each judge's probability of {@code refused}, for judges that have one
 *     (a model judge: renormalised among its verdict tokens)
 * @param otherMass each model judge's first-token probability on tokens that are no verdict token
 */
public record ResponseRow(
    String benchmark,
    String promptId,
    String promptSha256,
    String category,
    boolean shouldRefuse,
    String firstToken,
    long firstTokenId,
    String firstTokenKind,
    String response,
    int newTokens,
    String finishReason,
    String error,
    String label,
    Map<String, String> labels,
    Map<String, Double> refusalProbabilities,
    Map<String, Double> otherMass,
    String runId)
    implements TableRecord {

  public static final String FIRST_TOKEN = "first_token";
  public static final String FIRST_TOKEN_ID = "first_token_id";
  public static final String FIRST_TOKEN_KIND = "first_token_kind";
  public static final String RESPONSE = "response";
  public static final String NEW_TOKENS = "new_tokens";
  public static final String FINISH_REASON = "finish_reason";
  public static final String ERROR = "error";
  public static final String LABEL = "label";
  public static final String LABELS = "labels";
  public static final String REFUSAL_PROBABILITIES = "refusal_probabilities";
  public static final String VERDICT_OTHER_MASS = "verdict_other_mass";

  /** {@code first_token_kind} values. */
  public static final String KIND_RESPOND = "respond";

  public static final String KIND_REFUSAL = "refusal";
  public static final String KIND_OTHER = "other";

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.PROMPT_ID, StringType, false),
              createStructField(Columns.PROMPT_SHA256, StringType, false),
              createStructField(Columns.CATEGORY, StringType, true),
              createStructField(Columns.SHOULD_REFUSE, BooleanType, false),
              createStructField(FIRST_TOKEN, StringType, false),
              createStructField(FIRST_TOKEN_ID, LongType, false),
              createStructField(FIRST_TOKEN_KIND, StringType, false),
              createStructField(RESPONSE, StringType, false),
              createStructField(NEW_TOKENS, IntegerType, false),
              createStructField(FINISH_REASON, StringType, false),
              createStructField(ERROR, StringType, true),
              createStructField(LABEL, StringType, false),
              createStructField(LABELS, createMapType(StringType, StringType, false), false),
              createStructField(
                  REFUSAL_PROBABILITIES, createMapType(StringType, DoubleType, false), false),
              createStructField(
                  VERDICT_OTHER_MASS, createMapType(StringType, DoubleType, false), false),
              createStructField(Columns.RUN_ID, StringType, false)));

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.PROMPT_ID, promptId)
        .set(Columns.PROMPT_SHA256, promptSha256)
        .set(Columns.CATEGORY, category)
        .set(Columns.SHOULD_REFUSE, shouldRefuse)
        .set(FIRST_TOKEN, firstToken)
        .set(FIRST_TOKEN_ID, firstTokenId)
        .set(FIRST_TOKEN_KIND, firstTokenKind)
        .set(RESPONSE, response)
        .set(NEW_TOKENS, newTokens)
        .set(FINISH_REASON, finishReason)
        .set(ERROR, error)
        .set(LABEL, label)
        .set(LABELS, labels)
        .set(REFUSAL_PROBABILITIES, refusalProbabilities)
        .set(VERDICT_OTHER_MASS, otherMass)
        .set(Columns.RUN_ID, runId)
        .build();
  }

  public static ResponseRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new ResponseRow(
        r.string(Columns.BENCHMARK),
        r.string(Columns.PROMPT_ID),
        r.string(Columns.PROMPT_SHA256),
        r.string(Columns.CATEGORY),
        r.booleanValue(Columns.SHOULD_REFUSE),
        r.string(FIRST_TOKEN),
        r.longValue(FIRST_TOKEN_ID),
        r.string(FIRST_TOKEN_KIND),
        r.string(RESPONSE),
        r.intValue(NEW_TOKENS),
        r.string(FINISH_REASON),
        r.string(ERROR),
        r.string(LABEL),
        r.sortedMap(LABELS),
        r.sortedMap(REFUSAL_PROBABILITIES),
        r.has(VERDICT_OTHER_MASS) ? r.sortedMap(VERDICT_OTHER_MASS) : Map.of(),
        r.has(Columns.RUN_ID) ? r.string(Columns.RUN_ID) : null);
  }
}

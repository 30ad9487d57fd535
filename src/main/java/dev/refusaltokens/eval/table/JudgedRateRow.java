package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createMapType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code judged_rates}: a {@code rates} row (its key, {@code n}, {@code refused} and
 * {@code rate}: the token figures) seen through one judge's labels of the responses after the first
 * token each prompt's setting emits. Only prompts with responses count in the judged figures
 * ({@code judged_n}: all of them, or the {@code responses.sample}); {@code partial} counts as not
 * refused, {@code unclear} is counted apart and left out of the judged rate.
 *
 * @param thresholds token → τ of a threshold rule (empty for other rules), in the run's token order
 * @param logitBiases token → bias of the logit_bias rule (empty for other rules)
 * @param judge the judge whose labels are counted
 * @param judgedN prompts of the group with responses
 * @param judgedRate {@code judgedRefused / (judgedN − judgedUnclear)}; null when that is 0
 * @param judgedLow Wilson bound of {@code judgedRate} at {@code report.confidence} (null with it)
 * @param interval how the judged bounds were made: always {@code wilson}
 * @param tokenRefusedJudgedRefused judged prompts with a clear label whose emitted first token is a
 *     refusal token and whose response was judged refused; the other three cells of the 2×2 alike
 *     ("answered": {@code answered} or {@code partial}; "token answered": any other first token)
 */
public record JudgedRateRow(
    String benchmark,
    String rule,
    double temperature,
    Map<String, Double> thresholds,
    Map<String, Double> logitBiases,
    String category,
    boolean shouldRefuse,
    String judge,
    long n,
    long refused,
    double rate,
    long judgedN,
    long judgedRefused,
    long judgedPartial,
    long judgedAnswered,
    long judgedUnclear,
    Double judgedRate,
    Double judgedLow,
    Double judgedHigh,
    String interval,
    long tokenRefusedJudgedRefused,
    long tokenRefusedJudgedAnswered,
    long tokenAnsweredJudgedRefused,
    long tokenAnsweredJudgedAnswered,
    String runId)
    implements TableRecord {

  public static final String JUDGE = "judge";
  public static final String JUDGED_N = "judged_n";
  public static final String JUDGED_REFUSED = "judged_refused";
  public static final String JUDGED_PARTIAL = "judged_partial";
  public static final String JUDGED_ANSWERED = "judged_answered";
  public static final String JUDGED_UNCLEAR = "judged_unclear";
  public static final String JUDGED_RATE = "judged_rate";
  public static final String JUDGED_LOW = "judged_low";
  public static final String JUDGED_HIGH = "judged_high";
  public static final String TOKEN_REFUSED_JUDGED_REFUSED = "token_refused_judged_refused";
  public static final String TOKEN_REFUSED_JUDGED_ANSWERED = "token_refused_judged_answered";
  public static final String TOKEN_ANSWERED_JUDGED_REFUSED = "token_answered_judged_refused";
  public static final String TOKEN_ANSWERED_JUDGED_ANSWERED = "token_answered_judged_answered";

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.RULE, StringType, false),
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(
                  Columns.THRESHOLDS, createMapType(StringType, DoubleType, false), false),
              createStructField(
                  Columns.LOGIT_BIASES, createMapType(StringType, DoubleType, false), false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(Columns.SHOULD_REFUSE, BooleanType, false),
              createStructField(JUDGE, StringType, false),
              createStructField(Columns.N, LongType, false),
              createStructField(Columns.REFUSED, LongType, false),
              createStructField(Columns.RATE, DoubleType, false),
              createStructField(JUDGED_N, LongType, false),
              createStructField(JUDGED_REFUSED, LongType, false),
              createStructField(JUDGED_PARTIAL, LongType, false),
              createStructField(JUDGED_ANSWERED, LongType, false),
              createStructField(JUDGED_UNCLEAR, LongType, false),
              createStructField(JUDGED_RATE, DoubleType, true),
              createStructField(JUDGED_LOW, DoubleType, true),
              createStructField(JUDGED_HIGH, DoubleType, true),
              createStructField(Columns.INTERVAL, StringType, false),
              createStructField(TOKEN_REFUSED_JUDGED_REFUSED, LongType, false),
              createStructField(TOKEN_REFUSED_JUDGED_ANSWERED, LongType, false),
              createStructField(TOKEN_ANSWERED_JUDGED_REFUSED, LongType, false),
              createStructField(TOKEN_ANSWERED_JUDGED_ANSWERED, LongType, false),
              createStructField(Columns.RUN_ID, StringType, false)));

  /** Checks that the counts add up: every judged prompt has one label, every clear one one cell. */
  public JudgedRateRow {
    if (judgedN > n || judgedRefused + judgedPartial + judgedAnswered + judgedUnclear != judgedN) {
      throw new IllegalArgumentException(
          "judged counts of "
              + judge
              + " do not add up: n "
              + n
              + ", judged_n "
              + judgedN
              + " = refused "
              + judgedRefused
              + " + partial "
              + judgedPartial
              + " + answered "
              + judgedAnswered
              + " + unclear "
              + judgedUnclear
              + "?");
    }
    if (tokenRefusedJudgedRefused + tokenAnsweredJudgedRefused != judgedRefused
        || tokenRefusedJudgedAnswered + tokenAnsweredJudgedAnswered
            != judgedPartial + judgedAnswered) {
      throw new IllegalArgumentException(
          "the token x judged table of "
              + judge
              + " does not add up to its judged counts: "
              + List.of(
                  tokenRefusedJudgedRefused,
                  tokenRefusedJudgedAnswered,
                  tokenAnsweredJudgedRefused,
                  tokenAnsweredJudgedAnswered)
              + " against refused "
              + judgedRefused
              + ", partial + answered "
              + (judgedPartial + judgedAnswered));
    }
    thresholds = Collections.unmodifiableMap(new LinkedHashMap<>(thresholds));
    logitBiases = Collections.unmodifiableMap(new LinkedHashMap<>(logitBiases));
  }

  /** Judged prompts with a clear label ({@code refused}, {@code partial} or {@code answered}). */
  public long judgedClear() {
    return judgedN - judgedUnclear;
  }

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.RULE, rule)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.THRESHOLDS, thresholds)
        .set(Columns.LOGIT_BIASES, logitBiases)
        .set(Columns.CATEGORY, category)
        .set(Columns.SHOULD_REFUSE, shouldRefuse)
        .set(JUDGE, judge)
        .set(Columns.N, n)
        .set(Columns.REFUSED, refused)
        .set(Columns.RATE, rate)
        .set(JUDGED_N, judgedN)
        .set(JUDGED_REFUSED, judgedRefused)
        .set(JUDGED_PARTIAL, judgedPartial)
        .set(JUDGED_ANSWERED, judgedAnswered)
        .set(JUDGED_UNCLEAR, judgedUnclear)
        .set(JUDGED_RATE, judgedRate)
        .set(JUDGED_LOW, judgedLow)
        .set(JUDGED_HIGH, judgedHigh)
        .set(Columns.INTERVAL, interval)
        .set(TOKEN_REFUSED_JUDGED_REFUSED, tokenRefusedJudgedRefused)
        .set(TOKEN_REFUSED_JUDGED_ANSWERED, tokenRefusedJudgedAnswered)
        .set(TOKEN_ANSWERED_JUDGED_REFUSED, tokenAnsweredJudgedRefused)
        .set(TOKEN_ANSWERED_JUDGED_ANSWERED, tokenAnsweredJudgedAnswered)
        .set(Columns.RUN_ID, runId)
        .build();
  }

  public static JudgedRateRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new JudgedRateRow(
        r.string(Columns.BENCHMARK),
        r.string(Columns.RULE),
        r.doubleValue(Columns.TEMPERATURE),
        r.sortedMap(Columns.THRESHOLDS),
        r.sortedMap(Columns.LOGIT_BIASES),
        r.string(Columns.CATEGORY),
        r.booleanValue(Columns.SHOULD_REFUSE),
        r.string(JUDGE),
        r.longValue(Columns.N),
        r.longValue(Columns.REFUSED),
        r.doubleValue(Columns.RATE),
        r.longValue(JUDGED_N),
        r.longValue(JUDGED_REFUSED),
        r.longValue(JUDGED_PARTIAL),
        r.longValue(JUDGED_ANSWERED),
        r.longValue(JUDGED_UNCLEAR),
        r.boxedDouble(JUDGED_RATE),
        r.boxedDouble(JUDGED_LOW),
        r.boxedDouble(JUDGED_HIGH),
        r.string(Columns.INTERVAL),
        r.longValue(TOKEN_REFUSED_JUDGED_REFUSED),
        r.longValue(TOKEN_REFUSED_JUDGED_ANSWERED),
        r.longValue(TOKEN_ANSWERED_JUDGED_REFUSED),
        r.longValue(TOKEN_ANSWERED_JUDGED_ANSWERED),
        r.string(Columns.RUN_ID));
  }
}

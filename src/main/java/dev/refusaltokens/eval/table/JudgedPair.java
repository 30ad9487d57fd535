package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The judged columns {@code frontier} and {@code operating_points} carry after their {@link
 * RatePair}: at the row's setting, the primary judge's ({@code judges[0]}) labels of the responses
 * after each prompt's emitted first token, counted over the prompts of each side that have
 * responses. A rate is {@code refused / (n − unclear)}: {@code partial} counts as not refused,
 * {@code unclear} is left out; null when no prompt of the side has a clear label. A row of a run
 * without responses has no judged pair (every column null).
 *
 * @param judge the primary judge's name
 * @param nRefuse should-refuse prompts of the row's scope with responses
 * @param refuseUnclear of them, those whose response the judge could not label
 */
public record JudgedPair(
    String judge,
    long nRefuse,
    long refused,
    long refuseUnclear,
    Double refusalRate,
    long nAnswer,
    long falseRefused,
    long answerUnclear,
    Double falseRefusalRate) {

  public static final String JUDGE = "judge";
  public static final String JUDGED_N_REFUSE = "judged_n_refuse";
  public static final String JUDGED_REFUSED = "judged_refused";
  public static final String JUDGED_UNCLEAR_REFUSE = "judged_unclear_refuse";
  public static final String JUDGED_REFUSAL_RATE = "judged_refusal_rate";
  public static final String JUDGED_N_ANSWER = "judged_n_answer";
  public static final String JUDGED_FALSE_REFUSED = "judged_false_refused";
  public static final String JUDGED_UNCLEAR_ANSWER = "judged_unclear_answer";
  public static final String JUDGED_FALSE_REFUSAL_RATE = "judged_false_refusal_rate";

  /** The pair's columns, in table order; all nullable (null: the run has no responses). */
  static final List<StructField> FIELDS =
      List.of(
          createStructField(JUDGE, StringType, true),
          createStructField(JUDGED_N_REFUSE, LongType, true),
          createStructField(JUDGED_REFUSED, LongType, true),
          createStructField(JUDGED_UNCLEAR_REFUSE, LongType, true),
          createStructField(JUDGED_REFUSAL_RATE, DoubleType, true),
          createStructField(JUDGED_N_ANSWER, LongType, true),
          createStructField(JUDGED_FALSE_REFUSED, LongType, true),
          createStructField(JUDGED_UNCLEAR_ANSWER, LongType, true),
          createStructField(JUDGED_FALSE_REFUSAL_RATE, DoubleType, true));

  public JudgedPair {
    if (refused + refuseUnclear > nRefuse || falseRefused + answerUnclear > nAnswer) {
      throw new IllegalArgumentException(
          "judged counts of " + judge + " exceed their prompts: " + List.of(nRefuse, nAnswer));
    }
  }

  /** The pair of the judged counts of both sides, with their rates. */
  public static JudgedPair of(
      String judge,
      long nRefuse,
      long refused,
      long refuseUnclear,
      long nAnswer,
      long falseRefused,
      long answerUnclear) {
    return new JudgedPair(
        judge,
        nRefuse,
        refused,
        refuseUnclear,
        rate(refused, nRefuse - refuseUnclear),
        nAnswer,
        falseRefused,
        answerUnclear,
        rate(falseRefused, nAnswer - answerUnclear));
  }

  private static Double rate(long k, long n) {
    return n == 0 ? null : (double) k / n;
  }

  /**
   * A table's schema: its own columns {@code head}, the {@link RatePair}'s, this pair's, then
   * {@code run_id}.
   */
  static StructType schemaAfter(StructField... head) {
    List<StructField> fields = new ArrayList<>(List.of(head));
    fields.addAll(RatePair.FIELDS);
    fields.addAll(FIELDS);
    fields.add(createStructField(Columns.RUN_ID, StringType, false));
    return new StructType(fields.toArray(StructField[]::new));
  }

  /**
   * Sets the pair's columns of {@code pair}, or nulls when it is null (a run without responses).
   */
  static RowBuilder setOn(RowBuilder b, JudgedPair pair) {
    if (pair == null) {
      FIELDS.forEach(f -> b.set(f.name(), null));
      return b;
    }
    return b.set(JUDGE, pair.judge)
        .set(JUDGED_N_REFUSE, pair.nRefuse)
        .set(JUDGED_REFUSED, pair.refused)
        .set(JUDGED_UNCLEAR_REFUSE, pair.refuseUnclear)
        .set(JUDGED_REFUSAL_RATE, pair.refusalRate)
        .set(JUDGED_N_ANSWER, pair.nAnswer)
        .set(JUDGED_FALSE_REFUSED, pair.falseRefused)
        .set(JUDGED_UNCLEAR_ANSWER, pair.answerUnclear)
        .set(JUDGED_FALSE_REFUSAL_RATE, pair.falseRefusalRate);
  }

  /** The pair of a row, or null when its judged columns are null (or absent: older rows). */
  static JudgedPair read(RowReader r) {
    if (!r.has(JUDGE) || r.isNull(JUDGE)) {
      return null;
    }
    return new JudgedPair(
        r.string(JUDGE),
        r.longValue(JUDGED_N_REFUSE),
        r.longValue(JUDGED_REFUSED),
        r.longValue(JUDGED_UNCLEAR_REFUSE),
        r.boxedDouble(JUDGED_REFUSAL_RATE),
        r.longValue(JUDGED_N_ANSWER),
        r.longValue(JUDGED_FALSE_REFUSED),
        r.longValue(JUDGED_UNCLEAR_ANSWER),
        r.boxedDouble(JUDGED_FALSE_REFUSAL_RATE));
  }
}

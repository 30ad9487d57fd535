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
 * The columns {@code frontier} and {@code operating_points} share after their own: refusal among
 * should-refuse prompts and false refusal among should-answer prompts at one setting, each with its
 * count, rate and bounds, and the interval method of the bounds.
 */
public record RatePair(
    long nRefuse,
    long refused,
    double refusalRate,
    double refusalRateLow,
    double refusalRateHigh,
    long nAnswer,
    long falseRefused,
    double falseRefusalRate,
    double falseRefusalRateLow,
    double falseRefusalRateHigh,
    String interval) {

  public static final String REFUSAL_RATE_LOW = "refusal_rate_low";
  public static final String REFUSAL_RATE_HIGH = "refusal_rate_high";
  public static final String FALSE_REFUSED = "false_refused";
  public static final String FALSE_REFUSAL_RATE_LOW = "false_refusal_rate_low";
  public static final String FALSE_REFUSAL_RATE_HIGH = "false_refusal_rate_high";

  /** The pair's columns, in table order ({@code run_id}, which follows them, excluded). */
  static final List<StructField> FIELDS =
      List.of(
          createStructField(Columns.N_REFUSE, LongType, false),
          createStructField(Columns.REFUSED, LongType, false),
          createStructField(Columns.REFUSAL_RATE, DoubleType, false),
          createStructField(REFUSAL_RATE_LOW, DoubleType, false),
          createStructField(REFUSAL_RATE_HIGH, DoubleType, false),
          createStructField(Columns.N_ANSWER, LongType, false),
          createStructField(FALSE_REFUSED, LongType, false),
          createStructField(Columns.FALSE_REFUSAL_RATE, DoubleType, false),
          createStructField(FALSE_REFUSAL_RATE_LOW, DoubleType, false),
          createStructField(FALSE_REFUSAL_RATE_HIGH, DoubleType, false),
          createStructField(Columns.INTERVAL, StringType, false));

  /**
   * A table's schema: its own columns {@code head}, then the pair's columns, then {@code run_id}.
   */
  static StructType schemaAfter(StructField... head) {
    List<StructField> fields = new ArrayList<>(List.of(head));
    fields.addAll(FIELDS);
    fields.add(createStructField(Columns.RUN_ID, StringType, false));
    return new StructType(fields.toArray(StructField[]::new));
  }

  /**
   * The pair of two counts with their bounds {@code {refusal low, refusal high, false-refusal low,
   * false-refusal high}}.
   */
  public static RatePair of(
      long nRefuse,
      long refused,
      long nAnswer,
      long falseRefused,
      double[] bounds,
      String interval) {
    return new RatePair(
        nRefuse,
        refused,
        (double) refused / nRefuse,
        bounds[0],
        bounds[1],
        nAnswer,
        falseRefused,
        (double) falseRefused / nAnswer,
        bounds[2],
        bounds[3],
        interval);
  }

  RowBuilder setOn(RowBuilder b) {
    return b.set(Columns.N_REFUSE, nRefuse)
        .set(Columns.REFUSED, refused)
        .set(Columns.REFUSAL_RATE, refusalRate)
        .set(REFUSAL_RATE_LOW, refusalRateLow)
        .set(REFUSAL_RATE_HIGH, refusalRateHigh)
        .set(Columns.N_ANSWER, nAnswer)
        .set(FALSE_REFUSED, falseRefused)
        .set(Columns.FALSE_REFUSAL_RATE, falseRefusalRate)
        .set(FALSE_REFUSAL_RATE_LOW, falseRefusalRateLow)
        .set(FALSE_REFUSAL_RATE_HIGH, falseRefusalRateHigh)
        .set(Columns.INTERVAL, interval);
  }

  static RatePair read(RowReader r) {
    return new RatePair(
        r.longValue(Columns.N_REFUSE),
        r.longValue(Columns.REFUSED),
        r.doubleValue(Columns.REFUSAL_RATE),
        r.doubleValue(REFUSAL_RATE_LOW),
        r.doubleValue(REFUSAL_RATE_HIGH),
        r.longValue(Columns.N_ANSWER),
        r.longValue(FALSE_REFUSED),
        r.doubleValue(Columns.FALSE_REFUSAL_RATE),
        r.doubleValue(FALSE_REFUSAL_RATE_LOW),
        r.doubleValue(FALSE_REFUSAL_RATE_HIGH),
        r.string(Columns.INTERVAL));
  }
}

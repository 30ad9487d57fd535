package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createMapType;
import static org.apache.spark.sql.types.DataTypes.createStructField;

import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code operating_points}: for one configured target, rule and temperature, the setting
 * that meets the target refusal rates with the fewest false refusals (or, when none does, the
 * closest one), with its pooled rates. Rule {@code threshold}: a point of the full per-category
 * threshold grid; rule {@code logit_bias}: one of the logit-bias settings the sweep evaluated (the
 * setting a stock server accepts).
 *
 * @param rule {@code threshold} or {@code logit_bias}
 * @param thresholds token → τ of a {@code threshold} point (empty for {@code logit_bias})
 * @param logitBiases token → bias on the tempered logit of a {@code logit_bias} point (empty for
 *     {@code threshold}); tokens without a bias are absent
 * @param shortfall how far the closest point falls short of the targets (0 when feasible)
 * @param targets category → minimum refusal rate asked
 * @param achieved category → refusal rate reached
 * @param judged the primary judge's figures at the point, pooled as {@code rates}; null when the
 *     run has no responses
 */
public record OperatingPointRow(
    String name,
    String rule,
    double temperature,
    boolean feasible,
    double shortfall,
    Map<String, Double> thresholds,
    Map<String, Double> logitBiases,
    Map<String, Double> targets,
    Map<String, Double> achieved,
    RatePair rates,
    JudgedPair judged,
    String runId)
    implements TableRecord {

  public static final String NAME = "name";

  /** The {@code rule} value of the rows found on the logit-bias settings. */
  public static final String LOGIT_BIAS = "logit_bias";

  public static final String FEASIBLE = "feasible";
  public static final String SHORTFALL = "shortfall";
  public static final String TARGETS = "targets";
  public static final String ACHIEVED = "achieved";

  public static final StructType SCHEMA =
      JudgedPair.schemaAfter(
          createStructField(NAME, StringType, false),
          createStructField(Columns.RULE, StringType, false),
          createStructField(Columns.TEMPERATURE, DoubleType, false),
          createStructField(FEASIBLE, BooleanType, false),
          createStructField(SHORTFALL, DoubleType, false),
          createStructField(
              Columns.THRESHOLDS, createMapType(StringType, DoubleType, false), false),
          createStructField(
              Columns.LOGIT_BIASES, createMapType(StringType, DoubleType, false), false),
          createStructField(TARGETS, createMapType(StringType, DoubleType, false), false),
          createStructField(ACHIEVED, createMapType(StringType, DoubleType, false), false));

  @Override
  public Row toRow() {
    RowBuilder b =
        RowBuilder.of(SCHEMA)
            .set(NAME, name)
            .set(Columns.RULE, rule)
            .set(Columns.TEMPERATURE, temperature)
            .set(FEASIBLE, feasible)
            .set(SHORTFALL, shortfall)
            .set(Columns.THRESHOLDS, thresholds)
            .set(Columns.LOGIT_BIASES, logitBiases)
            .set(TARGETS, targets)
            .set(ACHIEVED, achieved);
    return JudgedPair.setOn(rates.setOn(b), judged).set(Columns.RUN_ID, runId).build();
  }

  /**
   * The setting as printed: {@code thresholds {…}} or {@code logit biases {…}}, tokens in name
   * order.
   */
  public String settingText() {
    return rule.equals(LOGIT_BIAS)
        ? "logit biases " + new TreeMap<>(logitBiases)
        : "thresholds " + new TreeMap<>(thresholds);
  }

  public static OperatingPointRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new OperatingPointRow(
        r.string(NAME),
        r.string(Columns.RULE),
        r.doubleValue(Columns.TEMPERATURE),
        r.booleanValue(FEASIBLE),
        r.doubleValue(SHORTFALL),
        r.sortedMap(Columns.THRESHOLDS),
        r.sortedMap(Columns.LOGIT_BIASES),
        r.sortedMap(TARGETS),
        r.sortedMap(ACHIEVED),
        RatePair.read(r),
        JudgedPair.read(r),
        r.string(Columns.RUN_ID));
  }
}

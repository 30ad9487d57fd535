package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createMapType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code regressions}: one comparison of a candidate run with a baseline run — a setting
 * at a temperature, on a benchmark and category, of one metric — with both values, the test and its
 * p-value before and after the multiple-testing adjustment, and whether it is a regression.
 *
 * <p>Token rows ({@code refusal_rate}, {@code false_refusal_rate}, {@code auc}) compare the first
 * tokens the settings emit; judged rows ({@code judged_refusal_rate}, {@code
 * judged_false_refusal_rate}) compare the primary judge's labels of the responses after those
 * tokens, over the prompts both runs judged with a clear label. Distinct metric names keep a query
 * for the token metrics from picking up judged rows.
 *
 * @param judge the primary judge's name on judged rows; null on token rows
 * @param nPaired on judged rows the prompts compared: both runs judged them with a clear label
 *     ({@code n_baseline = n_candidate = n_paired} there)
 * @param nLeftOut on judged rows the prompts of the group that one run or both judged but that were
 *     not compared (a label {@code unclear} in either run, or a response in one run only); null on
 *     token rows
 * @param baselineThresholds τ per refusal token in the run's token order; empty for greedy and AUC
 * @param worseBy how much worse the candidate is (positive: worse); ±infinity for a missing group
 * @param test {@code mcnemar_exact}, {@code two_proportion_z}, {@code hanley_mcneil_z}, or {@code
 *     missing_in_candidate} / {@code missing_in_baseline}
 * @param runId the candidate run
 */
public record RegressionRow(
    String baselineRunId,
    String setting,
    double temperature,
    String benchmark,
    String category,
    String metric,
    String judge,
    Map<String, Double> baselineThresholds,
    Map<String, Double> candidateThresholds,
    long nBaseline,
    long nCandidate,
    long nPaired,
    Long nLeftOut,
    double baselineValue,
    double candidateValue,
    double delta,
    double worseBy,
    double tolerance,
    String test,
    long onlyBaseline,
    long onlyCandidate,
    double pValue,
    double pAdjusted,
    boolean significant,
    boolean regression,
    String runId)
    implements TableRecord {

  public static final String BASELINE_RUN_ID = "baseline_run_id";
  public static final String SETTING = "setting";
  public static final String METRIC = "metric";
  public static final String JUDGE = "judge";
  public static final String BASELINE_THRESHOLDS = "baseline_thresholds";
  public static final String CANDIDATE_THRESHOLDS = "candidate_thresholds";
  public static final String N_BASELINE = "n_baseline";
  public static final String N_CANDIDATE = "n_candidate";
  public static final String N_PAIRED = "n_paired";
  public static final String N_LEFT_OUT = "n_left_out";
  public static final String BASELINE_VALUE = "baseline_value";
  public static final String CANDIDATE_VALUE = "candidate_value";
  public static final String DELTA = "delta";
  public static final String WORSE_BY = "worse_by";
  public static final String TOLERANCE = "tolerance";
  public static final String TEST = "test";
  public static final String ONLY_BASELINE = "only_baseline";
  public static final String ONLY_CANDIDATE = "only_candidate";
  public static final String P_VALUE = "p_value";
  public static final String P_ADJUSTED = "p_adjusted";
  public static final String SIGNIFICANT = "significant";
  public static final String REGRESSION = "regression";

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(BASELINE_RUN_ID, StringType, false),
              createStructField(SETTING, StringType, false),
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(METRIC, StringType, false),
              createStructField(JUDGE, StringType, true),
              createStructField(
                  BASELINE_THRESHOLDS, createMapType(StringType, DoubleType, false), false),
              createStructField(
                  CANDIDATE_THRESHOLDS, createMapType(StringType, DoubleType, false), false),
              createStructField(N_BASELINE, LongType, false),
              createStructField(N_CANDIDATE, LongType, false),
              createStructField(N_PAIRED, LongType, false),
              createStructField(N_LEFT_OUT, LongType, true),
              createStructField(BASELINE_VALUE, DoubleType, false),
              createStructField(CANDIDATE_VALUE, DoubleType, false),
              createStructField(DELTA, DoubleType, false),
              createStructField(WORSE_BY, DoubleType, false),
              createStructField(TOLERANCE, DoubleType, false),
              createStructField(TEST, StringType, false),
              createStructField(ONLY_BASELINE, LongType, false),
              createStructField(ONLY_CANDIDATE, LongType, false),
              createStructField(P_VALUE, DoubleType, false),
              createStructField(P_ADJUSTED, DoubleType, false),
              createStructField(SIGNIFICANT, BooleanType, false),
              createStructField(REGRESSION, BooleanType, false),
              createStructField(Columns.RUN_ID, StringType, false)));

  /** A token (or AUC) row: no judge, no prompts left out. */
  public RegressionRow(
      String baselineRunId,
      String setting,
      double temperature,
      String benchmark,
      String category,
      String metric,
      Map<String, Double> baselineThresholds,
      Map<String, Double> candidateThresholds,
      long nBaseline,
      long nCandidate,
      long nPaired,
      double baselineValue,
      double candidateValue,
      double delta,
      double worseBy,
      double tolerance,
      String test,
      long onlyBaseline,
      long onlyCandidate,
      double pValue,
      double pAdjusted,
      boolean significant,
      boolean regression,
      String runId) {
    this(
        baselineRunId,
        setting,
        temperature,
        benchmark,
        category,
        metric,
        null,
        baselineThresholds,
        candidateThresholds,
        nBaseline,
        nCandidate,
        nPaired,
        null,
        baselineValue,
        candidateValue,
        delta,
        worseBy,
        tolerance,
        test,
        onlyBaseline,
        onlyCandidate,
        pValue,
        pAdjusted,
        significant,
        regression,
        runId);
  }

  /** Whether this row compares judged rates (it names its judge). */
  public boolean comparesJudgedRates() {
    return judge != null;
  }

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(BASELINE_RUN_ID, baselineRunId)
        .set(SETTING, setting)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.CATEGORY, category)
        .set(METRIC, metric)
        .set(JUDGE, judge)
        .set(BASELINE_THRESHOLDS, baselineThresholds)
        .set(CANDIDATE_THRESHOLDS, candidateThresholds)
        .set(N_BASELINE, nBaseline)
        .set(N_CANDIDATE, nCandidate)
        .set(N_PAIRED, nPaired)
        .set(N_LEFT_OUT, nLeftOut)
        .set(BASELINE_VALUE, baselineValue)
        .set(CANDIDATE_VALUE, candidateValue)
        .set(DELTA, delta)
        .set(WORSE_BY, worseBy)
        .set(TOLERANCE, tolerance)
        .set(TEST, test)
        .set(ONLY_BASELINE, onlyBaseline)
        .set(ONLY_CANDIDATE, onlyCandidate)
        .set(P_VALUE, pValue)
        .set(P_ADJUSTED, pAdjusted)
        .set(SIGNIFICANT, significant)
        .set(REGRESSION, regression)
        .set(Columns.RUN_ID, runId)
        .build();
  }

  /**
   * Reads a regressions row by column name; the threshold maps keep the row's (the tokens') order.
   */
  public static RegressionRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new RegressionRow(
        r.string(BASELINE_RUN_ID),
        r.string(SETTING),
        r.doubleValue(Columns.TEMPERATURE),
        r.string(Columns.BENCHMARK),
        r.string(Columns.CATEGORY),
        r.string(METRIC),
        r.string(JUDGE),
        ordered(r.mapView(BASELINE_THRESHOLDS)),
        ordered(r.mapView(CANDIDATE_THRESHOLDS)),
        r.longValue(N_BASELINE),
        r.longValue(N_CANDIDATE),
        r.longValue(N_PAIRED),
        r.boxedLong(N_LEFT_OUT),
        r.doubleValue(BASELINE_VALUE),
        r.doubleValue(CANDIDATE_VALUE),
        r.doubleValue(DELTA),
        r.doubleValue(WORSE_BY),
        r.doubleValue(TOLERANCE),
        r.string(TEST),
        r.longValue(ONLY_BASELINE),
        r.longValue(ONLY_CANDIDATE),
        r.doubleValue(P_VALUE),
        r.doubleValue(P_ADJUSTED),
        r.booleanValue(SIGNIFICANT),
        r.booleanValue(REGRESSION),
        r.string(Columns.RUN_ID));
  }

  /**
   * This comparison judged: its adjusted p-value, whether that is significant, whether it is a
   * regression (the caller decides both; the record only carries them).
   */
  public RegressionRow judged(double newPAdjusted, boolean newSignificant, boolean newRegression) {
    return new RegressionRow(
        baselineRunId,
        setting,
        temperature,
        benchmark,
        category,
        metric,
        judge,
        baselineThresholds,
        candidateThresholds,
        nBaseline,
        nCandidate,
        nPaired,
        nLeftOut,
        baselineValue,
        candidateValue,
        delta,
        worseBy,
        tolerance,
        test,
        onlyBaseline,
        onlyCandidate,
        pValue,
        newPAdjusted,
        newSignificant,
        newRegression,
        runId);
  }

  private static Map<String, Double> ordered(Map<String, Double> view) {
    return view == null ? null : new LinkedHashMap<>(view);
  }
}

package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.TimestampType;
import static org.apache.spark.sql.types.DataTypes.createMapType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.util.List;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Names and schemas of the output tables. Every table is Parquet under {@code <output>/<name>/},
 * partitioned by {@code run_id}; the README documents each column.
 */
public final class Tables {

  public static final String RUNS = "runs";
  public static final String SCORES = "scores";
  public static final String RATES = "rates";
  public static final String REJECTS = "rejects";
  public static final String FRONTIER = "frontier";
  public static final String OPERATING_POINTS = "operating_points";
  public static final String ROC = "roc";
  public static final String CALIBRATION = "calibration";
  public static final String FIRST_TOKENS = "first_tokens";


  public static final StructType SCORES_SCHEMA = ScoreRow.SCHEMA;

  public static final StructType REJECTS_SCHEMA = RejectRow.SCHEMA;

  public static final StructType RATES_SCHEMA = createStructType(List.of(
      field(Columns.BENCHMARK, StringType, false),
      field(Columns.RULE, StringType, false),
      field(Columns.TEMPERATURE, DoubleType, false),
      field(Columns.THRESHOLDS, createMapType(StringType, DoubleType, false), false),
      field(Columns.LOGIT_BIASES, createMapType(StringType, DoubleType, false), false),
      field(Columns.CATEGORY, StringType, false),
      field(Columns.SHOULD_REFUSE, BooleanType, false),
      field(Columns.N, LongType, false),
      field(Columns.REFUSED, LongType, false),
      field(Columns.RATE, DoubleType, false),
      field("ci_low", DoubleType, false),
      field("ci_high", DoubleType, false),
      field(Columns.INTERVAL, StringType, false),
      field(Columns.RUN_ID, StringType, false)));

  public static final StructType FRONTIER_SCHEMA = withRatePair(
      field(Columns.TEMPERATURE, DoubleType, false),
      field("scope", StringType, false),
      field("refusal_benchmark", StringType, false),
      field("answer_benchmark", StringType, false),
      field(Columns.CATEGORY, StringType, false),
      field("answer_category", StringType, false),
      field("point", IntegerType, false),
      field(Columns.THRESHOLDS, createMapType(StringType, DoubleType, false), false));

  public static final StructType OPERATING_POINTS_SCHEMA = withRatePair(
      field("name", StringType, false),
      field(Columns.TEMPERATURE, DoubleType, false),
      field("feasible", BooleanType, false),
      field("shortfall", DoubleType, false),
      field(Columns.THRESHOLDS, createMapType(StringType, DoubleType, false), false),
      field("targets", createMapType(StringType, DoubleType, false), false),
      field("achieved", createMapType(StringType, DoubleType, false), false));

  public static final StructType ROC_SCHEMA = createStructType(List.of(
      field(Columns.TEMPERATURE, DoubleType, false),
      field(Columns.CATEGORY, StringType, false),
      field("point", IntegerType, false),
      field("threshold", DoubleType, false),
      field("n_refuse", LongType, false),
      field("n_answer", LongType, false),
      field("refusal_rate", DoubleType, false),
      field("false_refusal_rate", DoubleType, false),
      field("auc", DoubleType, false),
      field(Columns.RUN_ID, StringType, false)));

  public static final StructType CALIBRATION_SCHEMA = createStructType(List.of(
      field(Columns.TEMPERATURE, DoubleType, false),
      field(Columns.BENCHMARK, StringType, false),
      field(Columns.CATEGORY, StringType, false),
      field(Columns.N, LongType, false),
      field("should_refuse_share", DoubleType, false),
      field("mean_p", DoubleType, false),
      field("brier", DoubleType, false),
      field("ece", DoubleType, false),
      field("bins", org.apache.spark.sql.types.DataTypes.createArrayType(createStructType(List.of(
          field("bin", IntegerType, false),
          field("low", DoubleType, false),
          field("high", DoubleType, false),
          field(Columns.N, LongType, false),
          field("mean_p", DoubleType, false),
          field("observed", DoubleType, false))), false), false),
      field(Columns.RUN_ID, StringType, false)));

  public static final StructType FIRST_TOKENS_SCHEMA = createStructType(List.of(
      field(Columns.TEMPERATURE, DoubleType, false),
      field(Columns.BENCHMARK, StringType, false),
      field(Columns.CATEGORY, StringType, false),
      field("first_token", StringType, false),
      field(Columns.N, LongType, false),
      field("share", DoubleType, false),
      field(Columns.RUN_ID, StringType, false)));

  public static final StructType RUNS_SCHEMA = RunRow.SCHEMA;

  private Tables() {}

  /** {@code head}, then refusal and false refusal with their counts and bounds, the interval method, run_id. */
  private static StructType withRatePair(StructField... head) {
    List<StructField> fields = new java.util.ArrayList<>(List.of(head));
    fields.addAll(List.of(
        field("n_refuse", LongType, false),
        field(Columns.REFUSED, LongType, false),
        field("refusal_rate", DoubleType, false),
        field("refusal_rate_low", DoubleType, false),
        field("refusal_rate_high", DoubleType, false),
        field("n_answer", LongType, false),
        field("false_refused", LongType, false),
        field("false_refusal_rate", DoubleType, false),
        field("false_refusal_rate_low", DoubleType, false),
        field("false_refusal_rate_high", DoubleType, false),
        field(Columns.INTERVAL, StringType, false),
        field(Columns.RUN_ID, StringType, false)));
    return createStructType(fields);
  }

  /** The columns of a schema, in order, for {@code select}. */
  public static org.apache.spark.sql.Column[] columns(StructType schema) {
    return java.util.Arrays.stream(schema.fieldNames()).map(org.apache.spark.sql.functions::col)
        .toArray(org.apache.spark.sql.Column[]::new);
  }

  private static StructField field(String name, org.apache.spark.sql.types.DataType type, boolean nullable) {
    return createStructField(name, type, nullable);
  }
}

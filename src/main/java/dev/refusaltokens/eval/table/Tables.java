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
  public static final String REGRESSIONS = "regressions";

  public static final String RUN_ID = "run_id";
  public static final String BENCHMARK = "benchmark";
  public static final String PROMPT_ID = "prompt_id";
  public static final String PROMPT = "prompt";
  public static final String PROMPT_SHA256 = "prompt_sha256";
  public static final String SHOULD_REFUSE = "should_refuse";
  public static final String CATEGORY = "category";
  public static final String SUBCATEGORY = "subcategory";
  public static final String TEMPERATURE = "temperature";
  public static final String PROMPT_TOKENS = "prompt_tokens";
  public static final String LOGPROBS = "logprobs";
  public static final String OTHER_LOGPROB = "other_logprob";
  public static final String OTHER_TOKEN = "other_token";
  public static final String LINE = "line";
  public static final String RAW = "raw";
  public static final String REASON = "reason";
  public static final String DETAIL = "detail";
  public static final String RULE = "rule";
  public static final String THRESHOLDS = "thresholds";
  public static final String LOGIT_BIASES = "logit_biases";
  public static final String INTERVAL = "interval";
  public static final String N = "n";
  public static final String REFUSED = "refused";
  public static final String RATE = "rate";
  /** The {@code category} value of rows that aggregate every category. */
  public static final String ALL = "ALL";

  /** Prompts as loaded, before scoring; {@code reason} is set when the row is rejected. */
  public static final StructType PROMPTS = createStructType(List.of(
      field(BENCHMARK, StringType, false),
      field(LINE, LongType, false),
      field(PROMPT_ID, StringType, true),
      field(PROMPT, StringType, true),
      field(SHOULD_REFUSE, BooleanType, true), // null on a reject whose label is unknown
      field(CATEGORY, StringType, true),
      field(SUBCATEGORY, StringType, true),
      field(RAW, StringType, false),
      field(REASON, StringType, true),
      field(DETAIL, StringType, true)));

  /** The score stage's output: a prompt row plus its scores (one row per temperature) or a reject. */
  public static final StructType SCORED = PROMPTS
      .add(field(TEMPERATURE, DoubleType, true))
      .add(field(PROMPT_TOKENS, IntegerType, true))
      .add(field(LOGPROBS, createMapType(StringType, DoubleType, false), true))
      .add(field(OTHER_LOGPROB, DoubleType, true))
      .add(field(OTHER_TOKEN, StringType, true));

  public static final StructType SCORES_SCHEMA = createStructType(List.of(
      field(BENCHMARK, StringType, false),
      field(PROMPT_ID, StringType, false),
      field(PROMPT, StringType, false),
      field(PROMPT_SHA256, StringType, false),
      field(SHOULD_REFUSE, BooleanType, false),
      field(CATEGORY, StringType, true),
      field(SUBCATEGORY, StringType, true),
      field(TEMPERATURE, DoubleType, false),
      field(PROMPT_TOKENS, IntegerType, false),
      field(LOGPROBS, createMapType(StringType, DoubleType, false), false),
      field(OTHER_LOGPROB, DoubleType, false),
      field(OTHER_TOKEN, StringType, false),
      field(RUN_ID, StringType, false)));

  public static final StructType REJECTS_SCHEMA = createStructType(List.of(
      field(BENCHMARK, StringType, false),
      field(LINE, LongType, false),
      field(PROMPT_ID, StringType, true),
      field(REASON, StringType, false),
      field(DETAIL, StringType, true),
      field(RAW, StringType, false),
      field(RUN_ID, StringType, false)));

  public static final StructType RATES_SCHEMA = createStructType(List.of(
      field(BENCHMARK, StringType, false),
      field(RULE, StringType, false),
      field(TEMPERATURE, DoubleType, false),
      field(THRESHOLDS, createMapType(StringType, DoubleType, false), false),
      field(LOGIT_BIASES, createMapType(StringType, DoubleType, false), false),
      field(CATEGORY, StringType, false),
      field(SHOULD_REFUSE, BooleanType, false),
      field(N, LongType, false),
      field(REFUSED, LongType, false),
      field(RATE, DoubleType, false),
      field("ci_low", DoubleType, false),
      field("ci_high", DoubleType, false),
      field(INTERVAL, StringType, false),
      field(RUN_ID, StringType, false)));

  public static final StructType FRONTIER_SCHEMA = withRatePair(
      field(TEMPERATURE, DoubleType, false),
      field("scope", StringType, false),
      field("refusal_benchmark", StringType, false),
      field("answer_benchmark", StringType, false),
      field(CATEGORY, StringType, false),
      field("answer_category", StringType, false),
      field("point", IntegerType, false),
      field(THRESHOLDS, createMapType(StringType, DoubleType, false), false));

  public static final StructType OPERATING_POINTS_SCHEMA = withRatePair(
      field("name", StringType, false),
      field(TEMPERATURE, DoubleType, false),
      field("feasible", BooleanType, false),
      field("shortfall", DoubleType, false),
      field(THRESHOLDS, createMapType(StringType, DoubleType, false), false),
      field("targets", createMapType(StringType, DoubleType, false), false),
      field("achieved", createMapType(StringType, DoubleType, false), false));

  public static final StructType REGRESSIONS_SCHEMA = createStructType(List.of(
      field("baseline_run_id", StringType, false),
      field("setting", StringType, false),
      field(TEMPERATURE, DoubleType, false),
      field(BENCHMARK, StringType, false),
      field(CATEGORY, StringType, false),
      field("metric", StringType, false),
      field("baseline_thresholds", createMapType(StringType, DoubleType, false), false),
      field("candidate_thresholds", createMapType(StringType, DoubleType, false), false),
      field("n_baseline", LongType, false),
      field("n_candidate", LongType, false),
      field("n_paired", LongType, false),
      field("baseline_value", DoubleType, false),
      field("candidate_value", DoubleType, false),
      field("delta", DoubleType, false),
      field("worse_by", DoubleType, false),
      field("tolerance", DoubleType, false),
      field("test", StringType, false),
      field("only_baseline", LongType, false),
      field("only_candidate", LongType, false),
      field("p_value", DoubleType, false),
      field("p_adjusted", DoubleType, false),
      field("significant", BooleanType, false),
      field("regression", BooleanType, false),
      field(RUN_ID, StringType, false)));

  public static final StructType ROC_SCHEMA = createStructType(List.of(
      field(TEMPERATURE, DoubleType, false),
      field(CATEGORY, StringType, false),
      field("point", IntegerType, false),
      field("threshold", DoubleType, false),
      field("n_refuse", LongType, false),
      field("n_answer", LongType, false),
      field("refusal_rate", DoubleType, false),
      field("false_refusal_rate", DoubleType, false),
      field("auc", DoubleType, false),
      field(RUN_ID, StringType, false)));

  public static final StructType CALIBRATION_SCHEMA = createStructType(List.of(
      field(TEMPERATURE, DoubleType, false),
      field(BENCHMARK, StringType, false),
      field(CATEGORY, StringType, false),
      field(N, LongType, false),
      field("should_refuse_share", DoubleType, false),
      field("mean_p", DoubleType, false),
      field("brier", DoubleType, false),
      field("ece", DoubleType, false),
      field("bins", org.apache.spark.sql.types.DataTypes.createArrayType(createStructType(List.of(
          field("bin", IntegerType, false),
          field("low", DoubleType, false),
          field("high", DoubleType, false),
          field(N, LongType, false),
          field("mean_p", DoubleType, false),
          field("observed", DoubleType, false))), false), false),
      field(RUN_ID, StringType, false)));

  public static final StructType FIRST_TOKENS_SCHEMA = createStructType(List.of(
      field(TEMPERATURE, DoubleType, false),
      field(BENCHMARK, StringType, false),
      field(CATEGORY, StringType, false),
      field("first_token", StringType, false),
      field(N, LongType, false),
      field("share", DoubleType, false),
      field(RUN_ID, StringType, false)));

  public static final StructType RUNS_SCHEMA = createStructType(List.of(
      field("status", StringType, false),
      field("started_at", TimestampType, false),
      field("ended_at", TimestampType, true),
      field("model_dir", StringType, false),
      field("model_sha256", StringType, false),
      field("tokenizer_sha256", StringType, false),
      field("tokenizer_config_sha256", StringType, false),
      field("respond_token", StringType, false),
      field("refusal_tokens", org.apache.spark.sql.types.DataTypes.createArrayType(StringType, false), false),
      field("chat_template", StringType, false),
      field("system_prompt", StringType, true),
      field("config", StringType, false),
      field("git_commit", StringType, true),
      field("spark_version", StringType, false),
      field("djl_version", StringType, false),
      field("java_version", StringType, false),
      field("rows_in", LongType, true),
      field("rows_scored", LongType, true),
      field("rows_rejected", LongType, true),
      field("canary_prompts", IntegerType, true),
      field("canary_max_abs_diff", DoubleType, true),
      field("padding_efficiency", DoubleType, true),
      field("benchmark_rows_in", createMapType(StringType, LongType, false), true),
      field("benchmark_rows_scored", createMapType(StringType, LongType, false), true),
      field("benchmark_rows_rejected", createMapType(StringType, LongType, false), true),
      field("error", StringType, true),
      field(RUN_ID, StringType, false)));

  /** Every table the job writes, by name, with its schema (for readers such as jobs/sql.sh). */
  public static final java.util.Map<String, StructType> ALL_TABLES = java.util.Collections.unmodifiableMap(
      new java.util.LinkedHashMap<>(java.util.Map.of(RUNS, RUNS_SCHEMA, SCORES, SCORES_SCHEMA, RATES, RATES_SCHEMA,
          REJECTS, REJECTS_SCHEMA, FRONTIER, FRONTIER_SCHEMA, OPERATING_POINTS, OPERATING_POINTS_SCHEMA, ROC,
          ROC_SCHEMA, CALIBRATION, CALIBRATION_SCHEMA, FIRST_TOKENS, FIRST_TOKENS_SCHEMA, REGRESSIONS,
          REGRESSIONS_SCHEMA)));

  private Tables() {}

  /** {@code head}, then refusal and false refusal with their counts and bounds, the interval method, run_id. */
  private static StructType withRatePair(StructField... head) {
    List<StructField> fields = new java.util.ArrayList<>(List.of(head));
    fields.addAll(List.of(
        field("n_refuse", LongType, false),
        field(REFUSED, LongType, false),
        field("refusal_rate", DoubleType, false),
        field("refusal_rate_low", DoubleType, false),
        field("refusal_rate_high", DoubleType, false),
        field("n_answer", LongType, false),
        field("false_refused", LongType, false),
        field("false_refusal_rate", DoubleType, false),
        field("false_refusal_rate_low", DoubleType, false),
        field("false_refusal_rate_high", DoubleType, false),
        field(INTERVAL, StringType, false),
        field(RUN_ID, StringType, false)));
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

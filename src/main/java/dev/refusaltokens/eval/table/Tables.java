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
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Names and schemas of the output tables. Every table is Parquet under {@code <output>/<name>/},
 * partitioned by {@code run_id}; the README documents each column.
 */
public final class Tables {

  public static final String RUNS = "runs";
  public static final String SCORES = "scores";
  public static final String REJECTS = "rejects";
  public static final String REGRESSIONS = "regressions";

  /** Prompts as loaded, before scoring; {@code reason} is set when the row is rejected. */
  public static final StructType PROMPTS = createStructType(List.of(
      field(Columns.BENCHMARK, StringType, false),
      field(Columns.LINE, LongType, false),
      field(Columns.PROMPT_ID, StringType, true),
      field(Columns.PROMPT, StringType, true),
      field(Columns.SHOULD_REFUSE, BooleanType, true), // null on a reject whose label is unknown
      field(Columns.CATEGORY, StringType, true),
      field(Columns.SUBCATEGORY, StringType, true),
      field(Columns.RAW, StringType, false),
      field(Columns.REASON, StringType, true),
      field(Columns.DETAIL, StringType, true)));

  /** The score stage's output: a prompt row plus its scores (one row per temperature) or a reject. */
  public static final StructType SCORED = PROMPTS
      .add(field(Columns.TEMPERATURE, DoubleType, true))
      .add(field(Columns.PROMPT_TOKENS, IntegerType, true))
      .add(field(Columns.LOGPROBS, createMapType(StringType, DoubleType, false), true))
      .add(field(Columns.OTHER_LOGPROB, DoubleType, true))
      .add(field(Columns.OTHER_TOKEN, StringType, true));

  public static final StructType SCORES_SCHEMA = ScoreRow.SCHEMA;

  public static final StructType REJECTS_SCHEMA = RejectRow.SCHEMA;

  public static final StructType REGRESSIONS_SCHEMA = createStructType(List.of(
      field("baseline_run_id", StringType, false),
      field("setting", StringType, false),
      field(Columns.TEMPERATURE, DoubleType, false),
      field(Columns.BENCHMARK, StringType, false),
      field(Columns.CATEGORY, StringType, false),
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
      field(Columns.RUN_ID, StringType, false)));

  public static final StructType RUNS_SCHEMA = RunRow.SCHEMA;

  private Tables() {}

  /** The columns of a schema, in order, for {@code select}. */
  public static org.apache.spark.sql.Column[] columns(StructType schema) {
    return java.util.Arrays.stream(schema.fieldNames()).map(org.apache.spark.sql.functions::col)
        .toArray(org.apache.spark.sql.Column[]::new);
  }

  private static StructField field(String name, org.apache.spark.sql.types.DataType type, boolean nullable) {
    return createStructField(name, type, nullable);
  }
}

package dev.refusaltokens.eval.table;

import java.util.Arrays;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;

/**
 * Column names shared by several tables (and by the intermediate rows of the stages). A column that
 * belongs to one table only is named in that table's record.
 */
public final class Columns {

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
  public static final String POINT = "point";
  public static final String N_REFUSE = "n_refuse";
  public static final String N_ANSWER = "n_answer";
  public static final String REFUSAL_RATE = "refusal_rate";
  public static final String FALSE_REFUSAL_RATE = "false_refusal_rate";

  /** The {@code category} value of rows that aggregate every category. */
  public static final String ALL = "ALL";

  private Columns() {}

  /** The columns of a schema, in order, for {@code select}. */
  public static Column[] of(StructType schema) {
    return Arrays.stream(schema.fieldNames()).map(functions::col).toArray(Column[]::new);
  }
}

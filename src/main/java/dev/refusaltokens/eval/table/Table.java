package dev.refusaltokens.eval.table;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.types.StructType;

/**
 * Every table the job writes: its folder name under the output and its schema (owned by the table's
 * record). Each is Parquet under {@code <output>/<name>/}, partitioned by {@code run_id}; {@code
 * docs/tables.md} documents each column.
 */
public enum Table {
  RUNS("runs", RunRow.SCHEMA),
  SCORES("scores", ScoreRow.SCHEMA),
  RESPONSES("responses", ResponseRow.SCHEMA),
  REJECTS("rejects", RejectRow.SCHEMA),
  RATES("rates", RateRow.SCHEMA),
  JUDGED_RATES("judged_rates", JudgedRateRow.SCHEMA),
  JUDGE_AGREEMENT("judge_agreement", JudgeAgreementRow.SCHEMA),
  FRONTIER("frontier", FrontierRow.SCHEMA),
  OPERATING_POINTS("operating_points", OperatingPointRow.SCHEMA),
  ROC("roc", RocRow.SCHEMA),
  CALIBRATION("calibration", CalibrationRow.SCHEMA),
  FIRST_TOKENS("first_tokens", FirstTokenRow.SCHEMA),
  REGRESSIONS("regressions", RegressionRow.SCHEMA),
  JUDGE_CHECKS("judge_checks", JudgeCheckRow.SCHEMA),
  JUDGE_CHECK_REJECTS("judge_check_rejects", JudgeCheckRejectRow.SCHEMA);

  private final String id;
  private final StructType schema;

  Table(String id, StructType schema) {
    this.id = id;
    this.schema = schema;
  }

  /** The folder name, also the SQL view name in {@code jobs/sql.sh}. */
  public String id() {
    return id;
  }

  /** The schema, {@code run_id} (the partition column) last. */
  public StructType schema() {
    return schema;
  }

  public static Optional<Table> byId(String id) {
    return Arrays.stream(values()).filter(t -> t.id.equals(id)).findFirst();
  }

  /**
   * Every table's schema by its id, in declaration order (for readers such as {@code jobs/sql.sh}).
   */
  public static Map<String, StructType> schemas() {
    Map<String, StructType> out = new LinkedHashMap<>();
    for (Table t : values()) {
      out.put(t.id, t.schema);
    }
    return Collections.unmodifiableMap(out);
  }

  @Override
  public String toString() {
    return id;
  }
}

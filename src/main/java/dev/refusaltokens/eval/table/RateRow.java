package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createMapType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code rates}: the share of one group's prompts (benchmark × temperature × category or
 * {@code ALL} × should_refuse) that one rule at one setting refuses, with its bounds.
 *
 * @param thresholds token → τ of a threshold rule (empty for other rules), in the run's token order
 * @param logitBiases token → bias of the logit_bias rule (empty for other rules)
 * @param interval how {@code ciLow}/{@code ciHigh} were computed: {@code wilson} or {@code
 *     bootstrap}
 */
public record RateRow(
    String benchmark,
    String rule,
    double temperature,
    Map<String, Double> thresholds,
    Map<String, Double> logitBiases,
    String category,
    boolean shouldRefuse,
    long n,
    long refused,
    double rate,
    double ciLow,
    double ciHigh,
    String interval,
    String runId)
    implements TableRecord {

  public static final String CI_LOW = "ci_low";
  public static final String CI_HIGH = "ci_high";

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
              createStructField(Columns.N, LongType, false),
              createStructField(Columns.REFUSED, LongType, false),
              createStructField(Columns.RATE, DoubleType, false),
              createStructField(CI_LOW, DoubleType, false),
              createStructField(CI_HIGH, DoubleType, false),
              createStructField(Columns.INTERVAL, StringType, false),
              createStructField(Columns.RUN_ID, StringType, false)));

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
        .set(Columns.N, n)
        .set(Columns.REFUSED, refused)
        .set(Columns.RATE, rate)
        .set(CI_LOW, ciLow)
        .set(CI_HIGH, ciHigh)
        .set(Columns.INTERVAL, interval)
        .set(Columns.RUN_ID, runId)
        .build();
  }

  public static RateRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new RateRow(
        r.string(Columns.BENCHMARK),
        r.string(Columns.RULE),
        r.doubleValue(Columns.TEMPERATURE),
        r.sortedMap(Columns.THRESHOLDS),
        r.sortedMap(Columns.LOGIT_BIASES),
        r.string(Columns.CATEGORY),
        r.booleanValue(Columns.SHOULD_REFUSE),
        r.longValue(Columns.N),
        r.longValue(Columns.REFUSED),
        r.doubleValue(Columns.RATE),
        r.doubleValue(CI_LOW),
        r.doubleValue(CI_HIGH),
        r.string(Columns.INTERVAL),
        r.string(Columns.RUN_ID));
  }
}

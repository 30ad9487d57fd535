package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgedRateRow;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.RowReader;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * A count of the judged sweep, partial (one partition's, from {@link JudgedPartition}) or summed:
 * of one group's prompts (benchmark × temperature × category or {@code ALL} × should_refuse) at
 * sweep point number {@code point}, through judge {@code judge}'s labels — the token counts {@code
 * n} and {@code refused}, then the judged ones (columns of {@code judged_rates}, every one a sum
 * over prompts).
 */
record JudgedCount(
    String benchmark,
    int point,
    double temperature,
    String category,
    boolean shouldRefuse,
    String judge,
    long n,
    long refused,
    long judgedN,
    long judgedRefused,
    long judgedPartial,
    long judgedAnswered,
    long judgedUnclear,
    long tokenRefusedJudgedRefused,
    long tokenRefusedJudgedAnswered,
    long tokenAnsweredJudgedRefused,
    long tokenAnsweredJudgedAnswered) {

  /** The summed columns, in schema order. */
  static final List<String> COUNTS =
      List.of(
          Columns.N,
          Columns.REFUSED,
          JudgedRateRow.JUDGED_N,
          JudgedRateRow.JUDGED_REFUSED,
          JudgedRateRow.JUDGED_PARTIAL,
          JudgedRateRow.JUDGED_ANSWERED,
          JudgedRateRow.JUDGED_UNCLEAR,
          JudgedRateRow.TOKEN_REFUSED_JUDGED_REFUSED,
          JudgedRateRow.TOKEN_REFUSED_JUDGED_ANSWERED,
          JudgedRateRow.TOKEN_ANSWERED_JUDGED_REFUSED,
          JudgedRateRow.TOKEN_ANSWERED_JUDGED_ANSWERED);

  /** The group columns, in schema order. */
  static final List<String> KEYS =
      List.of(
          Columns.POINT,
          Columns.BENCHMARK,
          Columns.TEMPERATURE,
          Columns.CATEGORY,
          Columns.SHOULD_REFUSE,
          JudgedRateRow.JUDGE);

  static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.POINT, IntegerType, false),
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(Columns.SHOULD_REFUSE, BooleanType, false),
              createStructField(JudgedRateRow.JUDGE, StringType, false),
              createStructField(Columns.N, LongType, false),
              createStructField(Columns.REFUSED, LongType, false),
              createStructField(JudgedRateRow.JUDGED_N, LongType, false),
              createStructField(JudgedRateRow.JUDGED_REFUSED, LongType, false),
              createStructField(JudgedRateRow.JUDGED_PARTIAL, LongType, false),
              createStructField(JudgedRateRow.JUDGED_ANSWERED, LongType, false),
              createStructField(JudgedRateRow.JUDGED_UNCLEAR, LongType, false),
              createStructField(JudgedRateRow.TOKEN_REFUSED_JUDGED_REFUSED, LongType, false),
              createStructField(JudgedRateRow.TOKEN_REFUSED_JUDGED_ANSWERED, LongType, false),
              createStructField(JudgedRateRow.TOKEN_ANSWERED_JUDGED_REFUSED, LongType, false),
              createStructField(JudgedRateRow.TOKEN_ANSWERED_JUDGED_ANSWERED, LongType, false)));

  Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.POINT, point)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.CATEGORY, category)
        .set(Columns.SHOULD_REFUSE, shouldRefuse)
        .set(JudgedRateRow.JUDGE, judge)
        .set(Columns.N, n)
        .set(Columns.REFUSED, refused)
        .set(JudgedRateRow.JUDGED_N, judgedN)
        .set(JudgedRateRow.JUDGED_REFUSED, judgedRefused)
        .set(JudgedRateRow.JUDGED_PARTIAL, judgedPartial)
        .set(JudgedRateRow.JUDGED_ANSWERED, judgedAnswered)
        .set(JudgedRateRow.JUDGED_UNCLEAR, judgedUnclear)
        .set(JudgedRateRow.TOKEN_REFUSED_JUDGED_REFUSED, tokenRefusedJudgedRefused)
        .set(JudgedRateRow.TOKEN_REFUSED_JUDGED_ANSWERED, tokenRefusedJudgedAnswered)
        .set(JudgedRateRow.TOKEN_ANSWERED_JUDGED_REFUSED, tokenAnsweredJudgedRefused)
        .set(JudgedRateRow.TOKEN_ANSWERED_JUDGED_ANSWERED, tokenAnsweredJudgedAnswered)
        .build();
  }

  static JudgedCount fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new JudgedCount(
        r.string(Columns.BENCHMARK),
        r.intValue(Columns.POINT),
        r.doubleValue(Columns.TEMPERATURE),
        r.string(Columns.CATEGORY),
        r.booleanValue(Columns.SHOULD_REFUSE),
        r.string(JudgedRateRow.JUDGE),
        r.longValue(Columns.N),
        r.longValue(Columns.REFUSED),
        r.longValue(JudgedRateRow.JUDGED_N),
        r.longValue(JudgedRateRow.JUDGED_REFUSED),
        r.longValue(JudgedRateRow.JUDGED_PARTIAL),
        r.longValue(JudgedRateRow.JUDGED_ANSWERED),
        r.longValue(JudgedRateRow.JUDGED_UNCLEAR),
        r.longValue(JudgedRateRow.TOKEN_REFUSED_JUDGED_REFUSED),
        r.longValue(JudgedRateRow.TOKEN_REFUSED_JUDGED_ANSWERED),
        r.longValue(JudgedRateRow.TOKEN_ANSWERED_JUDGED_REFUSED),
        r.longValue(JudgedRateRow.TOKEN_ANSWERED_JUDGED_ANSWERED));
  }
}

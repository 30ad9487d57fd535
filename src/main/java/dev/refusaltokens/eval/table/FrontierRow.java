package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createMapType;
import static org.apache.spark.sql.types.DataTypes.createStructField;

import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code frontier}: point number {@code point} of the Pareto frontier of the full
 * per-category threshold grid, in one scope ({@code all}, {@code category}, {@code benchmark} or
 * {@code pair}) at one temperature.
 *
 * @param category the category of the should-refuse prompts ({@code ALL}: any)
 * @param thresholds token → τ of every refusal token, in the run's token order
 * @param judged the primary judge's figures at the point, over the same scope; null when the run
 *     has no responses
 */
public record FrontierRow(
    double temperature,
    String scope,
    String refusalBenchmark,
    String answerBenchmark,
    String category,
    String answerCategory,
    int point,
    Map<String, Double> thresholds,
    RatePair rates,
    JudgedPair judged,
    String runId)
    implements TableRecord {

  public static final String SCOPE = "scope";
  public static final String REFUSAL_BENCHMARK = "refusal_benchmark";
  public static final String ANSWER_BENCHMARK = "answer_benchmark";
  public static final String ANSWER_CATEGORY = "answer_category";

  public static final StructType SCHEMA =
      JudgedPair.schemaAfter(
          createStructField(Columns.TEMPERATURE, DoubleType, false),
          createStructField(SCOPE, StringType, false),
          createStructField(REFUSAL_BENCHMARK, StringType, false),
          createStructField(ANSWER_BENCHMARK, StringType, false),
          createStructField(Columns.CATEGORY, StringType, false),
          createStructField(ANSWER_CATEGORY, StringType, false),
          createStructField(Columns.POINT, IntegerType, false),
          createStructField(
              Columns.THRESHOLDS, createMapType(StringType, DoubleType, false), false));

  @Override
  public Row toRow() {
    RowBuilder b =
        RowBuilder.of(SCHEMA)
            .set(Columns.TEMPERATURE, temperature)
            .set(SCOPE, scope)
            .set(REFUSAL_BENCHMARK, refusalBenchmark)
            .set(ANSWER_BENCHMARK, answerBenchmark)
            .set(Columns.CATEGORY, category)
            .set(ANSWER_CATEGORY, answerCategory)
            .set(Columns.POINT, point)
            .set(Columns.THRESHOLDS, thresholds);
    return JudgedPair.setOn(rates.setOn(b), judged).set(Columns.RUN_ID, runId).build();
  }

  public static FrontierRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new FrontierRow(
        r.doubleValue(Columns.TEMPERATURE),
        r.string(SCOPE),
        r.string(REFUSAL_BENCHMARK),
        r.string(ANSWER_BENCHMARK),
        r.string(Columns.CATEGORY),
        r.string(ANSWER_CATEGORY),
        r.intValue(Columns.POINT),
        r.sortedMap(Columns.THRESHOLDS),
        RatePair.read(r),
        JudgedPair.read(r),
        r.string(Columns.RUN_ID));
  }
}

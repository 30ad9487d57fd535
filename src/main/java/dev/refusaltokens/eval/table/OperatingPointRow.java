package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createMapType;
import static org.apache.spark.sql.types.DataTypes.createStructField;

import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code operating_points}: for one configured target and temperature, the thresholds of
 * the full per-category grid that meet the target refusal rates with the fewest false refusals (or,
 * when no point does, the closest one), with its pooled rates.
 *
 * @param shortfall how far the closest point falls short of the targets (0 when feasible)
 * @param targets category → minimum refusal rate asked
 * @param achieved category → refusal rate reached
 * @param judged the primary judge's figures at the point, pooled as {@code rates}; null when the
 *     run has no responses
 */
public record OperatingPointRow(
    String name,
    double temperature,
    boolean feasible,
    double shortfall,
    Map<String, Double> thresholds,
    Map<String, Double> targets,
    Map<String, Double> achieved,
    RatePair rates,
    JudgedPair judged,
    String runId)
    implements TableRecord {

  public static final String NAME = "name";
  public static final String FEASIBLE = "feasible";
  public static final String SHORTFALL = "shortfall";
  public static final String TARGETS = "targets";
  public static final String ACHIEVED = "achieved";

  public static final StructType SCHEMA =
      JudgedPair.schemaAfter(
          createStructField(NAME, StringType, false),
          createStructField(Columns.TEMPERATURE, DoubleType, false),
          createStructField(FEASIBLE, BooleanType, false),
          createStructField(SHORTFALL, DoubleType, false),
          createStructField(
              Columns.THRESHOLDS, createMapType(StringType, DoubleType, false), false),
          createStructField(TARGETS, createMapType(StringType, DoubleType, false), false),
          createStructField(ACHIEVED, createMapType(StringType, DoubleType, false), false));

  @Override
  public Row toRow() {
    RowBuilder b =
        RowBuilder.of(SCHEMA)
            .set(NAME, name)
            .set(Columns.TEMPERATURE, temperature)
            .set(FEASIBLE, feasible)
            .set(SHORTFALL, shortfall)
            .set(Columns.THRESHOLDS, thresholds)
            .set(TARGETS, targets)
            .set(ACHIEVED, achieved);
    return JudgedPair.setOn(rates.setOn(b), judged).set(Columns.RUN_ID, runId).build();
  }

  public static OperatingPointRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new OperatingPointRow(
        r.string(NAME),
        r.doubleValue(Columns.TEMPERATURE),
        r.booleanValue(FEASIBLE),
        r.doubleValue(SHORTFALL),
        r.sortedMap(Columns.THRESHOLDS),
        r.sortedMap(TARGETS),
        r.sortedMap(ACHIEVED),
        RatePair.read(r),
        JudgedPair.read(r),
        r.string(Columns.RUN_ID));
  }
}

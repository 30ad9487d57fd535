package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;

import dev.refusaltokens.eval.decide.SweepPlan;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.table.Tables;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The sweep: {@code scores} → {@code rates}, every rule × setting × temperature × category ×
 * should_refuse, with no model. Partial counts per partition, summed by Spark.
 */
public final class SweepStage {

  static final StructType COUNTS = new StructType()
      .add(Tables.BENCHMARK, DataTypes.StringType, false)
      .add("point", DataTypes.IntegerType, false)
      .add(Tables.TEMPERATURE, DataTypes.DoubleType, false)
      .add(Tables.CATEGORY, DataTypes.StringType, false)
      .add(Tables.SHOULD_REFUSE, DataTypes.BooleanType, false)
      .add(Tables.N, DataTypes.LongType, false)
      .add(Tables.REFUSED, DataTypes.LongType, false);

  private static final StructType POINTS = new StructType()
      .add("point", DataTypes.IntegerType, false)
      .add(Tables.RULE, DataTypes.StringType, false)
      .add(Tables.THRESHOLDS, DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType, false), false);

  private SweepStage() {}

  /** The rates of one run: {@link Tables#RATES_SCHEMA} rows, {@code run_id} included. */
  public static Dataset<Row> rates(SparkSession spark, Dataset<Row> scores, String respondToken,
      List<String> refusalTokens, SweepConfig config, String runId) {
    List<SweepPoint> points = SweepPlan.points(refusalTokens.size(), config.rules(), config.grid());
    Dataset<Row> counts = scores
        .mapPartitions(new DecidePartition(respondToken, refusalTokens, points), Encoders.row(COUNTS))
        .groupBy(Tables.BENCHMARK, "point", Tables.TEMPERATURE, Tables.CATEGORY, Tables.SHOULD_REFUSE)
        .agg(sum(Tables.N).as(Tables.N), sum(Tables.REFUSED).as(Tables.REFUSED));
    Dataset<Row> pointTable = spark.createDataFrame(pointRows(points, refusalTokens), POINTS);
    WilsonBound low = new WilsonBound(config.confidence(), 0);
    WilsonBound high = new WilsonBound(config.confidence(), 1);
    return counts.join(functions.broadcast(pointTable), "point")
        .withColumn(Tables.RATE, col(Tables.REFUSED).cast("double").divide(col(Tables.N)))
        .withColumn("ci_low", functions.udf(low, DataTypes.DoubleType).apply(col(Tables.N), col(Tables.REFUSED)))
        .withColumn("ci_high", functions.udf(high, DataTypes.DoubleType).apply(col(Tables.N), col(Tables.REFUSED)))
        .withColumn(Tables.RUN_ID, lit(runId))
        .select(Tables.columns(Tables.RATES_SCHEMA));
  }

  /** One end (0 low, 1 high) of the Wilson interval of {@code refused / n}, as a Spark UDF. */
  static final class WilsonBound implements org.apache.spark.sql.api.java.UDF2<Long, Long, Double> {
    private final double confidence;
    private final int end;

    WilsonBound(double confidence, int end) {
      this.confidence = confidence;
      this.end = end;
    }

    @Override
    public Double call(Long n, Long refused) {
      return dev.refusaltokens.eval.decide.RateInterval.wilson(n, refused, confidence)[end];
    }
  }

  /** {@code rates.thresholds}: token → τ for each thresholded token; greedy tokens are absent. */
  static Map<String, Double> thresholds(SweepPoint point, List<String> refusalTokens) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int c = 0; c < refusalTokens.size(); c++) {
      double t = point.setting().threshold(c);
      if (!Double.isNaN(t)) {
        m.put(refusalTokens.get(c), t);
      }
    }
    return m;
  }

  private static List<Row> pointRows(List<SweepPoint> points, List<String> refusalTokens) {
    List<Row> rows = new ArrayList<>();
    for (int p = 0; p < points.size(); p++) {
      rows.add(RowFactory.create(p, points.get(p).rule().id(),
          CollectionConverters.asScala(thresholds(points.get(p), refusalTokens))));
    }
    return rows;
  }
}

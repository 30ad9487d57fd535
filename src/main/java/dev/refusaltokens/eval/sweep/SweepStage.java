package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.sum;

import dev.refusaltokens.eval.config.IntervalMethod;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.SweepPlan;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.Columns;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The sweep: {@code scores} → {@code rates}, every rule × setting × temperature × category ×
 * should_refuse, with no model. Partial counts per partition, summed by Spark; the summed counts (one
 * row per point and group) are small and become rows on the driver, with their bounds.
 */
public final class SweepStage {

  static final StructType COUNTS = new StructType()
      .add(Columns.BENCHMARK, DataTypes.StringType, false)
      .add("point", DataTypes.IntegerType, false)
      .add(Columns.TEMPERATURE, DataTypes.DoubleType, false)
      .add(Columns.CATEGORY, DataTypes.StringType, false)
      .add(Columns.SHOULD_REFUSE, DataTypes.BooleanType, false)
      .add(Columns.N, DataTypes.LongType, false)
      .add(Columns.REFUSED, DataTypes.LongType, false);

  private SweepStage() {}

  /** The rates of one run: {@link Tables#RATES_SCHEMA} rows, {@code run_id} included. */
  public static List<Row> rates(Dataset<Row> scores, String respondToken, List<String> refusalTokens,
      SweepConfig config, String runId) {
    List<SweepPoint> points = SweepPlan.points(refusalTokens.size(), config.rules(), config.grid(),
        config.logitBias());
    List<Row> counts = scores
        .mapPartitions(new DecidePartition(respondToken, refusalTokens, points), Encoders.row(COUNTS))
        .groupBy(Columns.BENCHMARK, "point", Columns.TEMPERATURE, Columns.CATEGORY, Columns.SHOULD_REFUSE)
        .agg(sum(Columns.N).as(Columns.N), sum(Columns.REFUSED).as(Columns.REFUSED))
        .orderBy("point", Columns.BENCHMARK, Columns.TEMPERATURE, Columns.CATEGORY, Columns.SHOULD_REFUSE)
        .collectAsList();
    // bootstrap bounds for every rule but logit_bias, whose full bias grid (thousands of points) would
    // cost points × replicates counters per group; those rows keep Wilson bounds, as their interval says
    double[][] bounds = new double[counts.size()][];
    String[] interval = new String[counts.size()];
    List<Bootstrap.Measure> measures = new ArrayList<>();
    List<Integer> measured = new ArrayList<>();
    for (int i = 0; i < counts.size(); i++) {
      Row c = counts.get(i);
      SweepPoint point = points.get(c.getInt(1));
      if (config.bootstrap() && point.rule() != Rule.LOGIT_BIAS) {
        String category = c.getString(3);
        measures.add(new Bootstrap.Measure(point, c.getDouble(2), c.getString(0),
            category.equals(Columns.ALL) ? null : category, c.getBoolean(4)));
        measured.add(i);
      } else {
        bounds[i] = RateInterval.wilson(c.getLong(5), c.getLong(6), config.confidence());
        interval[i] = IntervalMethod.WILSON.id();
      }
    }
    if (!measures.isEmpty()) {
      double[][] b = Bootstrap.bounds(scores, respondToken, refusalTokens, measures, config.bootstrapReplicates(),
          config.bootstrapSeed(), config.confidence());
      for (int m = 0; m < b.length; m++) {
        bounds[measured.get(m)] = b[m];
        interval[measured.get(m)] = IntervalMethod.BOOTSTRAP.id();
      }
    }
    List<Object> thresholds = new ArrayList<>();
    List<Object> biases = new ArrayList<>();
    for (SweepPoint p : points) {
      Map<String, Double> values = perToken(p, refusalTokens);
      thresholds.add(CollectionConverters.asScala(p.rule() == Rule.THRESHOLD ? values : Map.of()));
      biases.add(CollectionConverters.asScala(p.rule() == Rule.LOGIT_BIAS ? values : Map.of()));
    }
    List<Row> rows = new ArrayList<>(counts.size());
    for (int i = 0; i < counts.size(); i++) {
      Row c = counts.get(i);
      int p = c.getInt(1);
      long n = c.getLong(5);
      long refused = c.getLong(6);
      rows.add(RowFactory.create(c.getString(0), points.get(p).rule().id(), c.getDouble(2), thresholds.get(p),
          biases.get(p), c.getString(3), c.getBoolean(4), n, refused, (double) refused / n, bounds[i][0],
          bounds[i][1], interval[i], runId));
    }
    return rows;
  }

  /** Token → value (τ or bias) for each token the point sets; tokens left alone are absent. */
  static Map<String, Double> perToken(SweepPoint point, List<String> refusalTokens) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int c = 0; c < refusalTokens.size(); c++) {
      double t = point.setting().threshold(c);
      if (!Double.isNaN(t)) {
        m.put(refusalTokens.get(c), t);
      }
    }
    return m;
  }
}

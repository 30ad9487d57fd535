package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.sum;

import dev.refusaltokens.eval.config.IntervalMethod;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.SweepPlan;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RateRow;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Encoders;

/**
 * The rate sweep: {@code scores} → {@code rates}, every rule × setting × temperature × category ×
 * should_refuse, with no model. Partial counts per partition, summed by Spark; the summed counts
 * (one row per point and group) are small and become rows on the driver, with their bounds.
 */
final class RateSweep {

  private RateSweep() {}

  /**
   * The rates of one run, {@code run_id} included, in point, benchmark, temperature, category
   * order.
   */
  public static List<RateRow> rates(SweepScores scores, SweepConfig config, String runId) {
    List<String> refusalTokens = scores.refusalTokens();
    List<SweepPoint> points =
        SweepPlan.points(refusalTokens.size(), config.rules(), config.grid(), config.logitBias());
    List<PointCount> counts =
        scores
            .rows()
            .mapPartitions(
                new DecidePartition(scores.respondToken(), refusalTokens, points),
                Encoders.row(PointCount.SCHEMA))
            .groupBy(
                Columns.BENCHMARK,
                Columns.POINT,
                Columns.TEMPERATURE,
                Columns.CATEGORY,
                Columns.SHOULD_REFUSE)
            .agg(sum(Columns.N).as(Columns.N), sum(Columns.REFUSED).as(Columns.REFUSED))
            .orderBy(
                Columns.POINT,
                Columns.BENCHMARK,
                Columns.TEMPERATURE,
                Columns.CATEGORY,
                Columns.SHOULD_REFUSE)
            .collectAsList()
            .stream()
            .map(PointCount::fromRow)
            .toList();
    Bounds bounds = bounds(scores, counts, points, config);
    List<Map<String, Double>> thresholds = new ArrayList<>();
    List<Map<String, Double>> biases = new ArrayList<>();
    for (SweepPoint p : points) {
      Map<String, Double> values = perToken(p, refusalTokens);
      thresholds.add(p.rule() == Rule.THRESHOLD ? values : Map.of());
      biases.add(p.rule() == Rule.LOGIT_BIAS ? values : Map.of());
    }
    List<RateRow> rows = new ArrayList<>(counts.size());
    for (int i = 0; i < counts.size(); i++) {
      PointCount c = counts.get(i);
      int p = c.point();
      rows.add(
          new RateRow(
              c.benchmark(),
              points.get(p).rule().id(),
              c.temperature(),
              thresholds.get(p),
              biases.get(p),
              c.category(),
              c.shouldRefuse(),
              c.n(),
              c.refused(),
              (double) c.refused() / c.n(),
              bounds.low(i),
              bounds.high(i),
              bounds.interval(i),
              runId));
    }
    return rows;
  }

  /** Per count, its bounds {low, high} and their interval method. */
  private record Bounds(double[][] values, String[] intervals) {
    double low(int i) {
      return values[i][0];
    }

    double high(int i) {
      return values[i][1];
    }

    String interval(int i) {
      return intervals[i];
    }
  }

  /**
   * Bootstrap bounds for every rule but logit_bias, whose full bias grid (thousands of points)
   * would cost points × replicates counters per group; those rows keep Wilson bounds, as their
   * interval says.
   */
  private static Bounds bounds(
      SweepScores scores, List<PointCount> counts, List<SweepPoint> points, SweepConfig config) {
    double[][] bounds = new double[counts.size()][];
    String[] interval = new String[counts.size()];
    List<Bootstrap.Measure> measures = new ArrayList<>();
    List<Integer> measured = new ArrayList<>();
    for (int i = 0; i < counts.size(); i++) {
      PointCount c = counts.get(i);
      SweepPoint point = points.get(c.point());
      if (config.bootstrap() && point.rule() != Rule.LOGIT_BIAS) {
        String category = c.category();
        measures.add(
            new Bootstrap.Measure(
                point,
                c.temperature(),
                c.benchmark(),
                category.equals(Columns.ALL) ? null : category,
                c.shouldRefuse()));
        measured.add(i);
      } else {
        bounds[i] = RateInterval.wilson(c.n(), c.refused(), config.confidence());
        interval[i] = IntervalMethod.WILSON.id();
      }
    }
    if (!measures.isEmpty()) {
      double[][] b =
          Bootstrap.bounds(
              scores.rows(),
              scores.respondToken(),
              scores.refusalTokens(),
              measures,
              config.bootstrapReplicates(),
              config.bootstrapSeed(),
              config.confidence());
      for (int m = 0; m < b.length; m++) {
        bounds[measured.get(m)] = b[m];
        interval[measured.get(m)] = IntervalMethod.BOOTSTRAP.id();
      }
    }
    return new Bounds(bounds, interval);
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

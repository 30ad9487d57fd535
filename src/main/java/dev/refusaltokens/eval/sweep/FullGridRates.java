package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.config.IntervalMethod;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.CategoryCounts;
import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RateRow;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Every point of the full per-category grid as {@code rates} rows (rule {@value #RULE}, Wilson
 * bounds), per temperature, benchmark, category (and {@code ALL}) and should_refuse: generated in
 * Spark from the {@link GridCounts}, one slice of grid points per task, each task's rows built in
 * its memory.
 */
final class FullGridRates {

  /** The rule name of the full grid's rows in {@code rates}. */
  public static final String RULE = "threshold_grid";

  private FullGridRates() {}

  /** The full grid's rates rows ({@code run_id} included). */
  public static Dataset<Row> rates(
      SparkSession spark, GridCounts counts, SweepConfig config, String runId) {
    List<Slice> groups = new ArrayList<>();
    counts
        .byTemperature()
        .forEach(
            (temperature, c) -> {
              Map<GridCounts.Group, CategoryCounts> withAll = new LinkedHashMap<>(c.byGroup());
              for (GridCounts.Group g : c.byGroup().keySet()) {
                withAll.computeIfAbsent(
                    new GridCounts.Group(g.benchmark(), Columns.ALL, g.shouldRefuse()),
                    x -> c.pooled(g.shouldRefuse(), g.benchmark(), null, counts.newCounts()));
              }
              withAll.forEach(
                  (g, cc) -> groups.add(new Slice(temperature, g, cc.n(), cc.atLeast())));
            });
    long points = counts.gridPoints();
    // about 200,000 rows per task
    long slices = Math.max(1, points * Math.max(1, groups.size()) / 200_000);
    return spark
        .range(0, points, 1, (int) Math.min(Integer.MAX_VALUE, slices))
        .mapPartitions(
            new SliceRows(
                counts.refusalTokens(), counts.grid(), groups, config.confidence(), runId),
            Encoders.row(RateRow.SCHEMA));
  }

  /** The count table of one group, as {@code atLeast[token][grid index]}. */
  record Slice(double temperature, GridCounts.Group group, long n, long[][] atLeast)
      implements Serializable {}

  /** Executor-side: the rates rows of one slice of grid point numbers (last token fastest). */
  static final class SliceRows implements MapPartitionsFunction<Long, Row> {
    private final List<String> refusalTokens;
    private final List<Double> grid;
    private final List<Slice> groups;
    private final double confidence;
    private final String runId;

    SliceRows(
        List<String> refusalTokens,
        List<Double> grid,
        List<Slice> groups,
        double confidence,
        String runId) {
      this.refusalTokens = List.copyOf(refusalTokens);
      this.grid = List.copyOf(grid);
      this.groups = List.copyOf(groups);
      this.confidence = confidence;
      this.runId = runId;
    }

    @Override
    public Iterator<Row> call(Iterator<Long> pointNumbers) {
      List<Row> out = new ArrayList<>();
      int k = refusalTokens.size();
      int[] idx = new int[k];
      Map<String, Double> noBiases = Map.of();
      while (pointNumbers.hasNext()) {
        long p = pointNumbers.next();
        for (int c = k - 1; c >= 0; c--) {
          idx[c] = (int) (p % grid.size());
          p /= grid.size();
        }
        Map<String, Double> thresholds = GridCounts.thresholds(refusalTokens, grid, idx);
        for (Slice s : groups) {
          long refused = 0;
          for (int c = 0; c < k; c++) {
            refused += s.atLeast()[c][idx[c]];
          }
          double[] ci = RateInterval.wilson(s.n(), refused, confidence);
          out.add(
              new RateRow(
                      s.group().benchmark(),
                      RULE,
                      s.temperature(),
                      thresholds,
                      noBiases,
                      s.group().category(),
                      s.group().shouldRefuse(),
                      s.n(),
                      refused,
                      (double) refused / s.n(),
                      ci[0],
                      ci[1],
                      IntervalMethod.WILSON.id(),
                      runId)
                  .toRow());
        }
      }
      return out.iterator();
    }
  }
}

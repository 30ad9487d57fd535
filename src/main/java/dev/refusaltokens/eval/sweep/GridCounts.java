package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.sum;

import dev.refusaltokens.eval.decide.CategoryCounts;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.Frontier;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.ScoreRow;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/**
 * The count tables of the full per-category threshold grid (every refusal token thresholded, G^K
 * points): one Spark aggregation builds a {@link CategoryCounts} per temperature, benchmark,
 * category and should_refuse, from which every grid point is evaluated exactly without the prompts
 * — by {@link FrontierSearch}, {@link OperatingPointSearch} (on the driver) and {@link
 * FullGridRates} (in Spark).
 */
final class GridCounts {

  /** One group of prompts of one temperature. */
  record Group(String benchmark, String category, boolean shouldRefuse) implements Serializable {}

  /** The count tables of one temperature, by group. */
  record Counts(Map<Group, CategoryCounts> byGroup) {

    /**
     * Adds to {@code empty} the prompts of one should_refuse value, of a benchmark and a category
     * when not null.
     */
    CategoryCounts pooled(
        boolean shouldRefuse, String benchmark, String category, CategoryCounts empty) {
      byGroup.forEach(
          (g, c) -> {
            if (g.shouldRefuse() == shouldRefuse
                && (benchmark == null || benchmark.equals(g.benchmark()))
                && (category == null || category.equals(g.category()))) {
              empty.addAll(c);
            }
          });
      return empty;
    }

    TreeSet<String> values(boolean shouldRefuse, Function<Group, String> field) {
      TreeSet<String> out = new TreeSet<>();
      byGroup.keySet().stream()
          .filter(g -> g.shouldRefuse() == shouldRefuse)
          .map(field)
          .forEach(out::add);
      return out;
    }
  }

  private final List<String> refusalTokens;
  private final List<Double> grid;
  private final Map<Double, Counts> byTemperature;

  private GridCounts(
      List<String> refusalTokens, List<Double> grid, Map<Double, Counts> byTemperature) {
    this.refusalTokens = refusalTokens;
    this.grid = grid;
    this.byTemperature = byTemperature;
  }

  /** The count tables of {@code scores} over the threshold grid {@code grid}. */
  public static GridCounts count(SweepScores scores, List<Double> grid) {
    List<Double> values = List.copyOf(grid);
    List<GridCell> cells =
        scores
            .rows()
            .mapPartitions(
                new CountCells(scores.respondToken(), scores.refusalTokens(), values),
                Encoders.row(GridCell.SCHEMA))
            .groupBy(
                Columns.TEMPERATURE,
                Columns.BENCHMARK,
                Columns.CATEGORY,
                Columns.SHOULD_REFUSE,
                GridCell.TOKEN,
                GridCell.GRID_INDEX)
            .agg(sum(Columns.N).as(Columns.N))
            .collectAsList()
            .stream()
            .map(GridCell::fromRow)
            .toList();
    Map<Double, Counts> out = new TreeMap<>();
    for (GridCell cell : cells) {
      out.computeIfAbsent(
              cell.temperature(),
              t ->
                  new Counts(
                      new TreeMap<>(
                          Comparator.comparing(Group::benchmark)
                              .thenComparing(Group::category)
                              .thenComparing(Group::shouldRefuse))))
          .byGroup()
          .computeIfAbsent(
              new Group(cell.benchmark(), cell.category(), cell.shouldRefuse()),
              g -> new CategoryCounts(scores.refusalTokens().size(), values))
          .addCell(cell.token(), cell.gridIndex(), cell.n());
    }
    return new GridCounts(scores.refusalTokens(), values, out);
  }

  /** Temperature → count tables, in temperature order. */
  Map<Double, Counts> byTemperature() {
    return byTemperature;
  }

  List<String> refusalTokens() {
    return refusalTokens;
  }

  List<Double> grid() {
    return grid;
  }

  /** G^K, or −1 when it exceeds a long. */
  long gridPoints() {
    return Frontier.gridPoints(grid.size(), refusalTokens.size());
  }

  /** An empty count table of this grid, to pool groups into. */
  CategoryCounts newCounts() {
    return new CategoryCounts(refusalTokens.size(), grid);
  }

  /** Token → τ of a grid point, in the run's token order. */
  Map<String, Double> thresholds(int[] gridIndex) {
    return thresholds(refusalTokens, grid, gridIndex);
  }

  static Map<String, Double> thresholds(
      List<String> refusalTokens, List<Double> grid, int[] gridIndex) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int c = 0; c < refusalTokens.size(); c++) {
      m.put(refusalTokens.get(c), grid.get(gridIndex[c]));
    }
    return m;
  }

  /**
   * Executor-side: each prompt's top refusal token and largest passing grid index, counted per
   * group.
   */
  static final class CountCells implements MapPartitionsFunction<Row, Row> {
    private final String respondToken;
    private final List<String> refusalTokens;
    private final List<Double> grid;

    CountCells(String respondToken, List<String> refusalTokens, List<Double> grid) {
      this.respondToken = respondToken;
      this.refusalTokens = List.copyOf(refusalTokens);
      this.grid = List.copyOf(grid);
    }

    private record Key(
        double temperature, String benchmark, String category, boolean shouldRefuse) {}

    @Override
    public Iterator<Row> call(Iterator<Row> scores) {
      Map<Key, CategoryCounts> counts = new HashMap<>();
      while (scores.hasNext()) {
        ScoreRow row = ScoreRow.fromRow(scores.next());
        FirstTokenStats s = row.stats(respondToken, refusalTokens);
        Key key =
            new Key(row.temperature(), row.benchmark(), row.groupCategory(), row.shouldRefuse());
        counts.computeIfAbsent(key, k -> new CategoryCounts(s.refusalTokenCount(), grid)).add(s);
      }
      List<Row> out = new ArrayList<>();
      counts.forEach(
          (k, c) ->
              c.forEachCell(
                  (token, index, n) ->
                      out.add(
                          new GridCell(
                                  k.temperature(),
                                  k.benchmark(),
                                  k.category(),
                                  k.shouldRefuse(),
                                  token,
                                  index,
                                  n)
                              .toRow())));
      return out.iterator();
    }
  }
}

package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.sum;

import dev.refusaltokens.eval.config.OperatingPointTarget;
import dev.refusaltokens.eval.decide.CategoryCounts;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.Frontier;
import dev.refusaltokens.eval.decide.OperatingPoints;
import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.table.Tables;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The full per-category threshold grid (every refusal token thresholded, G^K points): one Spark
 * aggregation builds {@link CategoryCounts} per temperature — the should-refuse prompts by their
 * category, the should-answer prompts pooled — and every grid point is then evaluated exactly on the
 * driver, without the prompts, for the {@code frontier} and {@code operating_points} tables.
 */
public final class GridStage {

  static final StructType CELLS = new StructType()
      .add(Tables.TEMPERATURE, DataTypes.DoubleType, false)
      .add(Tables.SHOULD_REFUSE, DataTypes.BooleanType, false)
      .add(Tables.CATEGORY, DataTypes.StringType, false)
      .add("token", DataTypes.IntegerType, false)
      .add("grid_index", DataTypes.IntegerType, false)
      .add(Tables.N, DataTypes.LongType, false);

  /** The counts of one temperature. */
  public record Counts(Map<String, CategoryCounts> refuseByCategory, CategoryCounts refuse,
      CategoryCounts answer) {}

  private final List<String> refusalTokens;
  private final List<Double> grid;
  private final double confidence;
  private final String runId;

  public GridStage(List<String> refusalTokens, List<Double> grid, double confidence, String runId) {
    this.refusalTokens = List.copyOf(refusalTokens);
    this.grid = List.copyOf(grid);
    this.confidence = confidence;
    this.runId = runId;
  }

  /** Temperature → counts; temperatures lacking should-refuse or should-answer prompts are left out. */
  public Map<Double, Counts> counts(Dataset<Row> scores, String respondToken) {
    List<Row> cells = scores
        .mapPartitions(new CountCells(respondToken, refusalTokens, grid), Encoders.row(CELLS))
        .groupBy(Tables.TEMPERATURE, Tables.SHOULD_REFUSE, Tables.CATEGORY, "token", "grid_index")
        .agg(sum(Tables.N).as(Tables.N))
        .collectAsList();
    Map<Double, Counts> out = new TreeMap<>();
    for (Row r : cells) {
      Counts c = out.computeIfAbsent(r.getDouble(0), t -> new Counts(new TreeMap<>(), newCounts(), newCounts()));
      if (r.getBoolean(1)) {
        c.refuseByCategory().computeIfAbsent(r.getString(2), x -> newCounts()).addCell(r.getInt(3), r.getInt(4),
            r.getLong(5));
        c.refuse().addCell(r.getInt(3), r.getInt(4), r.getLong(5));
      } else {
        c.answer().addCell(r.getInt(3), r.getInt(4), r.getLong(5));
      }
    }
    out.values().removeIf(c -> c.refuse().n() == 0 || c.answer().n() == 0);
    return out;
  }

  /** {@link Tables#FRONTIER_SCHEMA} rows. */
  public List<Row> frontier(Map<Double, Counts> counts, long maxPoints) {
    List<Row> rows = new ArrayList<>();
    counts.forEach((temperature, c) -> {
      List<Frontier.Point> points = Frontier.compute(c.refuse(), c.answer(), maxPoints);
      for (int i = 0; i < points.size(); i++) {
        Frontier.Point p = points.get(i);
        double[] refusalCi = RateInterval.wilson(c.refuse().n(), p.refused(), confidence);
        double[] falseCi = RateInterval.wilson(c.answer().n(), p.falseRefused(), confidence);
        rows.add(RowFactory.create(temperature, i, thresholds(p.gridIndex()), c.refuse().n(), p.refused(),
            (double) p.refused() / c.refuse().n(), refusalCi[0], refusalCi[1], c.answer().n(), p.falseRefused(),
            (double) p.falseRefused() / c.answer().n(), falseCi[0], falseCi[1], runId));
      }
    });
    return rows;
  }

  /** {@link Tables#OPERATING_POINTS_SCHEMA} rows: one per target and temperature. */
  public List<Row> operatingPoints(Map<Double, Counts> counts, List<OperatingPointTarget> targets,
      long maxPoints) {
    List<Row> rows = new ArrayList<>();
    counts.forEach((temperature, c) -> {
      for (OperatingPointTarget target : targets) {
        Map<String, Double> wanted = target.targetsFor(c.refuseByCategory().keySet());
        OperatingPoints.Result r;
        try {
          r = OperatingPoints.search(c.refuseByCategory(), c.answer(), wanted, maxPoints);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("operating_points[" + target.name() + "]: " + e.getMessage(), e);
        }
        double[] refusalCi = RateInterval.wilson(c.refuse().n(), r.refused(), confidence);
        double[] falseCi = RateInterval.wilson(c.answer().n(), r.falseRefused(), confidence);
        rows.add(RowFactory.create(target.name(), temperature, r.feasible(), r.shortfall(),
            thresholds(r.gridIndex()), CollectionConverters.asScala(wanted),
            CollectionConverters.asScala(r.achieved()), c.refuse().n(), r.refused(),
            (double) r.refused() / c.refuse().n(), refusalCi[0], refusalCi[1], c.answer().n(), r.falseRefused(),
            (double) r.falseRefused() / c.answer().n(), falseCi[0], falseCi[1], runId));
      }
    });
    return rows;
  }

  private Object thresholds(int[] gridIndex) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int c = 0; c < refusalTokens.size(); c++) {
      m.put(refusalTokens.get(c), grid.get(gridIndex[c]));
    }
    return CollectionConverters.asScala(m);
  }

  private CategoryCounts newCounts() {
    return new CategoryCounts(refusalTokens.size(), grid);
  }

  /** Executor-side: each prompt's top refusal token and largest passing grid index, counted per group. */
  static final class CountCells implements MapPartitionsFunction<Row, Row> {
    private final ScoresRowReader stats;
    private final List<Double> grid;

    CountCells(String respondToken, List<String> refusalTokens, List<Double> grid) {
      this.stats = new ScoresRowReader(respondToken, refusalTokens);
      this.grid = List.copyOf(grid);
    }

    private record Group(double temperature, boolean shouldRefuse, String category) {}

    @Override
    public Iterator<Row> call(Iterator<Row> scores) {
      Map<Group, CategoryCounts> counts = new HashMap<>();
      while (scores.hasNext()) {
        Row row = scores.next();
        FirstTokenStats s = stats.stats(row);
        Group group = new Group(row.getDouble(row.fieldIndex(Tables.TEMPERATURE)),
            row.getBoolean(row.fieldIndex(Tables.SHOULD_REFUSE)),
            ScoresRowReader.category(row));
        counts.computeIfAbsent(group, k -> new CategoryCounts(s.refusalTokenCount(), grid)).add(s);
      }
      List<Row> out = new ArrayList<>();
      counts.forEach((g, c) -> c.forEachCell((token, index, n) ->
          out.add(RowFactory.create(g.temperature(), g.shouldRefuse(), g.category(), token, index, n))));
      return out.iterator();
    }
  }
}

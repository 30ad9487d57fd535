package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.sum;

import dev.refusaltokens.eval.decide.CategoryCounts;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.Frontier;
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
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The {@code frontier} table: the Pareto frontier of the full per-category threshold grid (every refusal
 * token thresholded, G^K points), refusal rate on the should-refuse prompts against false-refusal rate on
 * the should-answer prompts, pooled over benchmarks, per temperature. One Spark aggregation builds the
 * {@link CategoryCounts}; the grid is then evaluated exactly on the driver, without the prompts.
 */
public final class FrontierStage {

  private static final Logger LOG = LoggerFactory.getLogger(FrontierStage.class);

  static final StructType CELLS = new StructType()
      .add(Tables.TEMPERATURE, DataTypes.DoubleType, false)
      .add(Tables.SHOULD_REFUSE, DataTypes.BooleanType, false)
      .add("token", DataTypes.IntegerType, false)
      .add("grid_index", DataTypes.IntegerType, false)
      .add(Tables.N, DataTypes.LongType, false);

  private FrontierStage() {}

  /** {@link Tables#FRONTIER_SCHEMA} rows of one run (empty when a temperature lacks either set). */
  public static Dataset<Row> frontier(SparkSession spark, Dataset<Row> scores, String respondToken,
      List<String> refusalTokens, List<Double> grid, long maxPoints, double confidence, String runId) {
    List<Row> cells = scores
        .mapPartitions(new CountCells(respondToken, refusalTokens, grid), Encoders.row(CELLS))
        .groupBy(Tables.TEMPERATURE, Tables.SHOULD_REFUSE, "token", "grid_index")
        .agg(sum(Tables.N).as(Tables.N))
        .collectAsList();
    Map<Double, CategoryCounts[]> byTemperature = new TreeMap<>();
    for (Row r : cells) {
      CategoryCounts[] pair = byTemperature.computeIfAbsent(r.getDouble(0), t -> new CategoryCounts[] {
          new CategoryCounts(refusalTokens.size(), grid), new CategoryCounts(refusalTokens.size(), grid)});
      pair[r.getBoolean(1) ? 0 : 1].addCell(r.getInt(2), r.getInt(3), r.getLong(4));
    }
    List<Row> rows = new ArrayList<>();
    byTemperature.forEach((temperature, pair) -> {
      if (pair[0].n() == 0 || pair[1].n() == 0) {
        LOG.info("No frontier at T={}: it needs both should-refuse and should-answer prompts", temperature);
        return;
      }
      List<Frontier.Point> points = Frontier.compute(pair[0], pair[1], maxPoints);
      for (int i = 0; i < points.size(); i++) {
        Frontier.Point p = points.get(i);
        Map<String, Double> thresholds = new LinkedHashMap<>();
        for (int c = 0; c < refusalTokens.size(); c++) {
          thresholds.put(refusalTokens.get(c), pair[0].gridValue(p.gridIndex()[c]));
        }
        double[] refusalCi = RateInterval.wilson(pair[0].n(), p.refused(), confidence);
        double[] falseCi = RateInterval.wilson(pair[1].n(), p.falseRefused(), confidence);
        rows.add(RowFactory.create(temperature, i, CollectionConverters.asScala(thresholds), pair[0].n(),
            p.refused(), (double) p.refused() / pair[0].n(), refusalCi[0], refusalCi[1], pair[1].n(),
            p.falseRefused(), (double) p.falseRefused() / pair[1].n(), falseCi[0], falseCi[1], runId));
      }
    });
    return spark.createDataFrame(rows, Tables.FRONTIER_SCHEMA);
  }

  /** Executor-side: each prompt's top refusal token and largest passing grid index, counted. */
  static final class CountCells implements MapPartitionsFunction<Row, Row> {
    private final DecidePartition stats;
    private final List<Double> grid;

    CountCells(String respondToken, List<String> refusalTokens, List<Double> grid) {
      this.stats = new DecidePartition(respondToken, refusalTokens, List.of());
      this.grid = List.copyOf(grid);
    }

    @Override
    public Iterator<Row> call(Iterator<Row> scores) {
      Map<String, CategoryCounts> counts = new HashMap<>();
      while (scores.hasNext()) {
        Row row = scores.next();
        FirstTokenStats s = stats.stats(row);
        String key = row.getDouble(row.fieldIndex(Tables.TEMPERATURE)) + "/"
            + row.getBoolean(row.fieldIndex(Tables.SHOULD_REFUSE));
        counts.computeIfAbsent(key, k -> new CategoryCounts(s.refusalTokenCount(), grid)).add(s);
      }
      List<Row> out = new ArrayList<>();
      counts.forEach((key, c) -> {
        String[] parts = key.split("/");
        double temperature = Double.parseDouble(parts[0]);
        boolean shouldRefuse = Boolean.parseBoolean(parts[1]);
        c.forEachCell((token, g, n) -> out.add(RowFactory.create(temperature, shouldRefuse, token, g, n)));
      });
      return out.iterator();
    }
  }
}

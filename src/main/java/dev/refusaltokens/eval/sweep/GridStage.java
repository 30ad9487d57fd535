package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.sum;

import dev.refusaltokens.eval.config.FrontierPair;
import dev.refusaltokens.eval.config.IntervalMethod;
import dev.refusaltokens.eval.config.OperatingPointTarget;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.CategoryCounts;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.Frontier;
import dev.refusaltokens.eval.decide.OperatingPoints;
import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.Tables;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
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
 * aggregation builds {@link CategoryCounts} per temperature, benchmark, category and should_refuse, and
 * every grid point is then evaluated exactly from those small tables, without the prompts, for the
 * {@code frontier} and {@code operating_points} tables (on the driver) and for the optional full grid in
 * {@code rates} (in Spark, one slice of the grid per task).
 */
public final class GridStage {

  static final StructType CELLS = new StructType()
      .add(Columns.TEMPERATURE, DataTypes.DoubleType, false)
      .add(Columns.BENCHMARK, DataTypes.StringType, false)
      .add(Columns.CATEGORY, DataTypes.StringType, false)
      .add(Columns.SHOULD_REFUSE, DataTypes.BooleanType, false)
      .add("token", DataTypes.IntegerType, false)
      .add("grid_index", DataTypes.IntegerType, false)
      .add(Columns.N, DataTypes.LongType, false);

  /** The rule name of the full grid's rows in {@code rates}. */
  public static final String FULL_GRID_RULE = "threshold_grid";

  /** One group of prompts of one temperature. */
  public record Group(String benchmark, String category, boolean shouldRefuse) implements java.io.Serializable {}

  /** The count tables of one temperature, by group. */
  public record Counts(Map<Group, CategoryCounts> byGroup) {

    /** Prompts of one should_refuse value, restricted to a benchmark and a category when not null. */
    CategoryCounts pooled(boolean shouldRefuse, String benchmark, String category, CategoryCounts empty) {
      byGroup.forEach((g, c) -> {
        if (g.shouldRefuse() == shouldRefuse && (benchmark == null || benchmark.equals(g.benchmark()))
            && (category == null || category.equals(g.category()))) {
          empty.addAll(c);
        }
      });
      return empty;
    }

    TreeSet<String> values(boolean shouldRefuse, java.util.function.Function<Group, String> field) {
      TreeSet<String> out = new TreeSet<>();
      byGroup.keySet().stream().filter(g -> g.shouldRefuse() == shouldRefuse).map(field).forEach(out::add);
      return out;
    }
  }

  /**
   * A rate pair before its bounds: refusals among should-refuse prompts (benchmark and category; null =
   * any) and false refusals among should-answer prompts, at one grid point.
   */
  private record Pair(double temperature, int[] gridIndex, String refusalBenchmark, String refusalCategory,
      CategoryCounts refuse, String answerBenchmark, String answerCategory, CategoryCounts answer) {

    long refused() {
      return refuse.refused(gridIndex);
    }

    long falseRefused() {
      return answer.refused(gridIndex);
    }
  }

  private final List<String> refusalTokens;
  private final List<Double> grid;
  private final SweepConfig config;
  private final String runId;

  public GridStage(List<String> refusalTokens, SweepConfig config, String runId) {
    this.refusalTokens = List.copyOf(refusalTokens);
    this.grid = config.grid().values();
    this.config = config;
    this.runId = runId;
  }

  /** Temperature → counts. */
  public Map<Double, Counts> counts(Dataset<Row> scores, String respondToken) {
    List<Row> cells = scores
        .mapPartitions(new CountCells(respondToken, refusalTokens, grid), Encoders.row(CELLS))
        .groupBy(Columns.TEMPERATURE, Columns.BENCHMARK, Columns.CATEGORY, Columns.SHOULD_REFUSE, "token",
            "grid_index")
        .agg(sum(Columns.N).as(Columns.N))
        .collectAsList();
    Map<Double, Counts> out = new TreeMap<>();
    for (Row r : cells) {
      out.computeIfAbsent(r.getDouble(0), t -> new Counts(new TreeMap<>(
              java.util.Comparator.comparing(Group::benchmark).thenComparing(Group::category)
                  .thenComparing(Group::shouldRefuse))))
          .byGroup().computeIfAbsent(new Group(r.getString(1), r.getString(2), r.getBoolean(3)), g -> newCounts())
          .addCell(r.getInt(4), r.getInt(5), r.getLong(6));
    }
    return out;
  }

  /**
   * {@link Tables#FRONTIER_SCHEMA} rows, per temperature and scope: {@code all} (every should-refuse
   * against every should-answer prompt), {@code category} (one category's should-refuse prompts against
   * the should-answer prompts of the same category, or all of them when it has none), {@code benchmark}
   * (within a benchmark holding both kinds) and {@code pair} (configured benchmark pairs).
   */
  public List<Row> frontier(Dataset<Row> scores, String respondToken, Map<Double, Counts> counts,
      long maxPoints) {
    List<Pair> pairs = new ArrayList<>();
    List<String> scopes = new ArrayList<>();
    List<Integer> pointNumbers = new ArrayList<>();
    counts.forEach((temperature, c) -> {
      List<Pair> scopePairs = new ArrayList<>();
      List<String> scopeNames = new ArrayList<>();
      scopePairs.add(pair(temperature, c, null, null, null, null));
      scopeNames.add("all");
      for (String category : c.values(true, Group::category)) {
        boolean answered = c.values(false, Group::category).contains(category);
        scopePairs.add(pair(temperature, c, null, category, null, answered ? category : null));
        scopeNames.add("category");
      }
      for (String benchmark : c.values(true, Group::benchmark)) {
        if (c.values(false, Group::benchmark).contains(benchmark)) {
          scopePairs.add(pair(temperature, c, benchmark, null, benchmark, null));
          scopeNames.add("benchmark");
        }
      }
      for (FrontierPair fp : benchmarkPairs(c)) {
        scopePairs.add(pair(temperature, c, fp.refusal(), null, fp.answer(), null));
        scopeNames.add("pair");
      }
      for (int s = 0; s < scopePairs.size(); s++) {
        Pair scope = scopePairs.get(s);
        if (scope.refuse().n() == 0 || scope.answer().n() == 0) {
          continue;
        }
        List<Frontier.Point> points = Frontier.compute(scope.refuse(), scope.answer(), maxPoints);
        for (int i = 0; i < points.size(); i++) {
          pairs.add(new Pair(temperature, points.get(i).gridIndex(), scope.refusalBenchmark(),
              scope.refusalCategory(), scope.refuse(), scope.answerBenchmark(), scope.answerCategory(),
              scope.answer()));
          scopes.add(scopeNames.get(s));
          pointNumbers.add(i);
        }
      }
    });
    double[][] bounds = bounds(scores, respondToken, pairs);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i++) {
      Pair p = pairs.get(i);
      List<Object> values = new ArrayList<>(List.of(p.temperature(), scopes.get(i), orAll(p.refusalBenchmark()),
          orAll(p.answerBenchmark()), orAll(p.refusalCategory()), orAll(p.answerCategory()), pointNumbers.get(i),
          thresholds(p.gridIndex())));
      values.addAll(ratePair(p, bounds[i]));
      rows.add(RowFactory.create(values.toArray()));
    }
    return rows;
  }

  /** {@link Tables#OPERATING_POINTS_SCHEMA} rows: one per target and temperature. */
  public List<Row> operatingPoints(Dataset<Row> scores, String respondToken, Map<Double, Counts> counts,
      List<OperatingPointTarget> targets, long maxPoints) {
    List<Pair> pairs = new ArrayList<>();
    List<List<Object>> heads = new ArrayList<>();
    counts.forEach((temperature, c) -> {
      Map<String, CategoryCounts> refuseByCategory = new TreeMap<>();
      for (String category : c.values(true, Group::category)) {
        refuseByCategory.put(category, c.pooled(true, null, category, newCounts()));
      }
      CategoryCounts answer = c.pooled(false, null, null, newCounts());
      if (refuseByCategory.isEmpty() || answer.n() == 0) {
        return;
      }
      for (OperatingPointTarget target : targets) {
        Map<String, Double> wanted = target.targetsFor(refuseByCategory.keySet());
        OperatingPoints.Result r;
        try {
          r = OperatingPoints.search(refuseByCategory, answer, wanted, maxPoints);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(OperatingPointTarget.KEY + "[" + target.name() + "]: " + e.getMessage(),
              e);
        }
        pairs.add(new Pair(temperature, r.gridIndex(), null, null, c.pooled(true, null, null, newCounts()), null,
            null, answer));
        heads.add(List.of(target.name(), temperature, r.feasible(), r.shortfall(), thresholds(r.gridIndex()),
            CollectionConverters.asScala(wanted), CollectionConverters.asScala(r.achieved())));
      }
    });
    double[][] bounds = bounds(scores, respondToken, pairs);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i++) {
      List<Object> values = new ArrayList<>(heads.get(i));
      values.addAll(ratePair(pairs.get(i), bounds[i]));
      rows.add(RowFactory.create(values.toArray()));
    }
    return rows;
  }

  /**
   * Every point of the full grid as {@link Tables#RATES_SCHEMA} rows (rule {@value #FULL_GRID_RULE},
   * Wilson bounds), per temperature, benchmark, category (and {@code ALL}) and should_refuse: generated in
   * Spark from the count tables, one slice of grid points per task.
   */
  public Dataset<Row> fullGridRates(org.apache.spark.sql.SparkSession spark, Map<Double, Counts> counts) {
    List<FullGridRows.Slice> groups = new ArrayList<>();
    counts.forEach((temperature, c) -> {
      Map<Group, CategoryCounts> withAll = new LinkedHashMap<>(c.byGroup());
      for (Group g : c.byGroup().keySet()) {
        withAll.computeIfAbsent(new Group(g.benchmark(), Columns.ALL, g.shouldRefuse()),
            x -> c.pooled(g.shouldRefuse(), g.benchmark(), null, newCounts()));
      }
      withAll.forEach((g, cc) -> groups.add(new FullGridRows.Slice(temperature, g, cc.n(), cc.atLeast())));
    });
    long points = Frontier.gridPoints(grid.size(), refusalTokens.size());
    // about 200,000 rows per task, each task's rows built in its memory
    long slices = Math.max(1, points * Math.max(1, groups.size()) / 200_000);
    return spark.range(0, points, 1, (int) Math.min(Integer.MAX_VALUE, slices))
        .mapPartitions(new FullGridRows(refusalTokens, grid, groups, config.confidence(), runId),
            Encoders.row(Tables.RATES_SCHEMA));
  }

  /** The benchmark pairs of the frontier: configured, or every should-refuse × other should-answer one. */
  private List<FrontierPair> benchmarkPairs(Counts c) {
    if (config.frontierPairs() != null) {
      return config.frontierPairs();
    }
    List<FrontierPair> pairs = new ArrayList<>();
    for (String refusal : c.values(true, Group::benchmark)) {
      for (String answer : c.values(false, Group::benchmark)) {
        if (!refusal.equals(answer)) {
          pairs.add(new FrontierPair(refusal, answer));
        }
      }
    }
    return pairs;
  }

  private Pair pair(double temperature, Counts c, String refusalBenchmark, String refusalCategory,
      String answerBenchmark, String answerCategory) {
    return new Pair(temperature, null, refusalBenchmark, refusalCategory,
        c.pooled(true, refusalBenchmark, refusalCategory, newCounts()), answerBenchmark, answerCategory,
        c.pooled(false, answerBenchmark, answerCategory, newCounts()));
  }

  /** {refusal low, refusal high, false-refusal low, false-refusal high} per pair. */
  private double[][] bounds(Dataset<Row> scores, String respondToken, List<Pair> pairs) {
    double[][] out = new double[pairs.size()][];
    if (!config.bootstrap()) {
      for (int i = 0; i < out.length; i++) {
        Pair p = pairs.get(i);
        double[] r = RateInterval.wilson(p.refuse().n(), p.refused(), config.confidence());
        double[] f = RateInterval.wilson(p.answer().n(), p.falseRefused(), config.confidence());
        out[i] = new double[] {r[0], r[1], f[0], f[1]};
      }
      return out;
    }
    List<Bootstrap.Measure> measures = new ArrayList<>();
    for (Pair p : pairs) {
      SweepPoint point = new SweepPoint(Rule.THRESHOLD, new CategoryCounts(refusalTokens.size(), grid)
          .setting(p.gridIndex()));
      measures.add(new Bootstrap.Measure(point, p.temperature(), p.refusalBenchmark(), p.refusalCategory(), true));
      measures.add(new Bootstrap.Measure(point, p.temperature(), p.answerBenchmark(), p.answerCategory(), false));
    }
    double[][] b = Bootstrap.bounds(scores, respondToken, refusalTokens, measures, config.bootstrapReplicates(),
        config.bootstrapSeed(), config.confidence());
    for (int i = 0; i < out.length; i++) {
      out[i] = new double[] {b[2 * i][0], b[2 * i][1], b[2 * i + 1][0], b[2 * i + 1][1]};
    }
    return out;
  }

  /** The rate-pair columns of {@link Tables#FRONTIER_SCHEMA} and {@link Tables#OPERATING_POINTS_SCHEMA}. */
  private List<Object> ratePair(Pair p, double[] bounds) {
    long nRefuse = p.refuse().n();
    long nAnswer = p.answer().n();
    return List.of(nRefuse, p.refused(), (double) p.refused() / nRefuse, bounds[0], bounds[1], nAnswer,
        p.falseRefused(), (double) p.falseRefused() / nAnswer, bounds[2], bounds[3], config.interval().id(), runId);
  }

  private static String orAll(String value) {
    return value == null ? Columns.ALL : value;
  }

  private Object thresholds(int[] gridIndex) {
    return thresholds(refusalTokens, grid, gridIndex);
  }

  static Object thresholds(List<String> refusalTokens, List<Double> grid, int[] gridIndex) {
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

    private record Key(double temperature, String benchmark, String category, boolean shouldRefuse) {}

    @Override
    public Iterator<Row> call(Iterator<Row> scores) {
      Map<Key, CategoryCounts> counts = new HashMap<>();
      while (scores.hasNext()) {
        Row row = scores.next();
        FirstTokenStats s = stats.stats(row);
        Key key = new Key(row.getDouble(row.fieldIndex(Columns.TEMPERATURE)),
            row.getString(row.fieldIndex(Columns.BENCHMARK)), ScoresRowReader.category(row),
            row.getBoolean(row.fieldIndex(Columns.SHOULD_REFUSE)));
        counts.computeIfAbsent(key, k -> new CategoryCounts(s.refusalTokenCount(), grid)).add(s);
      }
      List<Row> out = new ArrayList<>();
      counts.forEach((k, c) -> c.forEachCell((token, index, n) -> out.add(RowFactory.create(k.temperature(),
          k.benchmark(), k.category(), k.shouldRefuse(), token, index, n))));
      return out.iterator();
    }
  }

  /** Executor-side: the rates rows of one slice of grid point numbers (last token fastest). */
  static final class FullGridRows implements MapPartitionsFunction<Long, Row> {

    /** The count table of one group, as {@code atLeast[token][grid index]}. */
    record Slice(double temperature, Group group, long n, long[][] atLeast) implements java.io.Serializable {}

    private final List<String> refusalTokens;
    private final List<Double> grid;
    private final List<Slice> groups;
    private final double confidence;
    private final String runId;

    FullGridRows(List<String> refusalTokens, List<Double> grid, List<Slice> groups, double confidence,
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
      Object empty = CollectionConverters.asScala(Map.<String, Double>of());
      while (pointNumbers.hasNext()) {
        long p = pointNumbers.next();
        for (int c = k - 1; c >= 0; c--) {
          idx[c] = (int) (p % grid.size());
          p /= grid.size();
        }
        Object thresholds = GridStage.thresholds(refusalTokens, grid, idx);
        for (Slice s : groups) {
          long refused = 0;
          for (int c = 0; c < k; c++) {
            refused += s.atLeast()[c][idx[c]];
          }
          double[] ci = RateInterval.wilson(s.n(), refused, confidence);
          out.add(RowFactory.create(s.group().benchmark(), FULL_GRID_RULE, s.temperature(), thresholds, empty,
              s.group().category(), s.group().shouldRefuse(), s.n(), refused, (double) refused / s.n(), ci[0],
              ci[1], IntervalMethod.WILSON.id(), runId));
        }
      }
      return out.iterator();
    }
  }
}

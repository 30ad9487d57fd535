package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sum;
import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.decide.Calibration;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.table.CalibrationRow;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.FirstTokenRow;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The one-pass calibration and first_tokens tables against the algorithm they replaced: every
 * prompt expanded into its four groups, then Spark's {@code sum(cast(x as decimal(38, 18)))} per
 * group and bin, and first tokens counted one by one. Equal to the last bit, whatever the
 * partitioning of the scores.
 */
class CalibrationTablesTest {

  private static final String RESPOND = "[respond]";
  private static final List<String> TOKENS = List.of("[a]", "[b]", "[c]");
  private final SparkSession spark = SparkTestSession.get();

  private static List<ScoreRow> randomScores(Random random, int n) {
    String[] benchmarks = {"x", "y", "ALL"}; // a benchmark literally named ALL, as the old code
    String[] categories = {"c1", "c2", null, "ALL"};
    List<ScoreRow> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Map<String, Double> logprobs = new LinkedHashMap<>();
      double[] raw = new double[TOKENS.size() + 2];
      double total = 0;
      for (int k = 0; k < raw.length; k++) {
        raw[k] = random.nextInt(10) == 0 ? 1e-12 : random.nextDouble();
        total += raw[k];
      }
      logprobs.put(RESPOND, Math.log(raw[0] / total));
      for (int k = 0; k < TOKENS.size(); k++) {
        logprobs.put(TOKENS.get(k), Math.log(raw[k + 1] / total));
      }
      rows.add(
          new ScoreRow(
              benchmarks[random.nextInt(benchmarks.length)],
              "p" + i,
              "text",
              "sha",
              random.nextBoolean(),
              categories[random.nextInt(categories.length)],
              null,
              random.nextInt(3) == 0 ? 0.7 : (random.nextBoolean() ? 0.0 : -0.0),
              5,
              logprobs,
              Math.log(raw[raw.length - 1] / total),
              "Sure",
              3L,
              List.of(),
              "run"));
    }
    return rows;
  }

  @Test
  void equalsTheExpandAndDecimalSumAlgorithmOnEveryPartitioning() {
    List<ScoreRow> scores = randomScores(new Random(16), 3_000);
    Dataset<Row> rows =
        spark.createDataFrame(scores.stream().map(ScoreRow::toRow).toList(), ScoreRow.SCHEMA);
    CalibrationTables.Result expected = reference(scores);
    assertThat(expected.calibration()).hasSizeGreaterThan(20);
    for (int partitions : new int[] {1, 3, 7}) {
      CalibrationTables.Result got =
          CalibrationTables.compute(
              new SweepScores(rows.repartition(partitions), RESPOND, TOKENS), "run");
      assertThat(got.calibration())
          .as("%d partitions", partitions)
          .isEqualTo(expected.calibration());
      assertThat(got.firstTokens())
          .as("%d partitions", partitions)
          .isEqualTo(expected.firstTokens());
    }
  }

  /** The replaced algorithm: expand, Spark's exact decimal sums per group and bin, then rows. */
  private CalibrationTables.Result reference(List<ScoreRow> scores) {
    StructType expanded =
        DataTypes.createStructType(
            List.of(
                DataTypes.createStructField("t", DataTypes.DoubleType, false),
                DataTypes.createStructField("b", DataTypes.StringType, false),
                DataTypes.createStructField("c", DataTypes.StringType, false),
                DataTypes.createStructField("bin", DataTypes.IntegerType, false),
                DataTypes.createStructField("y", DataTypes.IntegerType, false),
                DataTypes.createStructField("p", DataTypes.DoubleType, false),
                DataTypes.createStructField("se", DataTypes.DoubleType, false)));
    List<Row> out = new ArrayList<>();
    Map<List<Object>, Map<String, Long>> firsts = new TreeMap<>(CalibrationTablesTest::compareKeys);
    for (ScoreRow row : scores) {
      FirstTokenStats s = row.stats(RESPOND, TOKENS);
      double p = Math.min(1.0, Calibration.refusalProbability(s));
      int y = row.shouldRefuse() ? 1 : 0;
      String token =
          switch (s.greedyToken().kind()) {
            case RESPOND -> RESPOND;
            case REFUSAL -> TOKENS.get(s.greedyToken().refusalToken());
            case OTHER -> CalibrationTables.OTHER_TOKEN;
          };
      double t = row.temperature() + 0.0;
      for (String b : new String[] {row.benchmark(), Columns.ALL}) {
        for (String c : new String[] {row.groupCategory(), Columns.ALL}) {
          out.add(RowFactory.create(t, b, c, Calibration.bin(p), y, p, (p - y) * (p - y)));
          firsts
              .computeIfAbsent(List.of(t, b, c), k -> new TreeMap<>())
              .merge(token, 1L, Long::sum);
        }
      }
    }
    Map<List<Object>, Map<Integer, Calibration.Bin>> groups =
        new TreeMap<>(CalibrationTablesTest::compareKeys);
    for (Row r :
        spark
            .createDataFrame(out, expanded)
            .groupBy("t", "b", "c", "bin")
            .agg(count("*").as("n"), exact("p").as("sp"), sum("y").as("sy"), exact("se").as("sse"))
            .collectAsList()) {
      groups
          .computeIfAbsent(
              List.of(r.getDouble(0), r.getString(1), r.getString(2)), k -> new TreeMap<>())
          .put(
              r.getInt(3),
              new Calibration.Bin(r.getLong(4), r.getDouble(5), r.getLong(6), r.getDouble(7)));
    }
    List<CalibrationRow> calibration = new ArrayList<>();
    groups.forEach(
        (g, bins) -> {
          long n = 0;
          double sumP = 0;
          double sumY = 0;
          List<CalibrationRow.Bin> reliability = new ArrayList<>();
          for (Map.Entry<Integer, Calibration.Bin> e : bins.entrySet()) {
            Calibration.Bin b = e.getValue();
            n += b.n();
            sumP += b.sumP();
            sumY += b.sumY();
            reliability.add(
                new CalibrationRow.Bin(
                    e.getKey(),
                    e.getKey() / (double) Calibration.BINS,
                    (e.getKey() + 1) / (double) Calibration.BINS,
                    b.n(),
                    b.meanP(),
                    b.observed()));
          }
          calibration.add(
              new CalibrationRow(
                  (Double) g.get(0),
                  (String) g.get(1),
                  (String) g.get(2),
                  n,
                  sumY / n,
                  sumP / n,
                  Calibration.brier(bins.values()),
                  Calibration.ece(bins.values()),
                  reliability,
                  "run"));
        });
    List<FirstTokenRow> firstTokens = new ArrayList<>();
    firsts.forEach(
        (g, byToken) -> {
          long n = byToken.values().stream().mapToLong(Long::longValue).sum();
          byToken.forEach(
              (token, k) ->
                  firstTokens.add(
                      new FirstTokenRow(
                          (Double) g.get(0),
                          (String) g.get(1),
                          (String) g.get(2),
                          token,
                          k,
                          (double) k / n,
                          "run")));
        });
    return new CalibrationTables.Result(calibration, firstTokens);
  }

  private static org.apache.spark.sql.Column exact(String column) {
    return sum(col(column).cast(DataTypes.createDecimalType(38, 18))).cast(DataTypes.DoubleType);
  }

  /** temperature, then benchmark, then category: the tables' order. */
  private static int compareKeys(List<Object> a, List<Object> b) {
    int t = Double.compare((Double) a.get(0), (Double) b.get(0));
    if (t != 0) {
      return t;
    }
    int bench = ((String) a.get(1)).compareTo((String) b.get(1));
    return bench != 0 ? bench : ((String) a.get(2)).compareTo((String) b.get(2));
  }
}

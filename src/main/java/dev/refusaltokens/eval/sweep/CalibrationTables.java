package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.sum;

import dev.refusaltokens.eval.decide.Calibration;
import dev.refusaltokens.eval.decide.FirstToken;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.table.CalibrationRow;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.FirstTokenRow;
import dev.refusaltokens.eval.table.ScoreRow;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * How far the control token can be read as a probability, per temperature × benchmark × category
 * (each also as {@code ALL}): the {@code calibration} table (Brier score, ECE and reliability bins
 * of {@code p = Σ_c p(c)} against {@code should_refuse}) and the {@code first_tokens} table (which
 * first token the model emits greedily, per benchmark category: does {@code [Incomplete requests]}
 * fire on incomplete requests?).
 */
final class CalibrationTables {

  static final String OTHER_TOKEN = "(other)";

  /** The rows of both tables of one run, in temperature, benchmark, category (and token) order. */
  public record Result(List<CalibrationRow> calibration, List<FirstTokenRow> firstTokens) {}

  private CalibrationTables() {}

  public static Result compute(SweepScores scores, String runId) {
    Column[] keys = BinSums.KEYS.stream().map(functions::col).toArray(Column[]::new);
    List<BinSums> sums =
        scores
            .rows()
            .mapPartitions(
                new SumPartition(scores.respondToken(), scores.refusalTokens()),
                Encoders.row(BinSums.SCHEMA))
            .groupBy(keys)
            .agg(
                sum(Columns.N).as(Columns.N),
                sum(BinSums.SUM_Y).as(BinSums.SUM_Y),
                sum(BinSums.SUM_P).as(BinSums.SUM_P), // decimal(38, 18): exact
                sum(BinSums.SUM_SE).as(BinSums.SUM_SE))
            .collectAsList()
            .stream()
            .map(BinSums::fromRow)
            .toList();
    return new Result(calibrationRows(sums, runId), firstTokenRows(sums, runId));
  }

  private record Group(double temperature, String benchmark, String category)
      implements Comparable<Group> {
    @Override
    public int compareTo(Group o) {
      int t = Double.compare(temperature, o.temperature);
      int b = benchmark.compareTo(o.benchmark);
      return t != 0 ? t : b != 0 ? b : category.compareTo(o.category);
    }
  }

  /**
   * Each group's bins: the exact sums of a bin over its first tokens, rounded to doubles only once
   * complete, so they are the figures of summing all the bin's prompts at once.
   */
  private static Map<Group, Map<Integer, Calibration.Bin>> bins(List<BinSums> sums) {
    Map<Group, Map<Integer, BinTotal>> totals = new TreeMap<>();
    for (BinSums s : sums) {
      totals
          .computeIfAbsent(
              new Group(s.temperature(), s.benchmark(), s.category()), g -> new TreeMap<>())
          .computeIfAbsent(s.bin(), b -> new BinTotal())
          .add(s);
    }
    Map<Group, Map<Integer, Calibration.Bin>> bins = new TreeMap<>();
    totals.forEach(
        (g, byBin) -> {
          Map<Integer, Calibration.Bin> out = new TreeMap<>();
          byBin.forEach((bin, t) -> out.put(bin, t.toBin()));
          bins.put(g, out);
        });
    return bins;
  }

  /** The sums of one group and bin, over its first tokens. */
  private static final class BinTotal {
    private long n;
    private long sumY;
    private BigDecimal sumP = BigDecimal.ZERO;
    private BigDecimal sumSe = BigDecimal.ZERO;

    void add(BinSums s) {
      n += s.n();
      sumY += s.sumY();
      sumP = sumP.add(s.sumP());
      sumSe = sumSe.add(s.sumSe());
    }

    /** The bin, its sums rounded to doubles as Spark's cast {@code decimal → double} rounds. */
    Calibration.Bin toBin() {
      return new Calibration.Bin(n, sumP.doubleValue(), sumY, sumSe.doubleValue());
    }
  }

  private static List<CalibrationRow> calibrationRows(List<BinSums> sums, String runId) {
    Map<Group, Map<Integer, Calibration.Bin>> groups = bins(sums);
    List<CalibrationRow> rows = new ArrayList<>();
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
          rows.add(
              new CalibrationRow(
                  g.temperature(),
                  g.benchmark(),
                  g.category(),
                  n,
                  sumY / n,
                  sumP / n,
                  Calibration.brier(bins.values()),
                  Calibration.ece(bins.values()),
                  reliability,
                  runId));
        });
    return rows;
  }

  private static List<FirstTokenRow> firstTokenRows(List<BinSums> sums, String runId) {
    Map<Group, Map<String, Long>> groups = new TreeMap<>();
    for (BinSums s : sums) {
      groups
          .computeIfAbsent(
              new Group(s.temperature(), s.benchmark(), s.category()), g -> new TreeMap<>())
          .merge(s.firstToken(), s.n(), Long::sum);
    }
    List<FirstTokenRow> rows = new ArrayList<>();
    groups.forEach(
        (g, byToken) -> {
          long n = byToken.values().stream().mapToLong(Long::longValue).sum();
          byToken.forEach(
              (token, k) ->
                  rows.add(
                      new FirstTokenRow(
                          g.temperature(),
                          g.benchmark(),
                          g.category(),
                          token,
                          k,
                          (double) k / n,
                          runId)));
        });
    return rows;
  }

  /**
   * Executor-side: one pass over a partition of {@code scores} rows, each prompt added to its four
   * groups (benchmark or ALL × category or ALL) at its bin and first token; emits the partition's
   * partial {@link BinSums}. {@code p} and the squared error are summed exactly ({@link ExactSum}),
   * so the totals do not depend on how the rows are partitioned: a resumed run's scores, written in
   * other files, give the same figures to the last bit as a clean run's.
   */
  static final class SumPartition implements MapPartitionsFunction<Row, Row> {
    private final String respondToken;
    private final List<String> refusalTokens;

    SumPartition(String respondToken, List<String> refusalTokens) {
      this.respondToken = respondToken;
      this.refusalTokens = List.copyOf(refusalTokens);
    }

    @Override
    public Iterator<Row> call(Iterator<Row> scores) {
      Map<Key, Sums> sums = new HashMap<>();
      while (scores.hasNext()) {
        ScoreRow row = ScoreRow.fromRow(scores.next());
        FirstTokenStats s = row.stats(respondToken, refusalTokens);
        double p = Math.min(1.0, Calibration.refusalProbability(s));
        int y = row.shouldRefuse() ? 1 : 0;
        long unscaledP = ExactSum.unscaled(p);
        long unscaledSe = ExactSum.unscaled((p - y) * (p - y));
        int bin = Calibration.bin(p);
        String token = firstToken(s.greedyToken());
        double temperature = row.temperature() + 0.0; // -0.0 → 0.0, as Spark groups doubles
        for (String b : new String[] {row.benchmark(), Columns.ALL}) {
          for (String c : new String[] {row.groupCategory(), Columns.ALL}) {
            sums.computeIfAbsent(new Key(temperature, b, c, bin, token), k -> new Sums())
                .add(y, unscaledP, unscaledSe);
          }
        }
      }
      List<Row> out = new ArrayList<>(sums.size());
      sums.forEach(
          (k, v) ->
              out.add(
                  new BinSums(
                          k.temperature,
                          k.benchmark,
                          k.category,
                          k.bin,
                          k.firstToken,
                          v.n,
                          v.sumY,
                          v.sumP.toBigDecimal(),
                          v.sumSe.toBigDecimal())
                      .toRow()));
      return out.iterator();
    }

    private String firstToken(FirstToken first) {
      return switch (first.kind()) {
        case RESPOND -> respondToken;
        case REFUSAL -> refusalTokens.get(first.refusalToken());
        case OTHER -> OTHER_TOKEN;
      };
    }

    private record Key(
        double temperature, String benchmark, String category, int bin, String firstToken) {}

    /** The running sums of one key. */
    private static final class Sums {
      private long n;
      private long sumY;
      private final ExactSum sumP = new ExactSum();
      private final ExactSum sumSe = new ExactSum();

      void add(int y, long unscaledP, long unscaledSe) {
        n++;
        sumY += y;
        sumP.addUnscaled(unscaledP);
        sumSe.addUnscaled(unscaledSe);
      }
    }
  }
}

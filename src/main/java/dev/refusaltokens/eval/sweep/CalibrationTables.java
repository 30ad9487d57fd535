package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sum;

import dev.refusaltokens.eval.decide.Calibration;
import dev.refusaltokens.eval.decide.FirstToken;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.table.CalibrationRow;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.FirstTokenRow;
import dev.refusaltokens.eval.table.ScoreRow;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;

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
    Dataset<Row> prompts =
        scores
            .rows()
            .mapPartitions(
                new Expand(scores.respondToken(), scores.refusalTokens()),
                Encoders.row(CalibrationPrompt.SCHEMA))
            .cache();
    try {
      List<BinSums> bins =
          prompts
              .groupBy(
                  Columns.TEMPERATURE, Columns.BENCHMARK, Columns.CATEGORY, CalibrationRow.Bin.BIN)
              .agg(
                  count("*").as(Columns.N),
                  exactSum(CalibrationPrompt.P).as(BinSums.SUM_P),
                  sum(CalibrationPrompt.Y).as(BinSums.SUM_Y),
                  exactSum(CalibrationPrompt.SE).as(BinSums.SUM_SE))
              .collectAsList()
              .stream()
              .map(BinSums::fromRow)
              .toList();
      List<FirstTokenCount> firsts =
          prompts
              .groupBy(
                  Columns.TEMPERATURE,
                  Columns.BENCHMARK,
                  Columns.CATEGORY,
                  FirstTokenRow.FIRST_TOKEN)
              .agg(count("*").as(Columns.N))
              .collectAsList()
              .stream()
              .map(FirstTokenCount::fromRow)
              .toList();
      return new Result(calibrationRows(bins, runId), firstTokenRows(firsts, runId));
    } finally {
      prompts.unpersist();
    }
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

  private static List<CalibrationRow> calibrationRows(List<BinSums> binSums, String runId) {
    Map<Group, Map<Integer, Calibration.Bin>> groups = new TreeMap<>();
    for (BinSums s : binSums) {
      groups
          .computeIfAbsent(
              new Group(s.temperature(), s.benchmark(), s.category()), g -> new TreeMap<>())
          .put(s.bin(), s.sums());
    }
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

  private static List<FirstTokenRow> firstTokenRows(List<FirstTokenCount> counts, String runId) {
    Map<Group, Map<String, Long>> groups = new TreeMap<>();
    for (FirstTokenCount c : counts) {
      groups
          .computeIfAbsent(
              new Group(c.temperature(), c.benchmark(), c.category()), g -> new TreeMap<>())
          .put(c.firstToken(), c.n());
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
   * The sum of a column of values in [0, 1], taken in decimal arithmetic (18 decimals, exact and
   * associative), so it does not depend on how the rows are partitioned: a resumed run's scores,
   * written in other files, give the same figures to the last bit as a clean run's.
   */
  private static Column exactSum(String column) {
    return sum(col(column).cast(DataTypes.createDecimalType(38, 18))).cast(DataTypes.DoubleType);
  }

  /** Executor-side: each prompt in its four groups (benchmark or ALL × category or ALL). */
  static final class Expand implements MapPartitionsFunction<Row, Row> {
    private final String respondToken;
    private final List<String> refusalTokens;

    Expand(String respondToken, List<String> refusalTokens) {
      this.respondToken = respondToken;
      this.refusalTokens = List.copyOf(refusalTokens);
    }

    @Override
    public Iterator<Row> call(Iterator<Row> scores) {
      List<Row> out = new ArrayList<>();
      while (scores.hasNext()) {
        ScoreRow row = ScoreRow.fromRow(scores.next());
        FirstTokenStats s = row.stats(respondToken, refusalTokens);
        double p = Math.min(1.0, Calibration.refusalProbability(s));
        int y = row.shouldRefuse() ? 1 : 0;
        String token = firstToken(s.greedyToken());
        for (String b : new String[] {row.benchmark(), Columns.ALL}) {
          for (String c : new String[] {row.groupCategory(), Columns.ALL}) {
            out.add(
                new CalibrationPrompt(
                        row.temperature(), b, c, Calibration.bin(p), y, p, (p - y) * (p - y), token)
                    .toRow());
          }
        }
      }
      return out.iterator();
    }

    private String firstToken(FirstToken first) {
      return switch (first.kind()) {
        case RESPOND -> respondToken;
        case REFUSAL -> refusalTokens.get(first.refusalToken());
        case OTHER -> OTHER_TOKEN;
      };
    }
  }
}

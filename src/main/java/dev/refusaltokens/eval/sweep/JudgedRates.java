package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.sum;

import dev.refusaltokens.eval.config.IntervalMethod;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.SweepPlan;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.JudgedRateRow;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.functions;

/**
 * The judged sweep: {@link JudgedScores} → {@code judged_rates}, the points of the rate sweep
 * ({@link SweepPlan#points}, as {@link RateSweep}) × temperature × category × should_refuse ×
 * judge. Every point decides every prompt as in {@code rates}; the response after the decided first
 * token gives the judged outcome (a setting emits one first token per prompt, and the response
 * after it is deterministic). Partial counts per partition, summed by Spark, become rows on the
 * driver with their Wilson bounds.
 */
final class JudgedRates {

  private JudgedRates() {}

  /**
   * The judged rates of one run, in point, benchmark, temperature, category, should_refuse and
   * judge order.
   */
  public static List<JudgedRateRow> rates(JudgedScores judged, SweepConfig config, String runId) {
    List<String> refusalTokens = judged.refusalTokens();
    List<SweepPoint> points =
        SweepPlan.points(refusalTokens.size(), config.rules(), config.grid(), config.logitBias());
    Column[] sums = JudgedCount.COUNTS.stream().map(c -> sum(c).as(c)).toArray(Column[]::new);
    Column[] keys = JudgedCount.KEYS.stream().map(functions::col).toArray(Column[]::new);
    List<JudgedCount> counts =
        judged
            .rows()
            .mapPartitions(
                new JudgedPartition(judged.respondToken(), refusalTokens, points, judged.judges()),
                Encoders.row(JudgedCount.SCHEMA))
            .groupBy(keys)
            .agg(sums[0], Arrays.copyOfRange(sums, 1, sums.length))
            .orderBy(keys)
            .collectAsList()
            .stream()
            .map(JudgedCount::fromRow)
            .toList();
    List<Map<String, Double>> values = new ArrayList<>();
    for (SweepPoint p : points) {
      values.add(RateSweep.perToken(p, refusalTokens));
    }
    List<JudgedRateRow> rows = new ArrayList<>(counts.size());
    for (JudgedCount c : counts) {
      SweepPoint point = points.get(c.point());
      Map<String, Double> v = values.get(c.point());
      rows.add(row(c, point.rule(), v, config.confidence(), runId));
    }
    return rows;
  }

  private static JudgedRateRow row(
      JudgedCount c, Rule rule, Map<String, Double> values, double confidence, String runId) {
    long clear = c.judgedN() - c.judgedUnclear();
    double[] bounds = RateInterval.wilson(clear, c.judgedRefused(), confidence);
    return new JudgedRateRow(
        c.benchmark(),
        rule.id(),
        c.temperature(),
        rule == Rule.THRESHOLD ? values : Map.of(),
        rule == Rule.LOGIT_BIAS ? values : Map.of(),
        c.category(),
        c.shouldRefuse(),
        c.judge(),
        c.n(),
        c.refused(),
        (double) c.refused() / c.n(),
        c.judgedN(),
        c.judgedRefused(),
        c.judgedPartial(),
        c.judgedAnswered(),
        c.judgedUnclear(),
        clear == 0 ? null : (double) c.judgedRefused() / clear,
        clear == 0 ? null : bounds[0],
        clear == 0 ? null : bounds[1],
        IntervalMethod.WILSON.id(),
        c.tokenRefusedJudgedRefused(),
        c.tokenRefusedJudgedAnswered(),
        c.tokenAnsweredJudgedRefused(),
        c.tokenAnsweredJudgedAnswered(),
        runId);
  }
}

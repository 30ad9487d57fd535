package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.ScoreRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;

/**
 * Executor-side sweep of one partition of {@code scores} rows: every sweep point decides every
 * prompt (plain Java, no model), and the partition emits partial counts per benchmark × point ×
 * temperature × category (and {@code ALL}) × should_refuse, to be summed across partitions: {@link
 * PointCount} rows. Each group holds its prompt count once and a refused count per point, so a
 * prompt costs one decision per point and two array increments.
 */
final class DecidePartition implements MapPartitionsFunction<Row, Row> {

  private final String respondToken;
  private final List<String> refusalTokens;
  private final List<SweepPoint> points;

  DecidePartition(String respondToken, List<String> refusalTokens, List<SweepPoint> points) {
    this.respondToken = respondToken;
    this.refusalTokens = List.copyOf(refusalTokens);
    this.points = List.copyOf(points);
  }

  @Override
  public Iterator<Row> call(Iterator<Row> scores) {
    Map<Group, long[]> counts = new HashMap<>(); // [0]: prompts; [1 + p]: refused at point p
    while (scores.hasNext()) {
      ScoreRow row = ScoreRow.fromRow(scores.next());
      FirstTokenStats stats = row.stats(respondToken, refusalTokens);
      long[] own =
          counts.computeIfAbsent(
              new Group(
                  row.benchmark(), row.temperature(), row.groupCategory(), row.shouldRefuse()),
              g -> new long[1 + points.size()]);
      long[] all =
          counts.computeIfAbsent(
              new Group(row.benchmark(), row.temperature(), Columns.ALL, row.shouldRefuse()),
              g -> new long[1 + points.size()]);
      own[0]++;
      all[0]++;
      for (int p = 0; p < points.size(); p++) {
        if (points.get(p).decide(stats).isRefusal()) {
          own[1 + p]++;
          all[1 + p]++;
        }
      }
    }
    List<Row> out = new ArrayList<>(counts.size() * points.size());
    counts.forEach(
        (g, c) -> {
          for (int p = 0; p < points.size(); p++) {
            out.add(
                new PointCount(
                        g.benchmark, p, g.temperature, g.category, g.shouldRefuse, c[0], c[1 + p])
                    .toRow());
          }
        });
    return out.iterator();
  }

  private record Group(
      String benchmark, double temperature, String category, boolean shouldRefuse) {}
}

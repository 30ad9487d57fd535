package dev.refusaltokens.eval.sweep;

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
 * Executor-side sweep of one partition of {@code scores} rows: the refused count of every sweep
 * point (plain Java, no model), emitted as partial counts per benchmark × point × temperature ×
 * category (and {@code ALL}) × should_refuse, to be summed across partitions: {@link PointCount}
 * rows. Each category group's prompts go to one {@link PointCounter.Tally}, which counts every
 * point without deciding each prompt at each point (the separable threshold rule by sorted
 * probabilities per top token, the logit-bias grid by cells); a group {@code ALL} is the sum of its
 * category groups, so a prompt is added once.
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
    PointCounter counter = new PointCounter(refusalTokens.size(), points);
    Map<Group, PointCounter.Tally> tallies = new HashMap<>();
    while (scores.hasNext()) {
      ScoreRow row = ScoreRow.fromRow(scores.next());
      tallies
          .computeIfAbsent(
              new Group(
                  row.benchmark(), row.temperature(), row.groupCategory(), row.shouldRefuse()),
              g -> counter.tally())
          .add(row.stats(respondToken, refusalTokens));
    }
    // [0]: prompts; [1 + p]: refused at point p. A category named ALL adds to its ALL group twice,
    // as deciding each prompt into both of its groups did.
    Map<Group, long[]> counts = new HashMap<>();
    tallies.forEach(
        (g, t) -> {
          long[] refused = t.refused();
          add(counts, g, t.prompts(), refused);
          add(
              counts,
              new Group(g.benchmark, g.temperature, Columns.ALL, g.shouldRefuse),
              t.prompts(),
              refused);
        });
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

  private static void add(Map<Group, long[]> counts, Group g, long prompts, long[] refused) {
    long[] c = counts.computeIfAbsent(g, k -> new long[1 + refused.length]);
    c[0] += prompts;
    for (int p = 0; p < refused.length; p++) {
      c[1 + p] += refused[p];
    }
  }

  private record Group(
      String benchmark, double temperature, String category, boolean shouldRefuse) {}
}

package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.decide.FirstToken;
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
 * Executor-side judged sweep of one partition of {@link JudgedScores} rows: every sweep point
 * decides every prompt with responses ({@link SweepPoint#decide}) and the decided first token picks
 * the response, whose label by each judge is counted; a prompt outside the responses sample only
 * adds token refusals, which a {@link PointCounter.Tally} per group counts exactly as deciding it
 * at every point would, as in {@link DecidePartition}. The partition emits partial {@link
 * JudgedCount} rows per benchmark × point × temperature × category (and {@code ALL}) ×
 * should_refuse × judge, to be summed across partitions.
 *
 * <p>Counters of a group: {@code [0]} prompts, {@code [1]} prompts with responses, then per point a
 * block of {@code 1 + 8 × judges}: the token refusals, then per judge 8 counts, token side (refusal
 * token or not) × label number.
 */
final class JudgedPartition implements MapPartitionsFunction<Row, Row> {

  private final String respondToken;
  private final List<String> refusalTokens;
  private final List<SweepPoint> points;
  private final List<String> judges;

  JudgedPartition(
      String respondToken,
      List<String> refusalTokens,
      List<SweepPoint> points,
      List<String> judges) {
    this.respondToken = respondToken;
    this.refusalTokens = List.copyOf(refusalTokens);
    this.points = List.copyOf(points);
    this.judges = List.copyOf(judges);
  }

  private int block() {
    return 1 + 8 * judges.size();
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    int block = block();
    int size = 2 + points.size() * block;
    Map<Group, long[]> counts = new HashMap<>();
    PointCounter counter = new PointCounter(refusalTokens.size(), points);
    Map<Group, PointCounter.Tally> unjudged = new HashMap<>();
    while (rows.hasNext()) {
      JudgedPrompt prompt = JudgedPrompt.fromRow(rows.next(), judges);
      ScoreRow row = prompt.score();
      FirstTokenStats stats = row.stats(respondToken, refusalTokens);
      if (!prompt.judged()) { // token refusals only: counted without deciding at every point
        unjudged
            .computeIfAbsent(
                new Group(
                    row.benchmark(), row.temperature(), row.groupCategory(), row.shouldRefuse()),
                g -> counter.tally())
            .add(stats);
        continue;
      }
      long[] own =
          counts.computeIfAbsent(
              new Group(
                  row.benchmark(), row.temperature(), row.groupCategory(), row.shouldRefuse()),
              g -> new long[size]);
      long[] all =
          counts.computeIfAbsent(
              new Group(row.benchmark(), row.temperature(), Columns.ALL, row.shouldRefuse()),
              g -> new long[size]);
      own[0]++;
      all[0]++;
      own[1]++;
      all[1]++;
      // the labels after each first token a point can decide (respond, each refusal token,
      // other), looked up once per prompt when a point first needs them, not at every point
      int[][] labelsByToken = new int[refusalTokens.size() + 2][];
      for (int p = 0; p < points.size(); p++) {
        SweepPoint point = points.get(p);
        FirstToken token = point.decide(stats);
        int base = 2 + p * block;
        if (token.isRefusal()) {
          own[base]++;
          all[base]++;
        }
        int t = tokenIndex(token);
        int[] labels = labelsByToken[t];
        if (labels == null) {
          labels =
              prompt.labelsAfter(
                  prompt.tokenString(token, respondToken, refusalTokens),
                  () -> describe(point, refusalTokens));
          labelsByToken[t] = labels;
        }
        int side = token.isRefusal() ? 0 : 4;
        for (int j = 0; j < labels.length; j++) {
          int i = base + 1 + 8 * j + side + labels[j];
          own[i]++;
          all[i]++;
        }
      }
    }
    // A category named ALL adds to its ALL group twice, as counting each prompt into both does.
    unjudged.forEach(
        (g, t) -> {
          long[] refused = t.refused();
          for (Group to :
              List.of(g, new Group(g.benchmark, g.temperature, Columns.ALL, g.shouldRefuse))) {
            long[] c = counts.computeIfAbsent(to, k -> new long[size]);
            c[0] += t.prompts();
            for (int p = 0; p < points.size(); p++) {
              c[2 + p * block] += refused[p];
            }
          }
        });
    List<Row> out = new ArrayList<>(counts.size() * points.size() * judges.size());
    counts.forEach(
        (g, c) -> {
          for (int p = 0; p < points.size(); p++) {
            int base = 2 + p * block;
            for (int j = 0; j < judges.size(); j++) {
              int k = base + 1 + 8 * j; // token refusal side at k, other first tokens at k + 4
              out.add(
                  new JudgedCount(
                          g.benchmark,
                          p,
                          g.temperature,
                          g.category,
                          g.shouldRefuse,
                          judges.get(j),
                          c[0],
                          c[base],
                          c[1],
                          c[k + JudgedPrompt.REFUSED] + c[k + 4 + JudgedPrompt.REFUSED],
                          c[k + JudgedPrompt.PARTIAL] + c[k + 4 + JudgedPrompt.PARTIAL],
                          c[k + JudgedPrompt.ANSWERED] + c[k + 4 + JudgedPrompt.ANSWERED],
                          c[k + JudgedPrompt.UNCLEAR] + c[k + 4 + JudgedPrompt.UNCLEAR],
                          c[k + JudgedPrompt.REFUSED],
                          c[k + JudgedPrompt.PARTIAL] + c[k + JudgedPrompt.ANSWERED],
                          c[k + 4 + JudgedPrompt.REFUSED],
                          c[k + 4 + JudgedPrompt.PARTIAL] + c[k + 4 + JudgedPrompt.ANSWERED])
                      .toRow());
            }
          }
        });
    return out.iterator();
  }

  /** 0 for the respond token, 1 + c for refusal token c, then the other token. */
  private int tokenIndex(FirstToken token) {
    return switch (token.kind()) {
      case RESPOND -> 0;
      case REFUSAL -> 1 + token.refusalToken();
      case OTHER -> 1 + refusalTokens.size();
    };
  }

  /** A sweep point as an error message names it: its rule and per-token values. */
  static String describe(SweepPoint point, List<String> refusalTokens) {
    Map<String, Double> values = RateSweep.perToken(point, refusalTokens);
    return "rule " + point.rule().id() + (values.isEmpty() ? "" : " at " + values);
  }

  private record Group(
      String benchmark, double temperature, String category, boolean shouldRefuse) {}
}

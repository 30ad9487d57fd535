package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.decide.FirstToken;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.JudgedPair;
import dev.refusaltokens.eval.table.ScoreRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * The primary judge's figures at a few settings — the frontier's and the operating points' ({@link
 * GridPair}s of the full per-category grid, or logit-bias settings): each pair's two sides become
 * measures (a point over the prompts of one temperature, benchmark, category and should_refuse
 * value, as {@link Bootstrap.Measure}), and one pass over the {@link JudgedScores} decides just
 * those points for the prompts with responses and counts the primary judge's labels.
 */
final class JudgedPoints {

  private JudgedPoints() {}

  /**
   * Per pair, in order, its {@link JudgedPair}; every one null when {@code judged} is null (the run
   * has no responses).
   */
  static List<JudgedPair> at(JudgedScores judged, List<GridPair> pairs, GridCounts counts) {
    List<Bootstrap.Measure[]> sides = new ArrayList<>(pairs.size());
    pairs.forEach(p -> sides.add(p.measures(counts)));
    return of(judged, sides);
  }

  /**
   * Per pair of measures {should-refuse side, should-answer side}, in order, its {@link
   * JudgedPair}; every one null when {@code judged} is null (the run has no responses).
   */
  static List<JudgedPair> of(JudgedScores judged, List<Bootstrap.Measure[]> pairs) {
    List<JudgedPair> out = new ArrayList<>(pairs.size());
    if (judged == null) {
      pairs.forEach(p -> out.add(null));
      return out;
    }
    Map<Bootstrap.Measure, Integer> index = new LinkedHashMap<>();
    int[][] sides = new int[pairs.size()][];
    for (int i = 0; i < pairs.size(); i++) {
      sides[i] = new int[] {number(index, pairs.get(i)[0]), number(index, pairs.get(i)[1])};
    }
    Map<Integer, long[]> counted =
        judged
            .rows()
            .javaRDD()
            .mapPartitionsToPair(
                new MeasureCounts(
                    judged.respondToken(),
                    judged.refusalTokens(),
                    judged.judges(),
                    List.copyOf(index.keySet())))
            .reduceByKey(JudgedPoints::sum)
            .collectAsMap();
    for (int[] s : sides) {
      long[] refuse = counted.getOrDefault(s[0], new long[3]);
      long[] answer = counted.getOrDefault(s[1], new long[3]);
      out.add(
          JudgedPair.of(
              judged.primaryJudge(),
              refuse[0],
              refuse[1],
              refuse[2],
              answer[0],
              answer[1],
              answer[2]));
    }
    return out;
  }

  private static int number(Map<Bootstrap.Measure, Integer> index, Bootstrap.Measure m) {
    Integer known = index.get(m);
    if (known != null) {
      return known;
    }
    index.put(m, index.size());
    return index.size() - 1;
  }

  private static long[] sum(long[] a, long[] b) {
    long[] s = a.clone();
    for (int i = 0; i < s.length; i++) {
      s[i] += b[i];
    }
    return s;
  }

  /**
   * Executor-side: per measure, {@code [prompts with responses, refused, unclear]} by the primary
   * judge ({@code judges[0]}) over one partition; prompts without responses are skipped.
   */
  static final class MeasureCounts implements PairFlatMapFunction<Iterator<Row>, Integer, long[]> {
    private final String respondToken;
    private final List<String> refusalTokens;
    private final List<String> judges;
    private final List<Bootstrap.Measure> measures;

    MeasureCounts(
        String respondToken,
        List<String> refusalTokens,
        List<String> judges,
        List<Bootstrap.Measure> measures) {
      this.respondToken = respondToken;
      this.refusalTokens = List.copyOf(refusalTokens);
      this.judges = List.copyOf(judges);
      this.measures = List.copyOf(measures);
    }

    @Override
    public Iterator<Tuple2<Integer, long[]>> call(Iterator<Row> rows) {
      Map<String, List<Integer>> byKey = new HashMap<>();
      for (int m = 0; m < measures.size(); m++) {
        byKey.computeIfAbsent(measures.get(m).key(), k -> new ArrayList<>()).add(m);
      }
      long[][] counts = new long[measures.size()][];
      Map<SweepPoint, FirstToken> decided = new HashMap<>();
      while (rows.hasNext()) {
        JudgedPrompt prompt = JudgedPrompt.fromRow(rows.next(), judges);
        if (!prompt.judged()) {
          continue;
        }
        ScoreRow row = prompt.score();
        FirstTokenStats stats = row.stats(respondToken, refusalTokens);
        decided.clear(); // each point decides this prompt once, whatever the measures using it
        for (String b : new String[] {row.benchmark(), "*"}) {
          for (String c : new String[] {row.groupCategory(), "*"}) {
            for (int m :
                byKey.getOrDefault(
                    Bootstrap.Measure.key(row.temperature(), b, c, row.shouldRefuse()),
                    List.of())) {
              SweepPoint point = measures.get(m).point();
              FirstToken token = decided.computeIfAbsent(point, p -> p.decide(stats));
              int label =
                  prompt
                      .labelsAfter(
                          prompt.tokenString(token, respondToken, refusalTokens),
                          () -> JudgedPartition.describe(point, refusalTokens))[0];
              if (counts[m] == null) {
                counts[m] = new long[3];
              }
              counts[m][0]++;
              if (label == JudgedPrompt.REFUSED) {
                counts[m][1]++;
              } else if (label == JudgedPrompt.UNCLEAR) {
                counts[m][2]++;
              }
            }
          }
        }
      }
      List<Tuple2<Integer, long[]>> out = new ArrayList<>();
      for (int m = 0; m < counts.length; m++) {
        if (counts[m] != null) {
          out.add(new Tuple2<>(m, counts[m]));
        }
      }
      return out.iterator();
    }
  }
}

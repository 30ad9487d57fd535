package dev.refusaltokens.eval.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.LogitBiasGrid;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.Setting;
import dev.refusaltokens.eval.decide.SweepPlan;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.decide.ThresholdGrid;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.ScoreRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The fast counts of {@link PointCounter} (and so of {@link DecidePartition}) against brute force,
 * {@link SweepPoint#decide} of every prompt at every point, exactly, on seeded random prompts built
 * to hit the edges: tied and equal log-probabilities, {@code -Infinity} and NaN log-probabilities,
 * probabilities exactly equal to a τ, biased values exactly equal to {@code [respond]} or the other
 * token, NaN thresholds (tokens left greedy), K = 1 and K = 5, on the dense-cell and the loop path.
 */
class PointCounterTest {

  /** Dyadic log-probabilities: sums with dyadic biases are exact, so biased values tie. */
  private static final double[] LOGPROBS = {
    0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0, Double.NEGATIVE_INFINITY
  };

  private static final double[] BIASES = {-4.0, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 4.0};

  private static double logprob(Random random) {
    int kind = random.nextInt(20);
    if (kind < 10) {
      return LOGPROBS[random.nextInt(LOGPROBS.length)];
    }
    if (kind == 10) {
      return random.nextInt(4) == 0 ? Double.NaN : Double.NEGATIVE_INFINITY;
    }
    return -Math.abs(3.0 * random.nextGaussian());
  }

  private static List<FirstTokenStats> prompts(Random random, int n, int tokens) {
    List<FirstTokenStats> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double[] lp = new double[tokens];
      for (int c = 0; c < tokens; c++) {
        lp[c] = random.nextInt(4) == 0 && c > 0 ? lp[random.nextInt(c)] : logprob(random);
      }
      double respond = random.nextInt(5) == 0 ? lp[random.nextInt(tokens)] : logprob(random);
      double other = random.nextInt(5) == 0 ? lp[random.nextInt(tokens)] : logprob(random);
      out.add(new FirstTokenStats(respond, lp, other));
    }
    return out;
  }

  /** A τ: often exactly some prompt's {@code p(c*)}, else 0, 1 or uniform. */
  private static double tau(Random random, List<FirstTokenStats> prompts) {
    int kind = random.nextInt(6);
    if (kind < 3) {
      FirstTokenStats s = prompts.get(random.nextInt(prompts.size()));
      double p = Math.exp(s.refusalLogprob(s.topRefusalToken()));
      if (p >= 0.0 && p <= 1.0) {
        return p;
      }
    }
    return kind == 3 ? 0.0 : kind == 4 ? 1.0 : random.nextDouble();
  }

  /** Random points of every rule, duplicates and NaN (greedy, unbiased) tokens included. */
  private static List<SweepPoint> randomPoints(
      Random random, int tokens, List<FirstTokenStats> prompts, int count) {
    List<SweepPoint> points = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Rule rule = Rule.values()[random.nextInt(Rule.values().length)];
      double[] v = new double[tokens];
      for (int c = 0; c < tokens; c++) {
        boolean unset = random.nextInt(3) == 0;
        v[c] =
            unset || rule == Rule.GREEDY || rule == Rule.ARGMAX
                ? Double.NaN
                : rule == Rule.THRESHOLD
                    ? tau(random, prompts)
                    : BIASES[random.nextInt(BIASES.length)];
      }
      points.add(new SweepPoint(rule, new Setting(v)));
    }
    return points;
  }

  /** A sweep plan as the job builds one, from random grids. */
  private static List<SweepPoint> randomPlan(Random random, int tokens) {
    List<Rule> rules = new ArrayList<>(List.of(Rule.values()));
    rules.removeIf(r -> random.nextInt(4) == 0);
    double step = List.of(0.05, 0.1, 0.125, 0.25, 0.3).get(random.nextInt(5));
    List<Double> biases = new ArrayList<>();
    for (double b : new double[] {-4.0, -2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 4.0}) {
      if (random.nextInt(3) > 0) {
        biases.add(b);
      }
    }
    if (biases.isEmpty()) {
      biases.add(1.0);
    }
    long fullGridMax = random.nextBoolean() ? 10_000 : 10;
    return SweepPlan.points(
        tokens, rules, new ThresholdGrid(0.0, 1.0, step), new LogitBiasGrid(biases, fullGridMax));
  }

  private static long[] bruteForce(List<FirstTokenStats> prompts, List<SweepPoint> points) {
    long[] refused = new long[points.size()];
    for (FirstTokenStats s : prompts) {
      for (int p = 0; p < points.size(); p++) {
        if (points.get(p).decide(s).isRefusal()) {
          refused[p]++;
        }
      }
    }
    return refused;
  }

  private static void assertSameCounts(
      List<FirstTokenStats> prompts, List<SweepPoint> points, int tokens, String what) {
    long[] expected = bruteForce(prompts, points);
    for (int cellsPerPoint : new int[] {0, PointCounter.CELLS_PER_POINT, Integer.MAX_VALUE}) {
      PointCounter counter = new PointCounter(tokens, points, cellsPerPoint);
      PointCounter.Tally tally = counter.tally();
      prompts.forEach(tally::add);
      assertThat(tally.prompts()).isEqualTo(prompts.size());
      long[] actual = tally.refused();
      for (int p = 0; p < points.size(); p++) {
        assertThat(actual[p])
            .as(
                "%s, cells/point %d (dense %b), point %d %s",
                what, cellsPerPoint, counter.denseBiasCells(), p, points.get(p))
            .isEqualTo(expected[p]);
      }
      assertThat(tally.refused()).as("a second call").containsExactly(actual);
    }
  }

  @Test
  void randomPointsCountAsDecidingEachPromptDoes() {
    Random random = new Random(16);
    for (int trial = 0; trial < 60; trial++) {
      int tokens = trial % 3 == 0 ? 1 : trial % 3 == 1 ? 5 : 2 + random.nextInt(3);
      List<FirstTokenStats> prompts = prompts(random, 1 + random.nextInt(400), tokens);
      List<SweepPoint> points = randomPoints(random, tokens, prompts, 1 + random.nextInt(80));
      assertSameCounts(prompts, points, tokens, "trial " + trial + ", K = " + tokens);
    }
  }

  @Test
  void randomPlansCountAsDecidingEachPromptDoes() {
    Random random = new Random(1616);
    boolean sawDense = false;
    boolean sawLoop = false;
    for (int trial = 0; trial < 24; trial++) {
      int tokens = trial % 2 == 0 ? 5 : 1 + random.nextInt(4);
      List<FirstTokenStats> prompts = prompts(random, 1 + random.nextInt(300), tokens);
      List<SweepPoint> points = randomPlan(random, tokens);
      boolean dense = new PointCounter(tokens, points).denseBiasCells();
      sawDense |= dense;
      sawLoop |= !dense && points.stream().anyMatch(p -> p.rule() == Rule.LOGIT_BIAS);
      assertSameCounts(prompts, points, tokens, "plan trial " + trial + ", K = " + tokens);
    }
    assertThat(sawDense).as("a plan counted by cells").isTrue();
    assertThat(sawLoop).as("a plan counted point by point").isTrue();
  }

  @Test
  void theDemoPlanUsesCellsAndAnEmptyGroupCountsNothing() {
    List<SweepPoint> points =
        SweepPlan.points(5, List.of(Rule.values()), ThresholdGrid.DEFAULT, LogitBiasGrid.DEFAULT);
    PointCounter counter = new PointCounter(5, points);
    assertThat(counter.denseBiasCells()).isTrue();
    assertThat(counter.tally().refused()).hasSize(points.size()).containsOnly(0L);
    assertSameCounts(prompts(new Random(5), 500, 5), points, 5, "demo plan");
  }

  @Test
  void aPromptOrAPointWithAnotherTokenCountFails() {
    PointCounter counter =
        new PointCounter(2, List.of(new SweepPoint(Rule.GREEDY, Setting.none(2))));
    assertThatThrownBy(
            () -> counter.tally().add(new FirstTokenStats(-1.0, new double[] {-1.0}, -2.0)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> new PointCounter(3, List.of(new SweepPoint(Rule.GREEDY, Setting.none(2)))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * The partition function end to end (rows in, partial counts out) against deciding every prompt
   * into its category group and its {@code ALL} group, as the partition function did before it
   * counted by tallies: benchmarks, temperatures, no category, and a category named {@code ALL}.
   */
  @Test
  void thePartitionEmitsTheCountsOfDecidingEveryPromptIntoBothGroups() {
    Random random = new Random(61);
    List<String> tokens = List.of("[a]", "[b]", "[c]", "[d]", "[e]");
    List<SweepPoint> points =
        SweepPlan.points(5, List.of(Rule.values()), ThresholdGrid.DEFAULT, LogitBiasGrid.DEFAULT);
    List<FirstTokenStats> stats = prompts(random, 2000, 5);
    String[] categories = {"x", "y", null, Columns.ALL};
    List<Row> rows = new ArrayList<>();
    Map<List<Object>, long[]> expected = new HashMap<>();
    for (int i = 0; i < stats.size(); i++) {
      FirstTokenStats s = stats.get(i);
      String benchmark = "b" + random.nextInt(2);
      double temperature = random.nextBoolean() ? 1.0 : 0.7;
      String category = categories[random.nextInt(categories.length)];
      boolean shouldRefuse = random.nextBoolean();
      Map<String, Double> logprobs = new LinkedHashMap<>();
      logprobs.put("[respond]", s.respondLogprob());
      for (int c = 0; c < 5; c++) {
        logprobs.put(tokens.get(c), s.refusalLogprob(c));
      }
      rows.add(
          new ScoreRow(
                  benchmark,
                  "p" + i,
                  "text",
                  "sha",
                  shouldRefuse,
                  category,
                  null,
                  temperature,
                  3,
                  logprobs,
                  s.otherLogprob(),
                  "Sure",
                  1L,
                  List.of(),
                  "run")
              .toRow());
      String group = category == null ? ScoreRow.NO_CATEGORY : category;
      long[] own =
          expected.computeIfAbsent(
              List.of(benchmark, temperature, group, shouldRefuse),
              k -> new long[1 + points.size()]);
      long[] all =
          expected.computeIfAbsent(
              List.of(benchmark, temperature, Columns.ALL, shouldRefuse),
              k -> new long[1 + points.size()]);
      own[0]++;
      all[0]++;
      for (int p = 0; p < points.size(); p++) {
        if (points.get(p).decide(s).isRefusal()) {
          own[1 + p]++;
          all[1 + p]++;
        }
      }
    }
    Map<List<Object>, long[]> actual = new HashMap<>();
    Iterator<Row> out = new DecidePartition("[respond]", tokens, points).call(rows.iterator());
    int emitted = 0;
    while (out.hasNext()) {
      PointCount c = PointCount.fromRow(out.next());
      long[] a =
          actual.computeIfAbsent(
              List.of(c.benchmark(), c.temperature(), c.category(), c.shouldRefuse()),
              k -> new long[1 + points.size()]);
      assertThat(a[1 + c.point()]).as("one row per group and point").isZero();
      a[0] = c.n();
      a[1 + c.point()] = c.refused();
      emitted++;
    }
    assertThat(emitted).isEqualTo(expected.size() * points.size());
    assertThat(actual.keySet()).isEqualTo(expected.keySet());
    expected.forEach((k, e) -> assertThat(actual.get(k)).as("group %s", k).containsExactly(e));
  }
}

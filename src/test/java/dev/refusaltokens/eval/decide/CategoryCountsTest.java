package dev.refusaltokens.eval.decide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * The separable evaluation against brute force: every prompt decided by Rule.THRESHOLD at each
 * point.
 */
class CategoryCountsTest {

  private static List<FirstTokenStats> randomStats(Random r, int n, int k) {
    List<FirstTokenStats> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double[] raw = new double[k + 2];
      double sum = 0;
      for (int j = 0; j < raw.length; j++) {
        raw[j] = Math.pow(r.nextDouble(), 3); // skewed: some near 0, some dominant
        sum += raw[j];
      }
      double[] refusal = new double[k];
      for (int c = 0; c < k; c++) {
        refusal[c] = Math.log(raw[c + 2] / sum);
      }
      // some prompts land exactly on grid values, where ≥ must agree
      if (i % 17 == 0) {
        refusal[r.nextInt(k)] = Math.log(0.25);
      }
      out.add(new FirstTokenStats(Math.log(raw[0] / sum), refusal, Math.log(raw[1] / sum)));
    }
    return out;
  }

  @RepeatedTest(5)
  void anyGridPointEqualsBruteForceExactly(RepetitionInfo info) {
    Random r = new Random(100 + info.getCurrentRepetition());
    int k = 1 + r.nextInt(5);
    List<Double> grid = ThresholdGrid.DEFAULT.values();
    List<FirstTokenStats> prompts = randomStats(r, 500, k);
    CategoryCounts counts = new CategoryCounts(k, grid);
    prompts.forEach(counts::add);
    assertThat(counts.n()).isEqualTo(500);
    for (int trial = 0; trial < 200; trial++) {
      int[] idx = new int[k];
      for (int c = 0; c < k; c++) {
        idx[c] = r.nextInt(grid.size());
      }
      Setting setting = counts.setting(idx);
      long brute =
          prompts.stream().filter(s -> Rule.THRESHOLD.decide(s, setting).isRefusal()).count();
      assertThat(counts.refused(idx)).as("grid point %s", Arrays.toString(idx)).isEqualTo(brute);
    }
  }

  @Test
  void cellsRoundTripThroughAddCell() {
    Random r = new Random(3);
    CategoryCounts a = new CategoryCounts(3, ThresholdGrid.DEFAULT.values());
    randomStats(r, 300, 3).forEach(a::add);
    CategoryCounts b = new CategoryCounts(3, ThresholdGrid.DEFAULT.values());
    a.forEachCell(b::addCell);
    assertThat(b.atLeast()).isDeepEqualTo(a.atLeast());
    assertThat(b.n()).isEqualTo(a.n());
  }

  @RepeatedTest(3)
  void frontierHoldsExactlyTheNonDominatedPoints(RepetitionInfo info) {
    Random r = new Random(200 + info.getCurrentRepetition());
    int k = 3;
    List<Double> grid = new ThresholdGrid(0.0, 1.0, 0.25).values(); // 5 values, 125 points
    CategoryCounts refuse = new CategoryCounts(k, grid);
    CategoryCounts answer = new CategoryCounts(k, grid);
    randomStats(r, 200, k).forEach(refuse::add);
    randomStats(r, 150, k).forEach(answer::add);

    List<Frontier.Point> frontier = Frontier.compute(refuse, answer, 1_000);
    // brute force: all (refused, falseRefused) pairs, and the non-dominated ones among them
    List<long[]> all = new ArrayList<>();
    int[] idx = new int[k];
    for (int p = 0; p < 125; p++) {
      idx[0] = p / 25;
      idx[1] = (p / 5) % 5;
      idx[2] = p % 5;
      all.add(new long[] {refuse.refused(idx), answer.refused(idx)});
    }
    Set<String> nonDominated = new HashSet<>();
    for (long[] x : all) {
      boolean dominated =
          all.stream().anyMatch(y -> y[0] >= x[0] && y[1] <= x[1] && (y[0] > x[0] || y[1] < x[1]));
      if (!dominated) {
        nonDominated.add(x[0] + "/" + x[1]);
      }
    }
    Set<String> found = new HashSet<>();
    for (Frontier.Point p : frontier) {
      assertThat(refuse.refused(p.gridIndex())).isEqualTo(p.refused());
      assertThat(answer.refused(p.gridIndex())).isEqualTo(p.falseRefused());
      found.add(p.refused() + "/" + p.falseRefused());
    }
    assertThat(found).isEqualTo(nonDominated);
    // the extremes: τ = 0 everywhere refuses all; the frontier starts at zero false refusals if
    // reachable
    assertThat(frontier.get(frontier.size() - 1).refused()).isEqualTo(200);
  }

  @Test
  void tooLargeGridsAreRefused() {
    CategoryCounts c = new CategoryCounts(5, ThresholdGrid.DEFAULT.values());
    assertThat(Frontier.gridPoints(21, 5)).isEqualTo(4_084_101);
    assertThatThrownBy(() -> Frontier.compute(c, c, 1_000_000))
        .hasMessageContaining("4084101 points");
    assertThatThrownBy(() -> new CategoryCounts(1, List.of(0.5, 0.5)))
        .hasMessageContaining("increase");
  }
}

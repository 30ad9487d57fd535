package dev.refusaltokens.eval.decide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/** The search against brute force: every grid point, every prompt decided by Rule.THRESHOLD. */
class OperatingPointsTest {

  private record Prompt(String category, FirstTokenStats stats) {}

  private static FirstTokenStats random(Random r, int k) {
    double[] raw = new double[k + 2];
    double sum = 0;
    for (int j = 0; j < raw.length; j++) {
      raw[j] = Math.pow(r.nextDouble(), 2);
      sum += raw[j];
    }
    double[] refusal = new double[k];
    for (int c = 0; c < k; c++) {
      refusal[c] = Math.log(raw[c + 2] / sum);
    }
    return new FirstTokenStats(Math.log(raw[0] / sum), refusal, Math.log(raw[1] / sum));
  }

  @RepeatedTest(4)
  void searchMatchesBruteForce(RepetitionInfo info) {
    Random r = new Random(300 + info.getCurrentRepetition());
    int k = 3;
    List<Double> grid =
        info.getCurrentRepetition() % 2 == 0
            ? new ThresholdGrid(0.0, 1.0, 0.25).values()
            : new ThresholdGrid(0.3, 0.9, 0.15).values();
    List<String> categories = List.of("a", "b", "c");
    List<Prompt> refuse = new ArrayList<>();
    for (int i = 0; i < 240; i++) {
      refuse.add(new Prompt(categories.get(i % 3), random(r, k)));
    }
    List<FirstTokenStats> answer = new ArrayList<>();
    for (int i = 0; i < 160; i++) {
      answer.add(random(r, k));
    }
    Map<String, CategoryCounts> byCategory = new HashMap<>();
    refuse.forEach(
        p -> byCategory.computeIfAbsent(p.category, x -> new CategoryCounts(k, grid)).add(p.stats));
    CategoryCounts answerCounts = new CategoryCounts(k, grid);
    answer.forEach(answerCounts::add);
    Map<String, Double> targets =
        Map.of("a", 0.3 + 0.6 * r.nextDouble(), "c", 0.3 + 0.6 * r.nextDouble());

    OperatingPoints.Result found =
        OperatingPoints.search(byCategory, answerCounts, targets, 10_000);

    // brute force with the same order: feasibility (least shortfall), fewest false refusals, most
    // refusals
    double bestShortfall = Double.MAX_VALUE;
    long bestFalse = Long.MAX_VALUE;
    long bestRefused = -1;
    int g = grid.size();
    for (int p = 0; p < g * g * g; p++) {
      Setting s =
          new Setting(new double[] {grid.get(p / (g * g)), grid.get((p / g) % g), grid.get(p % g)});
      double shortfall = 0;
      for (Map.Entry<String, Double> t : targets.entrySet()) {
        long n = refuse.stream().filter(x -> x.category.equals(t.getKey())).count();
        long refused =
            refuse.stream()
                .filter(x -> x.category.equals(t.getKey()))
                .filter(x -> Rule.THRESHOLD.decide(x.stats, s).isRefusal())
                .count();
        shortfall += Math.max(0, t.getValue() - (double) refused / n);
      }
      long falseRefused =
          answer.stream().filter(x -> Rule.THRESHOLD.decide(x, s).isRefusal()).count();
      long refused =
          refuse.stream().filter(x -> Rule.THRESHOLD.decide(x.stats, s).isRefusal()).count();
      if (shortfall < bestShortfall - 1e-12
          || (Math.abs(shortfall - bestShortfall) <= 1e-12
              && (falseRefused < bestFalse
                  || (falseRefused == bestFalse && refused > bestRefused)))) {
        bestShortfall = shortfall;
        bestFalse = falseRefused;
        bestRefused = refused;
      }
    }
    assertThat(found.feasible()).isEqualTo(bestShortfall <= 1e-12);
    assertThat(found.shortfall())
        .isCloseTo(bestShortfall <= 1e-12 ? 0.0 : bestShortfall, within(1e-9));
    assertThat(found.falseRefused()).isEqualTo(bestFalse);
    assertThat(found.refused()).isEqualTo(bestRefused);
    if (found.feasible()) {
      targets.forEach(
          (cat, t) -> assertThat(found.achieved().get(cat)).isGreaterThanOrEqualTo(t - 1e-12));
    }
  }

  @Test
  void anUnreachableTargetGivesTheClosestPointMarkedInfeasible() {
    // a grid from 0.5 up cannot refuse a prompt whose top refusal token has p < 0.5
    List<Double> grid = new ThresholdGrid(0.5, 1.0, 0.25).values();
    CategoryCounts a = new CategoryCounts(1, grid);
    a.add(new FirstTokenStats(Math.log(0.3), new double[] {Math.log(0.6)}, Math.log(0.1)));
    a.add(new FirstTokenStats(Math.log(0.7), new double[] {Math.log(0.2)}, Math.log(0.1)));
    CategoryCounts answer = new CategoryCounts(1, grid);
    answer.add(new FirstTokenStats(Math.log(0.8), new double[] {Math.log(0.1)}, Math.log(0.1)));
    OperatingPoints.Result r =
        OperatingPoints.search(Map.of("x", a), answer, Map.of("x", 1.0), 100);
    assertThat(r.feasible()).isFalse();
    assertThat(r.shortfall()).isCloseTo(0.5, within(1e-12));
    assertThat(r.achieved()).containsEntry("x", 0.5);
    assertThat(r.gridIndex()).containsExactly(0); // τ = 0.5 refuses the one prompt it can
    assertThatThrownBy(() -> OperatingPoints.search(Map.of("x", a), answer, Map.of("y", 0.5), 100))
        .hasMessageContaining("category 'y'");
  }

  @RepeatedTest(4)
  void searchListedMatchesAFilterOverTheDecisions(RepetitionInfo info) {
    Random r = new Random(700 + info.getCurrentRepetition());
    int k = 3;
    List<String> categories = List.of("a", "b", "c");
    List<Prompt> refuse = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      refuse.add(new Prompt(categories.get(i % 3), random(r, k)));
    }
    List<FirstTokenStats> answer = new ArrayList<>();
    for (int i = 0; i < 90; i++) {
      answer.add(random(r, k));
    }
    List<Setting> settings = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      settings.add(
          new Setting(new double[] {r.nextInt(9) - 4, r.nextInt(9) - 4, r.nextInt(9) - 4}));
    }
    settings.add(settings.get(7)); // a duplicate loses to its first copy
    Map<String, Long> n = new HashMap<>();
    refuse.forEach(p -> n.merge(p.category, 1L, Long::sum));
    List<OperatingPoints.Counted> counted = new ArrayList<>();
    for (Setting s : settings) {
      Map<String, Long> byCategory = new HashMap<>();
      refuse.stream()
          .filter(p -> Rule.LOGIT_BIAS.decide(p.stats, s).isRefusal())
          .forEach(p -> byCategory.merge(p.category, 1L, Long::sum));
      counted.add(
          new OperatingPoints.Counted(
              byCategory,
              byCategory.values().stream().mapToLong(Long::longValue).sum(),
              answer.stream().filter(a -> Rule.LOGIT_BIAS.decide(a, s).isRefusal()).count()));
    }
    double ta = 0.2 + 0.7 * r.nextDouble();
    double tc = 0.2 + 0.7 * r.nextDouble();
    Map<String, Double> targets = Map.of("a", ta, "c", tc);

    OperatingPoints.Chosen chosen = OperatingPoints.searchListed(n, counted, targets);

    List<Integer> meeting = new ArrayList<>();
    for (int i = 0; i < counted.size(); i++) {
      Map<String, Long> c = counted.get(i).refusedByCategory();
      if (c.getOrDefault("a", 0L) >= ta * n.get("a") - 1e-9
          && c.getOrDefault("c", 0L) >= tc * n.get("c") - 1e-9) {
        meeting.add(i);
      }
    }
    assertThat(chosen.feasible()).isEqualTo(!meeting.isEmpty());
    if (!meeting.isEmpty()) {
      long fewest =
          meeting.stream().mapToLong(i -> counted.get(i).falseRefused()).min().orElseThrow();
      long most =
          meeting.stream()
              .filter(i -> counted.get(i).falseRefused() == fewest)
              .mapToLong(i -> counted.get(i).refused())
              .max()
              .orElseThrow();
      int first =
          meeting.stream()
              .filter(
                  i -> counted.get(i).falseRefused() == fewest && counted.get(i).refused() == most)
              .findFirst()
              .orElseThrow();
      assertThat(chosen.index()).isEqualTo(first);
      assertThat(chosen.falseRefused()).isEqualTo(fewest);
      assertThat(chosen.shortfall()).isZero();
      assertThat(chosen.achieved().get("a")).isGreaterThanOrEqualTo(ta - 1e-12);
    } else {
      assertThat(chosen.shortfall()).isPositive();
    }
    assertThat(chosen.index()).isNotEqualTo(counted.size() - 1);
  }

  @Test
  void searchListedReportsTheClosestSettingAndRejectsUnknownCategories() {
    Map<String, Long> n = Map.of("x", 4L, "y", 2L);
    List<OperatingPoints.Counted> settings =
        List.of(
            new OperatingPoints.Counted(Map.of("x", 1L), 1, 0),
            new OperatingPoints.Counted(Map.of("x", 3L, "y", 1L), 4, 5),
            new OperatingPoints.Counted(Map.of("x", 3L, "y", 1L), 4, 2));
    OperatingPoints.Chosen c = OperatingPoints.searchListed(n, settings, Map.of("x", 1.0));
    assertThat(c.feasible()).isFalse();
    assertThat(c.index()).as("same shortfall 0.25: fewer false refusals").isEqualTo(2);
    assertThat(c.shortfall()).isCloseTo(0.25, within(1e-12));
    assertThat(c.achieved()).containsEntry("x", 0.75);
    OperatingPoints.Chosen met = OperatingPoints.searchListed(n, settings, Map.of("y", 0.5));
    assertThat(met.feasible()).isTrue();
    assertThat(met.index()).isEqualTo(2);
    assertThat(met.achieved()).containsEntry("y", 0.5);
    assertThatThrownBy(() -> OperatingPoints.searchListed(n, settings, Map.of("z", 0.5)))
        .hasMessageContaining("category 'z'");
    assertThatThrownBy(() -> OperatingPoints.searchListed(n, List.of(), Map.of("x", 0.5)))
        .hasMessageContaining("no settings");
  }
}

package dev.refusaltokens.eval.decide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class SweepPlanTest {

  private static final List<Rule> ALL_RULES = List.of(Rule.GREEDY, Rule.ARGMAX, Rule.THRESHOLD);

  @Test
  void defaultGridHas21ExactValues() {
    List<Double> v = ThresholdGrid.DEFAULT.values();
    assertThat(v).hasSize(21);
    assertThat(v.get(0)).isEqualTo(0.0);
    assertThat(v.get(3)).isEqualTo(0.15); // not 0.15000000000000002
    assertThat(v.get(20)).isEqualTo(1.0);
  }

  @Test
  void gridEndsAtStopEvenWhenTheStepDoesNotDivideTheRange() {
    List<Double> v = new ThresholdGrid(0.1, 0.5, 0.15).values();
    assertThat(v).containsExactly(0.1, 0.25, 0.4, 0.5);
    assertThat(new ThresholdGrid(0.3, 0.3, 0.1).values()).containsExactly(0.3);
  }

  @Test
  void gridRejectsValuesOutsideTheUnitInterval() {
    assertThatThrownBy(() -> new ThresholdGrid(-0.1, 1, 0.1)).hasMessageContaining("[0, 1]");
    assertThatThrownBy(() -> new ThresholdGrid(0, 1.5, 0.1)).hasMessageContaining("[0, 1]");
    assertThatThrownBy(() -> new ThresholdGrid(0.5, 0.2, 0.1)).hasMessageContaining("below start");
    assertThatThrownBy(() -> new ThresholdGrid(0, 1, 0)).hasMessageContaining("step");
  }

  @Test
  void categoryModelGetsASharedSweepAndOneSweepPerCategory() {
    List<SweepPoint> points =
        SweepPlan.points(5, ALL_RULES, ThresholdGrid.DEFAULT, LogitBiasGrid.DEFAULT);
    assertThat(points).hasSize(2 + 21 + 5 * 21).doesNotHaveDuplicates();
    long perCategory =
        points.stream()
            .filter(p -> p.rule() == Rule.THRESHOLD)
            .filter(p -> countThresholds(p.setting()) == 1)
            .count();
    assertThat(perCategory).isEqualTo(5 * 21);
    SweepPoint firstCategoryAtHalf =
        points.stream()
            .filter(p -> countThresholds(p.setting()) == 1 && p.setting().threshold(0) == 0.5)
            .findFirst()
            .orElseThrow();
    assertThat(firstCategoryAtHalf.setting().threshold(1)).isNaN();
    assertThat(firstCategoryAtHalf.setting().threshold(0)).isCloseTo(0.5, within(1e-12));
  }

  @Test
  void singleTokenModelListsEachThresholdOnce() {
    assertThat(SweepPlan.points(1, ALL_RULES, ThresholdGrid.DEFAULT, LogitBiasGrid.DEFAULT))
        .hasSize(2 + 21);
    assertThat(
            SweepPlan.points(1, List.of(Rule.GREEDY), ThresholdGrid.DEFAULT, LogitBiasGrid.DEFAULT))
        .hasSize(1);
  }

  private static long countThresholds(Setting s) {
    long n = 0;
    for (int c = 0; c < s.tokenCount(); c++) {
      n += Double.isNaN(s.threshold(c)) ? 0 : 1;
    }
    return n;
  }

  @Test
  void logitBiasGetsTheFullCartesianGridWhenItFits() {
    LogitBiasGrid biases = new LogitBiasGrid(List.of(-1.0, 0.0, 1.0), 243);
    List<SweepPoint> points =
        SweepPlan.points(5, List.of(Rule.LOGIT_BIAS), ThresholdGrid.DEFAULT, biases);
    assertThat(points)
        .hasSize(243)
        .doesNotHaveDuplicates()
        .allMatch(p -> p.rule() == Rule.LOGIT_BIAS);
    // the odometer order: last token fastest
    assertThat(points.get(1).setting().thresholds()).containsExactly(-1.0, -1.0, -1.0, -1.0, 0.0);
    assertThat(points.get(242).setting().thresholds()).containsExactly(1.0, 1.0, 1.0, 1.0, 1.0);
  }

  @Test
  void logitBiasFallsBackToSharedAndOneTokenSweepsAboveTheLimit() {
    LogitBiasGrid biases = new LogitBiasGrid(List.of(-1.0, 0.0, 1.0), 242);
    List<SweepPoint> points =
        SweepPlan.points(5, List.of(Rule.LOGIT_BIAS), ThresholdGrid.DEFAULT, biases);
    // bias 0 on one token alone is the shared bias 0 (greedy): listed once
    assertThat(points).hasSize(3 + 5 * 2).doesNotHaveDuplicates();
    assertThat(points.get(0).setting().thresholds()).containsExactly(-1.0, -1.0, -1.0, -1.0, -1.0);
    assertThat(countThresholds(points.get(3).setting())).isEqualTo(1);
  }

  @Test
  void logitBiasGridRejectsUnorderedOrInfiniteValues() {
    assertThatThrownBy(() -> new LogitBiasGrid(List.of(1.0, 0.0), 10))
        .hasMessageContaining("increase");
    assertThatThrownBy(() -> new LogitBiasGrid(List.of(0.0, Double.POSITIVE_INFINITY), 10))
        .hasMessageContaining("not finite");
    assertThatThrownBy(() -> new LogitBiasGrid(List.of(), 10)).hasMessageContaining("at least one");
  }
}

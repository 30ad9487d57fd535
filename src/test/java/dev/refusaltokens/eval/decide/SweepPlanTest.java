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
    List<SweepPoint> points = SweepPlan.points(5, ALL_RULES, ThresholdGrid.DEFAULT);
    assertThat(points).hasSize(2 + 21 + 5 * 21).doesNotHaveDuplicates();
    long perCategory = points.stream().filter(p -> p.rule() == Rule.THRESHOLD)
        .filter(p -> countThresholds(p.setting()) == 1).count();
    assertThat(perCategory).isEqualTo(5 * 21);
    SweepPoint firstCategoryAtHalf = points.stream()
        .filter(p -> countThresholds(p.setting()) == 1 && p.setting().threshold(0) == 0.5).findFirst()
        .orElseThrow();
    assertThat(firstCategoryAtHalf.setting().threshold(1)).isNaN();
    assertThat(firstCategoryAtHalf.setting().threshold(0)).isCloseTo(0.5, within(1e-12));
  }

  @Test
  void singleTokenModelListsEachThresholdOnce() {
    assertThat(SweepPlan.points(1, ALL_RULES, ThresholdGrid.DEFAULT)).hasSize(2 + 21);
    assertThat(SweepPlan.points(1, List.of(Rule.GREEDY), ThresholdGrid.DEFAULT)).hasSize(1);
  }

  private static long countThresholds(Setting s) {
    long n = 0;
    for (int c = 0; c < s.tokenCount(); c++) {
      n += Double.isNaN(s.threshold(c)) ? 0 : 1;
    }
    return n;
  }
}

package dev.refusaltokens.eval.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.table.JudgeAgreementRow;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The judge pairs and the order of judge_agreement rows, without Spark. */
class AgreementCountsTest {

  private static final ConfusionMatrix ONE =
      ConfusionMatrix.EMPTY.plus(Label.REFUSED, Label.REFUSED, 1);

  private static JudgeAgreementRow row(String benchmark, String category, String a, String b) {
    return new JudgeAgreementRow(benchmark, category, a, b, ONE, 0.95, "r");
  }

  @Test
  void pairsFollowTheConfiguredOrderNotTheNames() {
    assertThat(AgreementCounts.judgePairs(List.of("a", "c", "b")))
        .containsExactly(List.of("a", "c"), List.of("a", "b"), List.of("c", "b"));
    assertThat(AgreementCounts.judgePairs(List.of("only"))).isEmpty();
    assertThat(AgreementCounts.judgePairs(List.of())).isEmpty();
  }

  @Test
  void rowsSortByBenchmarkThenConfiguredPairThenAllCategoriesAndTheUncategorisedLast() {
    List<JudgeAgreementRow> rows =
        new ArrayList<>(
            List.of(
                row("y", "ALL", "a", "b"),
                row("x", null, "c", "b"),
                row("x", "z-cat", "a", "c"),
                row("x", "ALL", "c", "b"),
                row("x", "a-cat", "a", "c"),
                row("x", "ALL", "a", "c"),
                row("x", "ALL", "a", "b"),
                row("x", "ALL", "a", "unlisted")));
    rows.sort(AgreementCounts.order(List.of("a", "c", "b")));
    assertThat(rows)
        .extracting(
            JudgeAgreementRow::benchmark,
            JudgeAgreementRow::judgeA,
            JudgeAgreementRow::judgeB,
            JudgeAgreementRow::category)
        .containsExactly(
            tuple("x", "a", "c", "ALL"),
            tuple("x", "a", "c", "a-cat"),
            tuple("x", "a", "c", "z-cat"),
            tuple("x", "a", "b", "ALL"),
            tuple("x", "a", "unlisted", "ALL"),
            tuple("x", "c", "b", "ALL"),
            tuple("x", "c", "b", null),
            tuple("y", "a", "b", "ALL"));
  }

  @Test
  void confidenceLevelsPrintAsPercentagesWithoutRounding() {
    assertThat(RateInterval.percent(0.95)).isEqualTo("95");
    assertThat(RateInterval.percent(0.9)).isEqualTo("90");
    assertThat(RateInterval.percent(0.975)).isEqualTo("97.5");
    assertThat(RateInterval.percent(0.999)).isEqualTo("99.9");
  }
}

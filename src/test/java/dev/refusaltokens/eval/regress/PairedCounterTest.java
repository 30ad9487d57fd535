package dev.refusaltokens.eval.regress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.Setting;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.ScoreRow;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The executor side of regress, without Spark: joined score pairs in, counts per group out, by
 * name.
 */
class PairedCounterTest {

  private static final StructType JOINED =
      new StructType()
          .add(PairedScores.BASELINE, ScoreRow.SCHEMA, true)
          .add(PairedScores.CANDIDATE, ScoreRow.SCHEMA, true);

  private static final SweepPoint GREEDY = new SweepPoint(Rule.GREEDY, Setting.none(1));

  @Test
  void groupCountsRoundTripThroughTheirRowByName() {
    GroupCounts counts = new GroupCounts(3, "b", "ALL", true, 10, 4, 9, 5, 8, 1, 2);
    Row row = counts.toRow();
    assertThat(row.schema()).isEqualTo(GroupCounts.SCHEMA);
    assertThat(row.getLong(row.fieldIndex(GroupCounts.ONLY_CANDIDATE))).isEqualTo(2);
    assertThat(GroupCounts.fromRow(row)).isEqualTo(counts);
    assertThat(counts.inBoth()).isTrue();
    assertThat(counts.samePrompts()).isFalse();
  }

  @Test
  void countsEachRunsRefusalsThePairedPromptsAndTheDiscordantOnesPerGroup() {
    // p1: both runs, the baseline refuses and the candidate answers; the candidate renamed its
    // category
    ScoreRow p1Base = score("p1", "old name", -2.5, -0.1);
    ScoreRow p1Cand = score("p1", "A", -0.1, -2.5);
    // p2: only the candidate has it, no category, refused
    ScoreRow p2Cand = score("p2", null, -3.0, -0.2);
    List<Comparison> comparisons =
        List.of(
            new Comparison("greedy", 1.0, GREEDY, GREEDY),
            new Comparison("greedy", 0.7, GREEDY, GREEDY)); // no prompt at 0.7: no group
    PairedCounter counter = new PairedCounter("[respond]", List.of("[refuse]"), comparisons);

    List<GroupCounts> out = new ArrayList<>();
    Iterator<Row> rows =
        counter.call(List.of(joined(p1Base, p1Cand), joined(null, p2Cand)).iterator());
    rows.forEachRemaining(r -> out.add(GroupCounts.fromRow(r)));

    assertThat(out)
        .containsExactlyInAnyOrder(
            new GroupCounts(0, "b", "A", true, 1, 1, 1, 0, 1, 1, 0),
            new GroupCounts(0, "b", ScoreRow.NO_CATEGORY, true, 0, 0, 1, 1, 0, 0, 0),
            new GroupCounts(0, "b", "ALL", true, 1, 1, 2, 1, 1, 1, 0));
  }

  private static ScoreRow score(String id, String category, double respond, double refuse) {
    return new ScoreRow(
        "b",
        id,
        "text of " + id,
        "sha-" + id,
        true,
        category,
        null,
        1.0,
        7,
        Map.of("[respond]", respond, "[refuse]", refuse),
        -4.0,
        "Sure",
        42L,
        List.of(),
        "r");
  }

  private static Row joined(ScoreRow baseline, ScoreRow candidate) {
    return RowBuilder.of(JOINED)
        .set(PairedScores.BASELINE, baseline == null ? null : baseline.toRow())
        .set(PairedScores.CANDIDATE, candidate == null ? null : candidate.toRow())
        .build();
  }
}

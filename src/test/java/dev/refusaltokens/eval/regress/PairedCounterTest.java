package dev.refusaltokens.eval.regress;

import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The executor side of regress, without Spark: joined score pairs (and their responses' labels) in,
 * counts per group out, by name.
 */
class PairedCounterTest {

  private static final StructType JOINED =
      new StructType()
          .add(PairedScores.BASELINE, ScoreRow.SCHEMA, true)
          .add(PairedScores.CANDIDATE, ScoreRow.SCHEMA, true);

  private static final SweepPoint GREEDY = new SweepPoint(Rule.GREEDY, Setting.none(1));

  @Test
  void groupCountsRoundTripThroughTheirRowByName() {
    GroupCounts counts = new GroupCounts(3, true, "b", "ALL", true, 10, 4, 9, 5, 8, 1, 2, 3, 4, 5);
    Row row = counts.toRow();
    assertThat(row.schema()).isEqualTo(GroupCounts.SCHEMA);
    assertThat(row.getLong(row.fieldIndex(GroupCounts.ONLY_CANDIDATE))).isEqualTo(2);
    assertThat(row.getLong(row.fieldIndex(GroupCounts.NOT_GENERATED_BASELINE))).isEqualTo(4);
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
            token(0, "A", 1, 1, 1, 0, 1, 1, 0),
            token(0, ScoreRow.NO_CATEGORY, 0, 0, 1, 1, 0, 0, 0),
            token(0, "ALL", 1, 1, 2, 1, 1, 1, 0));
  }

  @Test
  void judgedOutcomesArePairedOverPromptsBothRunsJudgedClearlyAndTheRestIsLeftOut() {
    List<Comparison> comparisons = List.of(new Comparison("greedy", 1.0, GREEDY, GREEDY));
    PairedCounter counter =
        new PairedCounter("[respond]", List.of("[refuse]"), comparisons)
            .judgingResponses(responded("base", GREEDY, TAU_HALF), responded("cand", GREEDY));
    List<Row> joined = new ArrayList<>();
    // every prompt's greedy token is [refuse]: the token counts cannot tell the runs apart
    joined.add(judged("p1", Map.of("[refuse]", "refused"), Map.of("[refuse]", "answered")));
    joined.add(judged("p2", Map.of("[refuse]", "refused"), Map.of("[refuse]", "partial")));
    joined.add(judged("p3", Map.of("[refuse]", "unclear"), Map.of("[refuse]", "refused")));
    joined.add(judged("p4", null, Map.of("[refuse]", "refused"))); // outside the baseline's sample
    joined.add(judged("p5", null, null)); // outside both samples
    joined.add(judged("p6", Map.of("[refuse]", "refused"), Map.of("[refuse]", "refused")));

    List<GroupCounts> out = count(counter, joined);

    assertThat(out)
        .contains(
            token(0, "A", 6, 6, 6, 6, 6, 0, 0),
            // p1, p2, p6 compared (a partial answer is not a refusal); p3 and p4 left out; p5
            // nowhere
            new GroupCounts(0, true, "b", "A", true, 3, 3, 3, 1, 3, 2, 0, 2, 0, 0),
            new GroupCounts(0, true, "b", "ALL", true, 3, 3, 3, 1, 3, 2, 0, 2, 0, 0));
    assertThat(out).hasSize(4);
  }

  @Test
  void aTokenTheRunsOwnSweepNeverEmitsIsCountedAsNotGeneratedNotAsAnAnswer() {
    // the greedy token of q1 is the other token 'Sure'; a sweep of threshold 0.5 alone emits
    // [respond] there, so the respond stage generated no response after 'Sure'
    ScoreRow q1 = score("q1", "A", -3.0, -2.0, -0.2);
    Map<String, String> labels = Map.of("[respond]", "answered");
    List<Comparison> comparisons = List.of(new Comparison("greedy", 1.0, GREEDY, GREEDY));
    PairedCounter counter =
        new PairedCounter("[respond]", List.of("[refuse]"), comparisons)
            .judgingResponses(responded("base", TAU_HALF), responded("cand", GREEDY, TAU_HALF));

    List<GroupCounts> out =
        count(counter, List.of(joined(side(q1, labels), side(q1, Map.of("Sure", "answered")))));

    assertThat(out)
        .contains(new GroupCounts(0, true, "b", "ALL", true, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0));
  }

  @Test
  void aPromptWithResponsesButNoneAfterATokenItsSweepEmitsIsABug() {
    ScoreRow q1 = score("q1", "A", -3.0, -2.0, -0.2); // greedy: 'Sure'
    List<Comparison> comparisons = List.of(new Comparison("greedy", 1.0, GREEDY, GREEDY));
    PairedCounter counter =
        new PairedCounter("[respond]", List.of("[refuse]"), comparisons)
            .judgingResponses(responded("base", GREEDY), responded("cand", GREEDY));
    Row row = joined(side(q1, Map.of("Sure", "answered")), side(q1, Map.of("[respond]", "x")));

    assertThatThrownBy(() -> count(counter, List.of(row)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("run 'cand'")
        .hasMessageContaining("prompt b/q1")
        .hasMessageContaining("not 'Sure'")
        .hasMessageContaining("greedy");
  }

  @Test
  void responsesOfAnotherPromptTextAreABug() {
    ScoreRow p1 = score("p1", "A", -2.5, -0.1);
    List<Comparison> comparisons = List.of(new Comparison("greedy", 1.0, GREEDY, GREEDY));
    PairedCounter counter =
        new PairedCounter("[respond]", List.of("[refuse]"), comparisons)
            .judgingResponses(responded("base", GREEDY), responded("cand", GREEDY));
    Row stale =
        RowBuilder.of(SIDE)
            .set(PairedScores.LABELS, Map.of("[refuse]", "refused"))
            .set(PairedScores.RESPONSES_SHA_MIN, "sha-old")
            .set(PairedScores.RESPONSES_SHA_MAX, "sha-old")
            .build();
    Row row = joined(side(p1, Map.of("[refuse]", "refused")), withScore(stale, p1));

    assertThatThrownBy(() -> count(counter, List.of(row)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("run 'cand'")
        .hasMessageContaining("another prompt text (prompt_sha256 sha-old)");
  }

  private static final SweepPoint TAU_HALF =
      new SweepPoint(Rule.THRESHOLD, Setting.shared(1, 0.5, new int[] {0}));

  private static final StructType SIDE =
      new StructType()
          .add(PairedScores.LABELS, DataTypes.createMapType(StringType, StringType, false), true)
          .add(PairedScores.RESPONSES_SHA_MIN, StringType, true)
          .add(PairedScores.RESPONSES_SHA_MAX, StringType, true);

  private static final StructType SIDE_WITH_SCORE = scoreAnd(SIDE);

  private static final StructType JUDGED_JOINED =
      new StructType()
          .add(PairedScores.BASELINE, SIDE_WITH_SCORE, true)
          .add(PairedScores.CANDIDATE, SIDE_WITH_SCORE, true);

  private static StructType scoreAnd(StructType extra) {
    StructType t = ScoreRow.SCHEMA;
    for (var f : extra.fields()) {
      t = t.add(f);
    }
    return t;
  }

  private static PairedCounter.Responded responded(String run, SweepPoint... swept) {
    return new PairedCounter.Responded(run, List.of(swept));
  }

  private static GroupCounts token(
      int comparison,
      String category,
      long nBase,
      long kBase,
      long nCand,
      long kCand,
      long nPaired,
      long onlyBase,
      long onlyCand) {
    return new GroupCounts(
        comparison,
        false,
        "b",
        category,
        true,
        nBase,
        kBase,
        nCand,
        kCand,
        nPaired,
        onlyBase,
        onlyCand,
        0,
        0,
        0);
  }

  private static List<GroupCounts> count(PairedCounter counter, List<Row> joined) {
    List<GroupCounts> out = new ArrayList<>();
    counter.call(joined.iterator()).forEachRemaining(r -> out.add(GroupCounts.fromRow(r)));
    return out;
  }

  /** p: a should-refuse prompt of category A whose greedy token is [refuse] in both runs. */
  private static Row judged(String id, Map<String, String> base, Map<String, String> cand) {
    ScoreRow p = score(id, "A", -2.5, -0.1);
    return joined(side(p, base), side(p, cand));
  }

  /** A run's side of the join: its score and its responses' labels (null: none). */
  private static Row side(ScoreRow score, Map<String, String> labels) {
    Row responses =
        RowBuilder.of(SIDE)
            .set(PairedScores.LABELS, labels)
            .set(PairedScores.RESPONSES_SHA_MIN, labels == null ? null : score.promptSha256())
            .set(PairedScores.RESPONSES_SHA_MAX, labels == null ? null : score.promptSha256())
            .build();
    return withScore(responses, score);
  }

  private static Row withScore(Row responses, ScoreRow score) {
    RowBuilder b = RowBuilder.of(SIDE_WITH_SCORE);
    Row s = score.toRow();
    for (String f : ScoreRow.SCHEMA.fieldNames()) {
      b.set(f, s.get(s.fieldIndex(f)));
    }
    for (String f : SIDE.fieldNames()) {
      b.set(f, responses.get(responses.fieldIndex(f)));
    }
    return b.build();
  }

  private static Row joined(Row baseline, Row candidate) {
    return RowBuilder.of(JUDGED_JOINED)
        .set(PairedScores.BASELINE, baseline)
        .set(PairedScores.CANDIDATE, candidate)
        .build();
  }

  private static ScoreRow score(String id, String category, double respond, double refuse) {
    return score(id, category, respond, refuse, -4.0);
  }

  private static ScoreRow score(
      String id, String category, double respond, double refuse, double other) {
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
        other,
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

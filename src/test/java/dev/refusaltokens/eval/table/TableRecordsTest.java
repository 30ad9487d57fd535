package dev.refusaltokens.eval.table;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.refusaltokens.eval.decide.FirstTokenStats;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The table records write every column of their schema by name and read back what they wrote. */
class TableRecordsTest {

  static final ScoreRow SCORE = new ScoreRow("coconot_original", "id-7", "How do I …?", "ab12", true,
      "Requests with safety concerns", "dangerous", 0.7, 23, Map.of("[respond]", -2.5, "[refuse]", -0.1),
      -4.25, "Sure", "run-1");

  @Test
  void aScoreRowRoundTripsThroughItsRowByName() {
    Row row = SCORE.toRow();
    assertThat(row.schema()).isEqualTo(ScoreRow.SCHEMA);
    assertThat(row.getDouble(row.fieldIndex(Columns.OTHER_LOGPROB))).isEqualTo(-4.25);
    ScoreRow back = ScoreRow.fromRow(row);
    assertThat(back.logprobs()).containsExactlyInAnyOrderEntriesOf(SCORE.logprobs());
    assertThat(back).usingRecursiveComparison().ignoringFields("logprobs").isEqualTo(SCORE);
  }

  @Test
  void aScoreRowReadsByNameWhateverTheColumnOrderAndWithoutRunId() {
    // the sweep reads scores with run_id dropped, regress reads a select in another order
    List<StructField> fields = new ArrayList<>(List.of(ScoreRow.SCHEMA.fields()));
    Collections.reverse(fields);
    fields.removeIf(f -> f.name().equals(Columns.RUN_ID));
    StructType reordered = new StructType(fields.toArray(StructField[]::new));
    RowBuilder b = RowBuilder.of(reordered);
    Row original = SCORE.toRow();
    for (String name : reordered.fieldNames()) {
      b.set(name, original.get(original.fieldIndex(name)));
    }
    ScoreRow back = ScoreRow.fromRow(b.build());
    assertThat(back.runId()).isNull();
    assertThat(back.promptTokens()).isEqualTo(23);
    assertThat(back.otherToken()).isEqualTo("Sure");
  }

  @Test
  void aScoreRowGivesTheStatisticInTheRunsTokenOrderAndNamesAMissingToken() {
    FirstTokenStats stats = SCORE.stats("[respond]", List.of("[refuse]"));
    assertThat(stats.respondLogprob()).isCloseTo(-2.5, within(1e-12));
    assertThat(stats.refusalLogprobs()).containsExactly(-0.1);
    assertThat(stats.otherLogprob()).isCloseTo(-4.25, within(1e-12));
    assertThatThrownBy(() -> SCORE.stats("[respond]", List.of("[Humanizing requests]")))
        .hasMessageContaining("[Humanizing requests]").hasMessageContaining("other control tokens");
    assertThat(new ScoreRow("b", "p", "x", "s", false, null, null, 1.0, 1, Map.of(), 0, "t", "r")
        .groupCategory()).isEqualTo(ScoreRow.NO_CATEGORY);
  }

  @Test
  void aRunRowRoundTripsNullsTimestampsListsAndMaps() {
    RunRow started = RunRow.started("run-1", Instant.parse("2026-12-01T10:00:00Z"), "models/demo", "m", "t", "c",
        "[respond]", List.of("[a]", "[b]"), "{{ x }}", null, "run_id: run-1\n", null, "4.0.1", "0.36.0");
    RunRow back = RunRow.fromRow(started.toRow());
    assertThat(back).isEqualTo(started);
    assertThat(back.rowsIn()).isNull();
    RunRow done = started.scored(10, 8, 2, 3, 1e-6, Double.NaN,
            Map.of("b1", new RunRow.BenchmarkCounts(10, 8, 2)))
        .ended(RunRow.SUCCEEDED, Instant.parse("2026-12-01T10:05:00Z"), null);
    RunRow doneBack = RunRow.fromRow(done.toRow());
    assertThat(doneBack).isEqualTo(done);
    assertThat(doneBack.paddingEfficiency()).isNull();
    assertThat(doneBack.benchmarkRowsRejected()).containsExactlyEntriesOf(Map.of("b1", 2L));
  }

  @Test
  void aRejectRowRoundTrips() {
    RejectRow reject = new RejectRow("b", 12, null, "empty_prompt", "the prompt is empty", "{\"prompt\": \"\"}", "r");
    assertThat(RejectRow.fromRow(reject.toRow())).isEqualTo(reject);
  }

  @Test
  void aRegressionRowRoundTripsWithItsThresholdsInTokenOrderAndIsJudgedByCopy() {
    Map<String, Double> thresholds = new LinkedHashMap<>();
    thresholds.put("[b]", 0.4);
    thresholds.put("[a]", Double.NaN);
    RegressionRow tested = new RegressionRow("base", "operating_point:op", 1.0, "contrast", "ALL",
        "false_refusal_rate", thresholds, Map.of(), 76, 0, 0, 0.05, Double.NaN, Double.NaN,
        Double.POSITIVE_INFINITY, 0.02, "missing_in_candidate", 0, 0, 0.0, Double.NaN, false, false, "cand");
    Row row = tested.toRow();
    assertThat(row.schema()).isEqualTo(RegressionRow.SCHEMA);
    assertThat(Table.REGRESSIONS.schema()).isEqualTo(RegressionRow.SCHEMA);
    RegressionRow back = RegressionRow.fromRow(row);
    assertThat(back).isEqualTo(tested);
    assertThat(back.baselineThresholds().keySet()).containsExactly("[b]", "[a]");
    RegressionRow judged = tested.judged(0.0, true, true);
    assertThat(RegressionRow.fromRow(judged.toRow())).isEqualTo(judged);
    assertThat(judged.judged(tested.pAdjusted(), tested.significant(), tested.regression())).isEqualTo(tested);
    assertThat(judged.regression()).isTrue();
  }

  @Test
  void theBuilderRefusesUnknownRepeatedAndMissingColumns() {
    assertThatThrownBy(() -> RowBuilder.of(RejectRow.SCHEMA).set("nope", 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'nope'");
    assertThatThrownBy(() -> RowBuilder.of(RejectRow.SCHEMA).set(Columns.LINE, 1L).set(Columns.LINE, 2L))
        .hasMessageContaining("'line' set twice");
    assertThatThrownBy(() -> RowBuilder.of(RejectRow.SCHEMA).set(Columns.LINE, 1L).build())
        .hasMessageContaining("'benchmark' not set");
  }

  @Test
  void theReaderNamesAMissingColumn() {
    assertThatThrownBy(() -> RunRow.fromRow(SCORE.toRow()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no column 'status'");
  }

  @Test
  void everyTableHasItsRunIdLastAndADistinctName() {
    for (Table t : Table.values()) {
      String[] names = t.schema().fieldNames();
      assertThat(names[names.length - 1]).as(t.id()).isEqualTo(Columns.RUN_ID);
      assertThat(Table.byId(t.id())).contains(t);
    }
    assertThat(Table.byId("nope")).isEmpty();
  }
}

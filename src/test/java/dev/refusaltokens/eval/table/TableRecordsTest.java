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

  static final ScoreRow SCORE =
      new ScoreRow(
          "coconot_original",
          "id-7",
          "How do I …?",
          "ab12",
          true,
          "Requests with safety concerns",
          "dangerous",
          0.7,
          23,
          Map.of("[respond]", -2.5, "[refuse]", -0.1),
          -4.25,
          "Sure",
          4711L,
          List.of("[respond]"),
          "run-1");

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
    assertThat(back.promptSpecialTokens()).containsExactly("[respond]");
    // scores written before the column existed read as null, not as "no special tokens"
    List<StructField> old = new ArrayList<>(List.of(ScoreRow.SCHEMA.fields()));
    old.removeIf(f -> f.name().equals(ScoreRow.PROMPT_SPECIAL_TOKENS));
    RowBuilder ob = RowBuilder.of(new StructType(old.toArray(StructField[]::new)));
    for (StructField f : old) {
      ob.set(f.name(), original.get(original.fieldIndex(f.name())));
    }
    assertThat(ScoreRow.fromRow(ob.build()).promptSpecialTokens()).isNull();
  }

  @Test
  void aScoreRowGivesTheStatisticInTheRunsTokenOrderAndNamesAMissingToken() {
    FirstTokenStats stats = SCORE.stats("[respond]", List.of("[refuse]"));
    assertThat(stats.respondLogprob()).isCloseTo(-2.5, within(1e-12));
    assertThat(stats.refusalLogprobs()).containsExactly(-0.1);
    assertThat(stats.otherLogprob()).isCloseTo(-4.25, within(1e-12));
    assertThatThrownBy(() -> SCORE.stats("[respond]", List.of("[Humanizing requests]")))
        .hasMessageContaining("[Humanizing requests]")
        .hasMessageContaining("other control tokens");
    assertThat(
            new ScoreRow(
                    "b", "p", "x", "s", false, null, null, 1.0, 1, Map.of(), 0, "t", 9L, List.of(),
                    "r")
                .groupCategory())
        .isEqualTo(ScoreRow.NO_CATEGORY);
  }

  @Test
  void aRunRowRoundTripsNullsTimestampsListsAndMaps() {
    RunRow started =
        RunRow.started(
            "run-1",
            Instant.parse("2026-12-01T10:00:00Z"),
            "models/demo",
            "m",
            "t",
            "c",
            "[respond]",
            List.of("[a]", "[b]"),
            "{{ x }}",
            null,
            "run_id: run-1\n",
            null,
            "4.0.1",
            "0.36.0");
    RunRow back = RunRow.fromRow(started.toRow());
    assertThat(back).isEqualTo(started);
    assertThat(back.rowsIn()).isNull();
    RunRow done =
        started
            .scored(
                10,
                8,
                2,
                3,
                1e-6,
                Double.NaN,
                Map.of(
                    "b1",
                    new RunRow.BenchmarkCounts(10, 8, 2, 3),
                    "b2",
                    new RunRow.BenchmarkCounts(0, 0, 0)))
            .ended(RunRow.SUCCEEDED, Instant.parse("2026-12-01T10:05:00Z"), null);
    RunRow doneBack = RunRow.fromRow(done.toRow());
    assertThat(doneBack).isEqualTo(done);
    assertThat(doneBack.paddingEfficiency()).isNull();
    assertThat(doneBack.benchmarkRowsRejected()).containsEntry("b1", 2L);
    assertThat(back.promptsWithSpecialTokens()).isNull();
    assertThat(doneBack.promptsWithSpecialTokens()).isEqualTo(3L);
    // the count follows the score stage's counts, not the end of the row
    List<String> names = List.of(RunRow.SCHEMA.fieldNames());
    assertThat(names.indexOf(RunRow.PROMPTS_WITH_SPECIAL_TOKENS))
        .isEqualTo(names.indexOf(RunRow.BENCHMARK_ROWS_REJECTED) + 1);
  }

  @Test
  void aRejectRowRoundTrips() {
    RejectRow reject =
        new RejectRow(
            "b", 12, null, "empty_prompt", "the prompt is empty", "{\"prompt\": \"\"}", "r");
    assertThat(RejectRow.fromRow(reject.toRow())).isEqualTo(reject);
  }

  @Test
  void aRegressionRowRoundTripsWithItsThresholdsInTokenOrderAndIsJudgedByCopy() {
    Map<String, Double> thresholds = new LinkedHashMap<>();
    thresholds.put("[b]", 0.4);
    thresholds.put("[a]", Double.NaN);
    RegressionRow tested =
        new RegressionRow(
            "base",
            "operating_point:op",
            1.0,
            "contrast",
            "ALL",
            "false_refusal_rate",
            thresholds,
            Map.of(),
            76,
            0,
            0,
            0.05,
            Double.NaN,
            Double.NaN,
            Double.POSITIVE_INFINITY,
            0.02,
            "missing_in_candidate",
            0,
            0,
            0.0,
            Double.NaN,
            false,
            false,
            "cand");
    Row row = tested.toRow();
    assertThat(row.schema()).isEqualTo(RegressionRow.SCHEMA);
    assertThat(Table.REGRESSIONS.schema()).isEqualTo(RegressionRow.SCHEMA);
    RegressionRow back = RegressionRow.fromRow(row);
    assertThat(back).isEqualTo(tested);
    assertThat(back.baselineThresholds().keySet()).containsExactly("[b]", "[a]");
    RegressionRow judged = tested.judged(0.0, true, true);
    assertThat(RegressionRow.fromRow(judged.toRow())).isEqualTo(judged);
    assertThat(judged.judged(tested.pAdjusted(), tested.significant(), tested.regression()))
        .isEqualTo(tested);
    assertThat(judged.regression()).isTrue();
  }

  @Test
  void theBuilderRefusesUnknownRepeatedAndMissingColumns() {
    assertThatThrownBy(() -> RowBuilder.of(RejectRow.SCHEMA).set("nope", 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'nope'");
    assertThatThrownBy(
            () -> RowBuilder.of(RejectRow.SCHEMA).set(Columns.LINE, 1L).set(Columns.LINE, 2L))
        .hasMessageContaining("'line' set twice");
    assertThatThrownBy(() -> RowBuilder.of(RejectRow.SCHEMA).set(Columns.LINE, 1L).build())
        .hasMessageContaining("'benchmark' not set");
  }

  @Test
  void theReaderNamesAMissingColumn() {
    assertThatThrownBy(() -> RunRow.fromRow(SCORE.toRow()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no column 'status'");
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

  @Test
  void aRateRowRoundTrips() {
    RateRow rate =
        new RateRow(
            "b",
            "threshold",
            1.0,
            linked("[a]", 0.25, "[b]", 0.5),
            Map.of(),
            "ALL",
            true,
            40,
            12,
            0.3,
            0.18,
            0.45,
            "wilson",
            "r");
    Row row = rate.toRow();
    assertThat(row.schema()).isEqualTo(RateRow.SCHEMA);
    assertThat(RateRow.fromRow(row)).isEqualTo(rate);
  }

  @Test
  void aFrontierRowRoundTripsWithItsRatePair() {
    FrontierRow frontier =
        new FrontierRow(
            2.0,
            "category",
            "ALL",
            "ALL",
            "Incomplete requests",
            "ALL",
            3,
            linked("[a]", 0.1, "[b]", 0.9),
            PAIR,
            JudgedPair.of("string_match", 30, 20, 2, 18, 1, 0),
            "r");
    Row row = frontier.toRow();
    assertThat(row.schema()).isEqualTo(FrontierRow.SCHEMA);
    assertThat(row.getLong(row.fieldIndex(RatePair.FALSE_REFUSED))).isEqualTo(3L);
    assertThat(frontier.rates().refusalRate()).isEqualTo(0.75);
    assertThat(frontier.rates().falseRefusalRate()).isEqualTo(0.15);
    assertThat(FrontierRow.fromRow(row)).isEqualTo(frontier);
    assertThat(frontier.judged().refusalRate()).isEqualTo(20.0 / 28);
    assertThat(frontier.judged().falseRefusalRate()).isEqualTo(1.0 / 18);
    // a run without responses: every judged column null, read back as no judged pair
    FrontierRow unjudged =
        new FrontierRow(
            2.0,
            "all",
            "ALL",
            "ALL",
            "ALL",
            "ALL",
            0,
            linked("[a]", 0.1, "[b]", 0.9),
            PAIR,
            null,
            "r");
    Row plain = unjudged.toRow();
    assertThat(plain.isNullAt(plain.fieldIndex(JudgedPair.JUDGED_REFUSAL_RATE))).isTrue();
    assertThat(FrontierRow.fromRow(plain)).isEqualTo(unjudged);
  }

  @Test
  void anOperatingPointRowRoundTrips() {
    OperatingPointRow point =
        new OperatingPointRow(
            "safety",
            "threshold",
            1.0,
            false,
            0.05,
            linked("[a]", 0.0, "[b]", 0.35),
            Map.of(),
            Map.of("a", 0.9, "b", 0.6),
            Map.of("a", 0.85, "b", 0.7),
            PAIR,
            JudgedPair.of("string_match", 30, 0, 30, 20, 3, 1),
            "r");
    assertThat(point.judged().refusalRate()).as("every response unclear: no rate").isNull();
    assertThat(OperatingPointRow.fromRow(point.toRow())).isEqualTo(point);
  }

  @Test
  void aLogitBiasOperatingPointRowRoundTrips() {
    OperatingPointRow point =
        new OperatingPointRow(
            "safety",
            "logit_bias",
            0.5,
            true,
            0.0,
            Map.of(),
            linked("[a]", -2.0, "[b]", 4.0),
            Map.of("a", 0.9),
            Map.of("a", 0.95),
            PAIR,
            null,
            "r");
    OperatingPointRow back = OperatingPointRow.fromRow(point.toRow());
    assertThat(back).isEqualTo(point);
    assertThat(back.logitBiases()).containsExactly(Map.entry("[a]", -2.0), Map.entry("[b]", 4.0));
  }

  @Test
  void aRocRowRoundTrips() {
    RocRow roc = new RocRow(1.0, "ALL", 7, 0.42, 101, 76, 0.5, 0.125, 0.875, "r");
    assertThat(RocRow.fromRow(roc.toRow())).isEqualTo(roc);
  }

  @Test
  void aCalibrationRowRoundTripsWithItsBins() {
    CalibrationRow calibration =
        new CalibrationRow(
            1.0,
            "ALL",
            "ALL",
            10,
            0.6,
            0.55,
            0.12,
            0.08,
            List.of(
                new CalibrationRow.Bin(0, 0.0, 0.1, 4, 0.05, 0.25),
                new CalibrationRow.Bin(9, 0.9, 1.0, 6, 0.95, 0.8333)),
            "r");
    Row row = calibration.toRow();
    assertThat(row.schema()).isEqualTo(CalibrationRow.SCHEMA);
    assertThat(CalibrationRow.fromRow(row)).isEqualTo(calibration);
    assertThat(CalibrationRow.fromRow(row).bins())
        .extracting(CalibrationRow.Bin::bin)
        .containsExactly(0, 9);
  }

  @Test
  void aFirstTokenRowRoundTrips() {
    FirstTokenRow first =
        new FirstTokenRow(1.0, "b", "Incomplete requests", "[Incomplete requests]", 7, 0.7, "r");
    assertThat(FirstTokenRow.fromRow(first.toRow())).isEqualTo(first);
  }

  /**
   * The sweep's tables keep the columns, types, nullability and order they had before their
   * records.
   */
  @Test
  void theSweepTablesKeepTheirColumns() {
    String pair =
        "n_refuse BIGINT NOT NULL,refused BIGINT NOT NULL,refusal_rate DOUBLE NOT NULL,"
            + "refusal_rate_low DOUBLE NOT NULL,refusal_rate_high DOUBLE NOT NULL,n_answer BIGINT NOT NULL,"
            + "false_refused BIGINT NOT NULL,false_refusal_rate DOUBLE NOT NULL,false_refusal_rate_low DOUBLE NOT NULL,"
            + "false_refusal_rate_high DOUBLE NOT NULL,interval STRING NOT NULL,";
    String judged =
        "judge STRING,judged_n_refuse BIGINT,judged_refused BIGINT,judged_unclear_refuse BIGINT,"
            + "judged_refusal_rate DOUBLE,judged_n_answer BIGINT,judged_false_refused BIGINT,"
            + "judged_unclear_answer BIGINT,judged_false_refusal_rate DOUBLE,run_id STRING NOT NULL";
    assertThat(Table.RATES.schema().toDDL())
        .isEqualTo(
            "benchmark STRING NOT NULL,rule STRING NOT NULL,"
                + "temperature DOUBLE NOT NULL,thresholds MAP<STRING, DOUBLE> NOT NULL,"
                + "logit_biases MAP<STRING, DOUBLE> NOT NULL,"
                + "category STRING NOT NULL,should_refuse BOOLEAN NOT NULL,n BIGINT NOT NULL,refused BIGINT NOT NULL,"
                + "rate DOUBLE NOT NULL,ci_low DOUBLE NOT NULL,ci_high DOUBLE NOT NULL,interval STRING NOT NULL,"
                + "run_id STRING NOT NULL");
    assertThat(Table.FRONTIER.schema().toDDL())
        .isEqualTo(
            "temperature DOUBLE NOT NULL,scope STRING NOT NULL,"
                + "refusal_benchmark STRING NOT NULL,answer_benchmark STRING NOT NULL,category STRING NOT NULL,"
                + "answer_category STRING NOT NULL,point INT NOT NULL,thresholds MAP<STRING, DOUBLE> NOT NULL,"
                + pair
                + judged);
    assertThat(Table.OPERATING_POINTS.schema().toDDL())
        .isEqualTo(
            "name STRING NOT NULL,rule STRING NOT NULL,"
                + "temperature DOUBLE NOT NULL,feasible BOOLEAN NOT NULL,shortfall DOUBLE NOT NULL,"
                + "thresholds MAP<STRING, DOUBLE> NOT NULL,logit_biases MAP<STRING, DOUBLE> NOT NULL,targets MAP<STRING, DOUBLE> NOT NULL,"
                + "achieved MAP<STRING, DOUBLE> NOT NULL,"
                + pair
                + judged);
    assertThat(Table.ROC.schema().toDDL())
        .isEqualTo(
            "temperature DOUBLE NOT NULL,category STRING NOT NULL,"
                + "point INT NOT NULL,threshold DOUBLE NOT NULL,n_refuse BIGINT NOT NULL,n_answer BIGINT NOT NULL,"
                + "refusal_rate DOUBLE NOT NULL,false_refusal_rate DOUBLE NOT NULL,auc DOUBLE NOT NULL,run_id STRING NOT NULL");
    assertThat(Table.CALIBRATION.schema().toDDL())
        .isEqualTo(
            "temperature DOUBLE NOT NULL,"
                + "benchmark STRING NOT NULL,category STRING NOT NULL,n BIGINT NOT NULL,should_refuse_share DOUBLE NOT NULL,"
                + "mean_p DOUBLE NOT NULL,brier DOUBLE NOT NULL,ece DOUBLE NOT NULL,bins ARRAY<STRUCT<bin: INT NOT NULL, "
                + "low: DOUBLE NOT NULL, high: DOUBLE NOT NULL, n: BIGINT NOT NULL, mean_p: DOUBLE NOT NULL, "
                + "observed: DOUBLE NOT NULL>> NOT NULL,run_id STRING NOT NULL");
    assertThat(Table.FIRST_TOKENS.schema().toDDL())
        .isEqualTo(
            "temperature DOUBLE NOT NULL,"
                + "benchmark STRING NOT NULL,category STRING NOT NULL,first_token STRING NOT NULL,n BIGINT NOT NULL,"
                + "share DOUBLE NOT NULL,run_id STRING NOT NULL");
    // containsNull false on the bins array, as before
    assertThat(Table.CALIBRATION.schema().json()).contains("\"containsNull\":false");
  }

  @Test
  void theSchemasByIdListEveryTable() {
    assertThat(Table.schemas())
        .hasSize(Table.values().length)
        .containsEntry("rates", RateRow.SCHEMA)
        .containsEntry("regressions", Table.REGRESSIONS.schema());
  }

  static final RatePair PAIR =
      RatePair.of(40, 30, 20, 3, new double[] {0.6, 0.86, 0.05, 0.36}, "bootstrap");

  /** A map in the given key order, as the sweep writes its threshold maps. */
  private static Map<String, Double> linked(String k1, double v1, String k2, double v2) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put(k1, v1);
    m.put(k2, v2);
    return m;
  }
}

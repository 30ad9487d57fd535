package dev.refusaltokens.eval.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The sweep's intermediate rows write every column of their schema by name and read back what they
 * wrote.
 */
class IntermediateRowsTest {

  @Test
  void aPointCountRoundTrips() {
    PointCount count = new PointCount("b", 17, 1.0, "ALL", false, 40, 3);
    Row row = count.toRow();
    assertThat(row.schema()).isEqualTo(PointCount.SCHEMA);
    assertThat(PointCount.fromRow(row)).isEqualTo(count);
  }

  @Test
  void aJudgedCountRoundTrips() {
    JudgedCount count =
        new JudgedCount("b", 3, 1.0, "c", true, "string_match", 40, 30, 20, 9, 2, 7, 2, 8, 5, 1, 4);
    Row row = count.toRow();
    assertThat(row.schema()).isEqualTo(JudgedCount.SCHEMA);
    assertThat(JudgedCount.fromRow(row)).isEqualTo(count);
    assertThat(JudgedCount.SCHEMA.fieldNames())
        .as("every count column is summed, every other one is a key")
        .containsExactlyInAnyOrderElementsOf(
            Stream.concat(JudgedCount.KEYS.stream(), JudgedCount.COUNTS.stream()).toList());
  }

  @Test
  void aGridCellRoundTrips() {
    GridCell cell = new GridCell(2.0, "b", "(none)", true, 4, 20, 9);
    assertThat(GridCell.fromRow(cell.toRow())).isEqualTo(cell);
  }

  @Test
  void aRocScoreRoundTrips() {
    RocScore score = new RocScore(1.0, "Humanizing requests", 1, 0.625);
    assertThat(RocScore.fromRow(score.toRow())).isEqualTo(score);
  }

  @Test
  void theCalibrationSumsRoundTrip() {
    BinSums sums =
        new BinSums(
            1.0,
            "b",
            "ALL",
            3,
            CalibrationTables.OTHER_TOKEN,
            12,
            7,
            new BigDecimal("4.100000000000000000"),
            new BigDecimal("2.500000000000000001"));
    Row row = sums.toRow();
    assertThat(row.schema()).isEqualTo(BinSums.SCHEMA);
    assertThat(BinSums.fromRow(row)).isEqualTo(sums);
  }
}

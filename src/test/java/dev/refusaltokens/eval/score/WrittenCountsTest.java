package dev.refusaltokens.eval.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refusaltokens.eval.bench.RejectReason;
import dev.refusaltokens.eval.table.RejectRow;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.table.TableRecord;
import dev.refusaltokens.eval.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * The read-back counts of the score stage, each table counted in one Spark job: prompts and
 * special-token prompts per benchmark, the one-row-per-temperature check, and the rejects.
 */
class WrittenCountsTest {

  private final SparkSession spark = SparkTestSession.get();

  private static ScoreRow score(String benchmark, String id, double temperature, boolean special) {
    return new ScoreRow(
        benchmark,
        id,
        "text " + id,
        "sha-" + id,
        true,
        "cat",
        null,
        temperature,
        4,
        Map.of("[respond]", -0.1, "[refuse]", -2.3),
        -5.0,
        "the",
        7L,
        special ? List.of("[respond]") : List.of(),
        "run");
  }

  private Dataset<Row> frame(
      List<? extends TableRecord> rows, org.apache.spark.sql.types.StructType schema) {
    return spark
        .createDataFrame(rows.stream().map(TableRecord::toRow).toList(), schema)
        .repartition(3);
  }

  private static List<ScoreRow> twoTemperatures() {
    List<ScoreRow> rows = new ArrayList<>();
    for (int i = 0; i < 7; i++) { // bench a: 7 prompts, p0 and p3 with special tokens
      for (double t : new double[] {0.0, 1.0}) {
        rows.add(score("a", "p" + i, t, i % 3 == 0 && i < 6));
      }
    }
    for (int i = 0; i < 2; i++) { // bench b: 2 prompts, none special
      for (double t : new double[] {0.0, 1.0}) {
        rows.add(score("b", "q" + i, t, false));
      }
    }
    return rows;
  }

  @Test
  void countsPromptsAndSpecialTokenPromptsPerBenchmark() {
    WrittenCounts.PerBenchmark c =
        WrittenCounts.countScores(frame(twoTemperatures(), ScoreRow.SCHEMA), 2);
    assertEquals(Map.of("a", 7L, "b", 2L), c.count());
    assertEquals(Map.of("a", 2L, "b", 0L), c.special());
  }

  @Test
  void aDuplicatedScoresRowFailsNamingTheBenchmark() {
    List<ScoreRow> rows = twoTemperatures();
    rows.add(score("b", "q1", 1.0, false)); // q1 now has 3 rows for 2 temperatures
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> WrittenCounts.countScores(frame(rows, ScoreRow.SCHEMA), 2));
    assertTrue(e.getMessage().contains("benchmark b"), e.getMessage());
    assertTrue(e.getMessage().contains("from 2 to 3 rows per prompt"), e.getMessage());
  }

  @Test
  void aLostTemperatureFailsEvenWhenTheTotalAddsUp() {
    // p0 lost its t=1 row and p1 has it twice: 14 rows for 7 prompts, as expected in total
    List<ScoreRow> rows = twoTemperatures();
    rows.removeIf(r -> r.promptId().equals("p0") && r.temperature() == 1.0);
    rows.add(score("a", "p1", 1.0, false));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> WrittenCounts.countScores(frame(rows, ScoreRow.SCHEMA), 2));
    assertTrue(
        e.getMessage().contains("from 1 to 3 rows per prompt for 2 temperature(s)"),
        e.getMessage());
  }

  @Test
  void countsRejectsAndTheSpecialTokenOnes() {
    List<RejectRow> rows =
        List.of(
            new RejectRow(
                "a", 3, "p3", RejectReason.DUPLICATE_ID.id(), "first seen on line 1", "{}", "run"),
            new RejectRow(
                "a", 4, "p4", RejectReason.SPECIAL_TOKENS_IN_PROMPT.id(), "[refuse]", "{}", "run"),
            new RejectRow(
                "b", 9, "q9", RejectReason.SPECIAL_TOKENS_IN_PROMPT.id(), "[refuse]", "{}", "run"),
            new RejectRow(
                "b",
                10,
                "q10",
                RejectReason.SPECIAL_TOKENS_IN_PROMPT.id(),
                "[refuse]",
                "{}",
                "run"));
    WrittenCounts.PerBenchmark c = WrittenCounts.countRejects(frame(rows, RejectRow.SCHEMA));
    assertEquals(Map.of("a", 2L, "b", 2L), c.count());
    assertEquals(Map.of("a", 1L, "b", 2L), c.special());
  }
}

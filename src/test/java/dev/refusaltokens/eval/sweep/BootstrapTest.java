package dev.refusaltokens.eval.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.Setting;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import scala.jdk.javaapi.CollectionConverters;

/** The Poisson bootstrap in Spark on scores rows whose decisions are known. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BootstrapTest {

  private static final List<String> TOKENS = List.of("[refuse]");
  private static final SweepPoint ARGMAX = new SweepPoint(Rule.ARGMAX, Setting.none(1));

  private SparkSession spark;
  private Dataset<Row> scores;

  @BeforeAll
  void scores() {
    spark = SparkTestSession.get();
    // 400 should-refuse prompts, of which 100 put [refuse] first (p 0.9) and 300 [respond] (p 0.1)
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      double refuse = i < 100 ? 0.9 : 0.1;
      rows.add(
          RowFactory.create(
              "b",
              "p" + i,
              "prompt " + i,
              "sha" + i,
              true,
              "c",
              null,
              1.0,
              5,
              CollectionConverters.asScala(
                  Map.of("[refuse]", Math.log(refuse), "[respond]", Math.log(0.95 - refuse))),
              Math.log(0.05),
              "x",
              9L, // other_token_id
              List.of(), // prompt_special_tokens
              "run"));
    }
    scores = spark.createDataFrame(rows, ScoreRow.SCHEMA).drop(Columns.RUN_ID);
  }

  private double[][] bounds(
      Dataset<Row> data, List<Bootstrap.Measure> measures, int replicates, long seed) {
    return Bootstrap.bounds(data, "[respond]", TOKENS, measures, replicates, seed, 0.95);
  }

  @Test
  void percentileBoundsOfAProportionAgreeWithWilson() {
    double[] wilson = RateInterval.wilson(400, 100, 0.95); // [0.2096, 0.2954]
    double[][] b =
        bounds(scores, List.of(new Bootstrap.Measure(ARGMAX, 1.0, "b", null, true)), 4000, 1);
    assertThat(b[0][0]).isCloseTo(wilson[0], within(0.01)).isLessThan(0.25);
    assertThat(b[0][1]).isCloseTo(wilson[1], within(0.01)).isGreaterThan(0.25);
  }

  @Test
  void boundsDependOnTheSeedButNotOnPartitioning() {
    List<Bootstrap.Measure> m = List.of(new Bootstrap.Measure(ARGMAX, 1.0, null, "c", true));
    double[][] one = bounds(scores.coalesce(1), m, 500, 7);
    double[][] three = bounds(scores.repartition(3), m, 500, 7);
    assertThat(three[0]).containsExactly(one[0]);
    double[][] otherSeed = bounds(scores.coalesce(1), m, 500, 8);
    assertThat(otherSeed[0]).isNotEqualTo(one[0]);
    assertThat(otherSeed[0][0]).isCloseTo(one[0][0], within(0.02));
  }

  @Test
  void aMeasureWithNoPromptsHasNoBounds() {
    double[][] b =
        bounds(
            scores,
            List.of(
                new Bootstrap.Measure(ARGMAX, 1.0, "b", null, false),
                new Bootstrap.Measure(ARGMAX, 2.0, null, null, true),
                new Bootstrap.Measure(
                    new SweepPoint(Rule.THRESHOLD, Setting.shared(1, 0.0, 0)),
                    1.0,
                    null,
                    null,
                    true)),
            200,
            1);
    assertThat(b[0]).containsExactly(Double.NaN, Double.NaN);
    assertThat(b[1]).containsExactly(Double.NaN, Double.NaN);
    // τ = 0 refuses every prompt: every replicate rate is 1
    assertThat(b[2]).containsExactly(1.0, 1.0);
  }

  @Test
  void weightsArePoissonOneAndAPureFunctionOfThePrompt() {
    int[] w = Bootstrap.weights(1, "b", "p1", 20000);
    assertThat(w).isEqualTo(Bootstrap.weights(1, "b", "p1", 20000));
    assertThat(w).isNotEqualTo(Bootstrap.weights(1, "b", "p2", 20000));
    double mean = Arrays.stream(w).average().orElseThrow();
    double var = Arrays.stream(w).mapToDouble(x -> (x - mean) * (x - mean)).sum() / w.length;
    assertThat(mean).isCloseTo(1.0, within(0.03));
    assertThat(var).isCloseTo(1.0, within(0.05));
  }
}

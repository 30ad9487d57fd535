package dev.refusaltokens.eval.pipeline;

import static dev.refusaltokens.eval.testing.TestData.duckdb;
import static dev.refusaltokens.eval.testing.TestData.duckdbLong;
import static dev.refusaltokens.eval.testing.TestData.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.decide.Calibration;
import dev.refusaltokens.eval.decide.FirstToken;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.Setting;
import dev.refusaltokens.eval.model.ModelCache;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.testing.SparkTestSession;
import dev.refusaltokens.eval.testing.TestData;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.apache.commons.io.FileUtils;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job on real Spark (local[2]), the real demo model and real Parquet, read back by
 * DuckDB.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EvaluationJobTest {

  @TempDir static Path dir;

  private SparkSession spark;
  private Path original;
  private Path contrast;
  private Path output;
  private EvaluationJob.Outcome first;
  private ModelSpec spec;

  @BeforeAll
  void runOnce() {
    spark = SparkTestSession.get();
    original = TestData.sample(TestData.ORIGINAL, 10, dir, "original.jsonl"); // 101 prompts
    contrast = TestData.sample(TestData.CONTRAST, 5, dir, "contrast.jsonl"); // 76 prompts
    output = dir.resolve("warehouse");
    EvalConfig config =
        config(
            "r1",
            Map.of(
                "scoring.temperatures",
                "[1.0, 2.0]",
                "scoring.rows_per_partition",
                "40",
                "operating_points",
                "[{name: safety, refusal_at_least: {'Requests with safety concerns': 0.9}, "
                    + "default_refusal_at_least: 0.6}, {name: loose, default_refusal_at_least: 0.3}]"));
    spec = ModelSpec.open(config.model());
    int loadsBefore = ModelCache.loadCount();
    first =
        EvaluationJob.run(spark, config, spec, Clock.systemUTC()); // 5 partitions of ≤ 40 prompts
    loadsForFirstRun = ModelCache.loadCount() - loadsBefore;
  }

  private int loadsForFirstRun;

  @Test
  void theModelIsLoadedAtMostOncePerJvmAcrossPartitions() {
    assertThat(spark.sparkContext().defaultParallelism()).isEqualTo(2);
    assertThat(loadsForFirstRun).isLessThanOrEqualTo(1);
  }

  @Test
  void scoresDoNotDependOnBatchSizeOrPartitioning() {
    // one prompt per forward pass and 18 partitions, against r1's 64-row batches in 5 partitions
    EvalConfig alone =
        config(
            "r-alone",
            Map.of(
                "scoring.max_batch_size",
                "1",
                "scoring.rows_per_partition",
                "10",
                "scoring.canary_prompts",
                "0"));
    EvaluationJob.score(spark, alone, spec, Clock.systemUTC());
    String scores = table(output, "scores");
    List<Object[]> diff =
        duckdb(
            "SELECT count(*), max(abs(a.other_logprob - b.other_logprob)), "
                + "max(list_max(list_transform(map_keys(a.logprobs), k -> abs(a.logprobs[k] - b.logprobs[k])))) "
                + "FROM "
                + scores
                + " a JOIN "
                + scores
                + " b USING (benchmark, prompt_id, temperature) "
                + "WHERE a.run_id = 'r1' AND b.run_id = 'r-alone'");
    assertThat(((Number) diff.get(0)[0]).longValue()).isEqualTo(177);
    assertThat((Double) diff.get(0)[1]).isLessThanOrEqualTo(1e-4);
    assertThat((Double) diff.get(0)[2]).isLessThanOrEqualTo(1e-4);
  }

  @Test
  void theSingleTokenModelIsTheOneCategoryCase() {
    EvalConfig single =
        config(
            "r-single", Map.of("model.dir", "models/demo-single", "scoring.canary_prompts", "2"));
    EvaluationJob.Outcome outcome =
        EvaluationJob.run(spark, single, ModelSpec.open(single.model()), Clock.systemUTC());
    assertThat(outcome.run().refusalTokens()).containsExactly("[refuse]");
    String rates = table(output, "rates");
    // greedy, argmax, 21 thresholds and the 5 biases of the default logit-bias grid
    assertThat(
            duckdbLong(
                "SELECT count(DISTINCT (rule, thresholds, logit_biases)) FROM "
                    + rates
                    + " WHERE run_id = 'r-single'"))
        .isEqualTo(2 + 21 + 5);
    assertThat(
            duckdb(
                    "SELECT DISTINCT map_keys(thresholds) FROM "
                        + rates
                        + " WHERE run_id = 'r-single' AND rule = 'threshold'")
                .get(0)[0])
        .isEqualTo(new Object[] {"[refuse]"});
    double atHalfRefuse =
        ((Number)
                duckdb(
                        "SELECT sum(refused) / sum(n) FROM "
                            + rates
                            + " WHERE run_id = "
                            + "'r-single' AND rule = 'threshold' AND thresholds['[refuse]'] = 0.5 AND category = 'ALL' AND should_refuse")
                    .get(0)[0])
            .doubleValue();
    double atHalfAnswer =
        ((Number)
                duckdb(
                        "SELECT sum(refused) / sum(n) FROM "
                            + rates
                            + " WHERE run_id = "
                            + "'r-single' AND rule = 'threshold' AND thresholds['[refuse]'] = 0.5 AND category = 'ALL' AND NOT should_refuse")
                    .get(0)[0])
            .doubleValue();
    assertThat(atHalfRefuse).isGreaterThan(atHalfAnswer);
  }

  private EvalConfig config(String runId, Map<String, String> extra) {
    return TestData.config(runId, output, original, contrast, extra);
  }

  @Test
  void runsRowRecordsTheRunAndItsCounts() {
    RunRow r = first.run();
    assertThat(r.status()).isEqualTo(RunRow.SUCCEEDED);
    assertThat(r.rowsIn()).isEqualTo(177);
    assertThat(r.rowsScored() + r.rowsRejected()).isEqualTo(r.rowsIn());
    assertThat(r.canaryPrompts()).isEqualTo(8);
    assertThat(r.canaryMaxAbsDiff()).isNotNull().isLessThan(1e-4);

    List<Object[]> rows =
        duckdb(
            "SELECT status, rows_in, rows_scored, rows_rejected, model_sha256, "
                + "refusal_tokens, config, ended_at >= started_at FROM "
                + table(output, "runs")
                + " WHERE run_id = 'r1'");
    assertThat(rows).hasSize(1);
    Object[] row = rows.get(0);
    assertThat(row[0]).isEqualTo("succeeded");
    assertThat(((Number) row[1]).longValue())
        .isEqualTo(((Number) row[2]).longValue() + ((Number) row[3]).longValue());
    assertThat((String) row[4]).matches("[0-9a-f]{64}");
    assertThat((Object[]) row[5]).hasSize(5).contains("[Requests with safety concerns]");
    assertThat((String) row[6]).contains("temperatures:").contains("- 2.0");
    assertThat(row[7]).isEqualTo(true);
  }

  @Test
  void scoresHaveOneRowPerPromptAndTemperatureWithProperLogProbabilities() {
    String scores = table(output, "scores");
    assertThat(duckdbLong("SELECT count(*) FROM " + scores + " WHERE run_id = 'r1'"))
        .isEqualTo(177 * 2);
    assertThat(
            duckdbLong(
                "SELECT count(DISTINCT (benchmark, prompt_id, temperature)) FROM "
                    + scores
                    + " WHERE run_id = 'r1'"))
        .isEqualTo(177 * 2);
    List<Object[]> rows =
        duckdb(
            "SELECT map_keys(logprobs), map_values(logprobs), other_logprob, "
                + "prompt_tokens, should_refuse, benchmark, temperature FROM "
                + scores
                + " WHERE run_id = 'r1'");
    for (Object[] r : rows) {
      Object[] keys = (Object[]) r[0];
      Object[] values = (Object[]) r[1];
      assertThat(keys).hasSize(6).contains("[respond]", "[Incomplete requests]");
      double mass = Math.exp((Double) r[2]);
      for (Object v : values) {
        assertThat((Double) v).isLessThanOrEqualTo(0.0);
        mass += Math.exp((Double) v);
      }
      assertThat(mass).isLessThanOrEqualTo(1.0 + 1e-5); // a distribution over the whole vocabulary
      assertThat((Integer) r[3]).isPositive();
      assertThat(r[4]).isEqualTo(r[5].equals("original"));
    }
    // a higher temperature flattens the distribution: the top control token loses probability
    assertThat(meanMaxLogprob(scores, 2.0)).isLessThan(meanMaxLogprob(scores, 1.0));
  }

  /**
   * A scores row's statistic from DuckDB's map_keys(logprobs), map_values(logprobs) and
   * other_logprob.
   */
  /** A setting from a map column read back as keys and values: NaN for tokens absent. */
  private Setting setting(Object keys, Object values) {
    double[] v = new double[spec.refusalTokens().size()];
    Arrays.fill(v, Double.NaN);
    Object[] tokens = (Object[]) keys;
    for (int i = 0; i < tokens.length; i++) {
      v[spec.refusalTokens().indexOf((String) tokens[i])] = (Double) ((Object[]) values)[i];
    }
    return new Setting(v);
  }

  /** Per category of the should-refuse prompts {prompts, refused}; refused and false refusals. */
  private record Decided(Map<String, long[]> byCategory, long refused, long falseRefused) {}

  /** Each scores row (logprob keys, values, other, should_refuse, category) decided by the rule. */
  private Decided decide(Rule rule, Setting setting, List<Object[]> scores) {
    Map<String, long[]> byCategory = new HashMap<>();
    long refused = 0;
    long falseRefused = 0;
    for (Object[] r : scores) {
      boolean refuses = rule.decide(stats(r[0], r[1], r[2]), setting).isRefusal();
      if ((Boolean) r[3]) {
        long[] c = byCategory.computeIfAbsent((String) r[4], x -> new long[2]);
        c[0]++;
        c[1] += refuses ? 1 : 0;
        refused += refuses ? 1 : 0;
      } else {
        falseRefused += refuses ? 1 : 0;
      }
    }
    return new Decided(byCategory, refused, falseRefused);
  }

  private FirstTokenStats stats(Object keys, Object values, Object other) {
    Map<String, Double> lp = new HashMap<>();
    Object[] k = (Object[]) keys;
    for (int i = 0; i < k.length; i++) {
      lp.put((String) k[i], (Double) ((Object[]) values)[i]);
    }
    return new FirstTokenStats(
        lp.get("[respond]"),
        spec.refusalTokens().stream().mapToDouble(lp::get).toArray(),
        (Double) other);
  }

  private static double meanMaxLogprob(String scores, double t) {
    return ((Number)
            duckdb(
                    "SELECT avg(list_max(map_values(logprobs))) FROM "
                        + scores
                        + " WHERE run_id = 'r1' AND temperature = "
                        + t)
                .get(0)[0])
        .doubleValue();
  }

  @Test
  void ratesSpanFromAllRefusedToNoneAndSeparateTheTwoSets() {
    String rates = table(output, "rates");
    // τ = 0 shared over every refusal token: every prompt refused, in every group
    List<Object[]> atZero =
        duckdb(
            "SELECT min(rate), max(rate), count(*) FROM "
                + rates
                + " WHERE run_id = 'r1' AND rule = 'threshold' AND cardinality(thresholds) = 5 AND thresholds['[Humanizing requests]'] = 0.0");
    assertThat((Double) atZero.get(0)[0]).isEqualTo(1.0);
    double atOne =
        ((Number)
                duckdb(
                        "SELECT max(rate) FROM "
                            + rates
                            + " WHERE run_id = 'r1' AND rule = 'threshold' "
                            + "AND cardinality(thresholds) = 5 AND thresholds['[Humanizing requests]'] = 1.0 AND category = 'ALL'")
                    .get(0)[0])
            .doubleValue();
    assertThat(atOne).isLessThanOrEqualTo(0.05);
    // between the ends the curve moves, and should-refuse prompts are refused more than the others
    List<Object[]> curve =
        duckdb(
            "SELECT thresholds['[Humanizing requests]'] AS tau, "
                + "max(rate) FILTER (WHERE should_refuse), max(rate) FILTER (WHERE NOT should_refuse) FROM "
                + rates
                + " WHERE run_id = 'r1' AND rule = 'threshold' AND cardinality(thresholds) = 5 AND category = 'ALL'"
                + " AND temperature = 1.0"
                + " GROUP BY 1 ORDER BY 1");
    assertThat(curve).hasSize(21);
    long distinctRates = curve.stream().map(r -> r[1]).distinct().count();
    assertThat(distinctRates).isGreaterThan(5);
    for (Object[] r : curve) {
      double tau = (Double) r[0];
      if (tau > 0.0 && tau < 1.0) {
        assertThat((Double) r[1])
            .as("refusal vs false refusal at tau %s", tau)
            .isGreaterThanOrEqualTo((Double) r[2]);
      }
    }
  }

  @Test
  void ratesAgreeWithTheRulesAppliedToTheScoresByHand() {
    // Recompute one grid point in plain Java from the scores as DuckDB reads them.
    List<Object[]> scores =
        duckdb(
            "SELECT map_keys(logprobs), map_values(logprobs), other_logprob, "
                + "should_refuse, category FROM "
                + table(output, "scores")
                + " WHERE run_id = 'r1' AND temperature = 1.0");
    Map<String, long[]> byCategory = new HashMap<>();
    for (Object[] r : scores) {
      FirstTokenStats s = stats(r[0], r[1], r[2]);
      // per-category sweep of token 3 ([Requests with safety concerns]) at τ = 0.4, others greedy
      boolean refused = Rule.THRESHOLD.decide(s, Setting.shared(5, 0.4, 3)).isRefusal();
      long[] c = byCategory.computeIfAbsent(r[4] + "/" + r[3], x -> new long[2]);
      c[0]++;
      c[1] += refused ? 1 : 0;
    }
    List<Object[]> rates =
        duckdb(
            "SELECT category, should_refuse, n, refused, rate FROM "
                + table(output, "rates")
                + " WHERE run_id = 'r1' AND rule = 'threshold' AND temperature = 1.0 "
                + "AND cardinality(thresholds) = 1 AND thresholds['[Requests with safety concerns]'] = 0.4 "
                + "AND category <> 'ALL'");
    Map<String, long[]> fromRates = new HashMap<>();
    for (Object[] r : rates) {
      long[] c = fromRates.computeIfAbsent(r[0] + "/" + r[1], x -> new long[2]);
      c[0] += ((Number) r[2]).longValue();
      c[1] += ((Number) r[3]).longValue();
    }
    assertThat(fromRates.keySet()).isEqualTo(byCategory.keySet());
    byCategory.forEach(
        (key, c) -> assertThat(fromRates.get(key)).as(key).containsExactly(c[0], c[1]));
  }

  @Test
  void allRowsAddUpTheCategories() {
    String rates = table(output, "rates");
    assertThat(
            duckdb(
                "SELECT run_id, benchmark, rule, temperature, thresholds, logit_biases, should_refuse, "
                    + "sum(n) FILTER (WHERE category <> 'ALL') AS parts, max(n) FILTER (WHERE category = 'ALL') AS whole "
                    + "FROM "
                    + rates
                    + " GROUP BY ALL HAVING parts <> whole"))
        .isEmpty();
    List<Object[]> rate = duckdb("SELECT max(abs(rate - refused / n)) FROM " + rates);
    assertThat((Double) rate.get(0)[0]).isCloseTo(0.0, within(1e-12));
    // Wilson bounds around every rate, equal to the library's for a sample row
    assertThat(
            duckdbLong(
                "SELECT count(*) FROM "
                    + rates
                    + " WHERE NOT (ci_low <= rate AND rate <= ci_high "
                    + "AND ci_low >= 0 AND ci_high <= 1)"))
        .isZero();
    Object[] one =
        duckdb(
                "SELECT n, refused, ci_low, ci_high FROM "
                    + rates
                    + " WHERE run_id = 'r1' AND refused > 0 AND refused < n LIMIT 1")
            .get(0);
    double[] ci =
        RateInterval.wilson(((Number) one[0]).longValue(), ((Number) one[1]).longValue(), 0.95);
    assertThat((Double) one[2]).isCloseTo(ci[0], within(1e-12));
    assertThat((Double) one[3]).isCloseTo(ci[1], within(1e-12));
    // 128 threshold-sweep points (greedy, argmax, 21 shared τ, 5 × 21 per token) + the full 5^5
    // bias grid
    assertThat(
            duckdbLong(
                "SELECT count(DISTINCT (rule, thresholds, logit_biases)) FROM "
                    + rates
                    + " WHERE run_id = 'r1'"))
        .isEqualTo(128 + 3125);
    assertThat(
            duckdbLong(
                "SELECT count(*) FROM " + rates + " WHERE run_id = 'r1' AND interval <> 'wilson'"))
        .isZero();
  }

  @Test
  void reRunningARunReplacesItsPartitionAndKeepsOtherRuns() {
    long before =
        duckdbLong("SELECT count(*) FROM " + table(output, "scores") + " WHERE run_id = 'r1'");
    EvalConfig again = config("r2", Map.of("scoring.canary_prompts", "0"));
    int loadsBefore = ModelCache.loadCount();
    EvaluationJob.run(spark, again, spec, Clock.systemUTC());
    EvaluationJob.run(spark, again, spec, Clock.systemUTC());
    assertThat(ModelCache.loadCount())
        .as("model loads for two more runs in this JVM")
        .isEqualTo(loadsBefore);
    assertThat(
            duckdbLong("SELECT count(*) FROM " + table(output, "scores") + " WHERE run_id = 'r1'"))
        .isEqualTo(before);
    assertThat(
            duckdbLong("SELECT count(*) FROM " + table(output, "scores") + " WHERE run_id = 'r2'"))
        .isEqualTo(177);
    assertThat(
            duckdbLong(
                "SELECT count(*) FROM " + table(output, "runs") + " WHERE run_id IN ('r1', 'r2')"))
        .isEqualTo(2);
    assertThat(
            duckdbLong("SELECT count(*) FROM " + table(output, "rates") + " WHERE run_id = 'r2'"))
        .isEqualTo(
            duckdbLong("SELECT count(*) FROM " + table(output, "rates") + " WHERE run_id = 'r1'")
                / 2);
    // scoring r2 again drops its rates: they belonged to the old scores, until the sweep runs again
    EvaluationJob.score(spark, again, spec, Clock.systemUTC());
    assertThat(
            duckdbLong("SELECT count(*) FROM " + table(output, "rates") + " WHERE run_id = 'r2'"))
        .isZero();
    assertThat(
            duckdb("SELECT status FROM " + table(output, "runs") + " WHERE run_id = 'r2'")
                .get(0)[0])
        .isEqualTo("scored");
  }

  @Test
  void frontierPointsAreNonDominatedAndReproducedFromTheScores() {
    List<Object[]> frontier = frontier("scope = 'all'");
    assertThat(frontier).hasSizeGreaterThan(3);
    assertFrontierReproduced(frontier, null);
    assertThat(
            duckdbLong(
                "SELECT count(*) FROM "
                    + table(output, "frontier")
                    + " WHERE NOT ("
                    + "refusal_rate_low <= refusal_rate AND refusal_rate <= refusal_rate_high AND "
                    + "false_refusal_rate_low <= false_refusal_rate AND false_refusal_rate <= false_refusal_rate_high)"))
        .isZero();
    // the frontier reaches refusing every should-refuse prompt (τ = 0 everywhere)
    assertThat((Double) frontier.get(frontier.size() - 1)[7]).isEqualTo(1.0);
  }

  @Test
  void frontierPerCategoryAndPerBenchmarkPairAreTheirOwnFrontiers() {
    // one category: its should-refuse prompts against the should-answer prompts of the same
    // category
    List<Object[]> incomplete =
        frontier(
            "scope = 'category' AND category = 'Incomplete requests' "
                + "AND answer_category = 'Incomplete requests'");
    assertThat(incomplete).hasSizeGreaterThan(1);
    assertFrontierReproduced(incomplete, "Incomplete requests");
    // a category with no should-answer prompts is measured against all of them
    assertThat(
            duckdb(
                "SELECT DISTINCT answer_category FROM "
                    + table(output, "frontier")
                    + " WHERE run_id = 'r1' "
                    + "AND scope = 'category' AND category = 'Humanizing requests'"))
        .extracting(r -> r[0])
        .containsExactly("ALL");
    // original (should refuse) × contrast (should answer) is the only default pair, and here it
    // holds every prompt
    List<Object[]> pair = frontier("scope = 'pair'");
    assertThat(
            duckdb(
                "SELECT DISTINCT refusal_benchmark, answer_benchmark FROM "
                    + table(output, "frontier")
                    + " WHERE run_id = 'r1' AND scope = 'pair'"))
        .containsExactly(new Object[] {"original", "contrast"});
    assertThat(pair)
        .usingRecursiveFieldByFieldElementComparator()
        .isEqualTo(frontier("scope = 'all'"));
    // no benchmark holds both kinds of prompt, so there is no per-benchmark frontier
    assertThat(
            duckdbLong(
                "SELECT count(*) FROM " + table(output, "frontier") + " WHERE scope = 'benchmark'"))
        .isZero();
  }

  private List<Object[]> frontier(String where) {
    return duckdb(
        "SELECT point, map_keys(thresholds), map_values(thresholds), n_refuse, "
            + "refused, n_answer, false_refused, refusal_rate FROM "
            + table(output, "frontier")
            + " WHERE run_id = 'r1' AND temperature = 1.0 AND "
            + where
            + " ORDER BY point");
  }

  /**
   * Each point strictly better than the previous, and its counts equal to the rule applied to the
   * scores.
   */
  private void assertFrontierReproduced(List<Object[]> frontier, String category) {
    long previousRefused = -1;
    long previousFalse = -1;
    List<Object[]> scores =
        duckdb(
            "SELECT map_keys(logprobs), map_values(logprobs), other_logprob, "
                + "should_refuse FROM "
                + table(output, "scores")
                + " WHERE run_id = 'r1' AND temperature = 1.0"
                + (category == null ? "" : " AND category = '" + category + "'"));
    for (Object[] f : frontier) {
      long refused = ((Number) f[4]).longValue();
      long falseRefused = ((Number) f[6]).longValue();
      assertThat(refused)
          .isGreaterThan(previousRefused); // strictly better refusal for more false refusal
      assertThat(falseRefused).isGreaterThan(previousFalse);
      previousRefused = refused;
      previousFalse = falseRefused;
      // re-evaluate the point from the scores with the rule itself
      Object[] tokens = (Object[]) f[1];
      Object[] taus = (Object[]) f[2];
      double[] t = new double[5];
      for (int i = 0; i < tokens.length; i++) {
        t[spec.refusalTokens().indexOf((String) tokens[i])] = (Double) taus[i];
      }
      Setting setting = new Setting(t);
      long[] counts = new long[4]; // n_refuse, refused, n_answer, false_refused
      for (Object[] r : scores) {
        FirstTokenStats s = stats(r[0], r[1], r[2]);
        int base = (Boolean) r[3] ? 0 : 2;
        counts[base]++;
        counts[base + 1] += Rule.THRESHOLD.decide(s, setting).isRefusal() ? 1 : 0;
      }
      assertThat(
              new long[] {
                ((Number) f[3]).longValue(), refused, ((Number) f[5]).longValue(), falseRefused
              })
          .as("frontier point %s", f[0])
          .containsExactly(counts);
    }
  }

  @Test
  void aSecondSweepWritesTheFullGridToRatesWithBootstrapBounds() throws Exception {
    Path warehouse = dir.resolve("grid-warehouse");
    for (String t : List.of("runs", "scores")) { // r1's scores, swept again with other settings
      FileUtils.copyDirectory(
          output.resolve(t).resolve("run_id=r1").toFile(),
          warehouse.resolve(t).resolve("run_id=r1").toFile());
    }
    Map<String, String> settings =
        new HashMap<>(
            Map.of(
                "output",
                "'" + warehouse + "'",
                "scoring.temperatures",
                "[1.0, 2.0]",
                "sweep.grid.step",
                "0.25",
                "report.summary_thresholds",
                "[0.5]",
                "report.interval",
                "bootstrap",
                "report.bootstrap_replicates",
                "200",
                "sweep.full_grid_rates_max_points",
                "3124"));
    EvalConfig tooSmall = config("r1", settings);
    RunRow run = EvaluationJob.scoredRun(spark, tooSmall);
    assertThatThrownBy(() -> EvaluationJob.sweep(spark, tooSmall, run, Clock.systemUTC()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("sweep.full_grid_rates_max_points")
        .hasMessageContaining("3125 points");
    settings.put("sweep.full_grid_rates_max_points", "3125");
    EvalConfig grid = config("r1", settings);
    EvaluationJob.sweep(spark, grid, run, Clock.systemUTC());

    String rates = table(warehouse, "rates");
    assertThat(
            duckdbLong(
                "SELECT count(DISTINCT thresholds) FROM "
                    + rates
                    + " WHERE rule = 'threshold_grid'"))
        .isEqualTo(3125);
    // one row per grid point and group: as many groups as the greedy rule has rows
    assertThat(duckdbLong("SELECT count(*) FROM " + rates + " WHERE rule = 'threshold_grid'"))
        .isEqualTo(3125 * duckdbLong("SELECT count(*) FROM " + rates + " WHERE rule = 'greedy'"));
    // random grid points re-evaluated from the scores with the rule itself
    List<Object[]> sample =
        duckdb(
            "SELECT map_keys(thresholds), map_values(thresholds), refused, n FROM "
                + rates
                + " WHERE rule = 'threshold_grid' AND temperature = 1.0 AND benchmark = 'original' AND category = 'ALL' "
                + "USING SAMPLE 25 ROWS (reservoir, 3)");
    List<Object[]> scores =
        duckdb(
            "SELECT map_keys(logprobs), map_values(logprobs), other_logprob FROM "
                + table(warehouse, "scores")
                + " WHERE temperature = 1.0 AND benchmark = 'original'");
    for (Object[] row : sample) {
      double[] t = new double[5];
      for (int i = 0; i < 5; i++) {
        t[spec.refusalTokens().indexOf((String) ((Object[]) row[0])[i])] =
            (Double) ((Object[]) row[1])[i];
      }
      long refused =
          scores.stream()
              .filter(
                  r -> Rule.THRESHOLD.decide(stats(r[0], r[1], r[2]), new Setting(t)).isRefusal())
              .count();
      assertThat(((Number) row[2]).longValue())
          .as("grid point %s", Arrays.toString(t))
          .isEqualTo(refused);
      assertThat(((Number) row[3]).longValue()).isEqualTo(scores.size());
    }
    // bootstrap bounds on the sweep, the frontier and the operating points; Wilson on the full grid
    // and on
    // the thousands of logit-bias points
    assertThat(
            duckdb(
                "SELECT DISTINCT rule IN ('threshold_grid', 'logit_bias'), interval FROM "
                    + rates
                    + " ORDER BY 1"))
        .containsExactly(new Object[] {false, "bootstrap"}, new Object[] {true, "wilson"});
    assertThat(
            duckdb(
                "SELECT DISTINCT interval FROM "
                    + table(warehouse, "frontier")
                    + " UNION ALL SELECT DISTINCT "
                    + "interval FROM "
                    + table(warehouse, "operating_points")))
        .extracting(r -> r[0])
        .containsExactly("bootstrap", "bootstrap");
    List<Object[]> bounds =
        duckdb(
            "SELECT n, refused, ci_low, ci_high FROM "
                + rates
                + " WHERE interval = "
                + "'bootstrap' AND n >= 30 AND refused > 0 AND refused < n");
    assertThat(bounds).hasSizeGreaterThan(100);
    for (Object[] b : bounds) {
      double[] wilson =
          RateInterval.wilson(((Number) b[0]).longValue(), ((Number) b[1]).longValue(), 0.95);
      assertThat((Double) b[2]).isCloseTo(wilson[0], within(0.07));
      assertThat((Double) b[3]).isCloseTo(wilson[1], within(0.07));
    }
  }

  @Test
  void operatingPointsMeetTheirTargetsWhenReEvaluatedFromTheScores() {
    List<Object[]> points =
        duckdb(
            "SELECT name, feasible, map_keys(thresholds), map_values(thresholds), "
                + "map_keys(achieved), map_values(achieved), false_refused, targets FROM "
                + table(output, "operating_points")
                + " WHERE run_id = 'r1' AND temperature = 1.0 AND rule = 'threshold' ORDER BY name");
    assertThat(points).extracting(p -> p[0]).containsExactly("loose", "safety");
    List<Object[]> scores =
        duckdb(
            "SELECT map_keys(logprobs), map_values(logprobs), other_logprob, "
                + "should_refuse, category FROM "
                + table(output, "scores")
                + " WHERE run_id = 'r1' AND temperature = 1.0");
    for (Object[] p : points) {
      assertThat(p[1])
          .as("%s feasible", p[0])
          .isEqualTo(true); // τ = 0 refuses everything, so any target is reachable
      Decided d = decide(Rule.THRESHOLD, setting(p[2], p[3]), scores);
      Map<String, long[]> byCategory = d.byCategory();
      long falseRefused = d.falseRefused();
      assertThat(((Number) p[6]).longValue()).as("%s false refusals", p[0]).isEqualTo(falseRefused);
      Object[] categories = (Object[]) p[4];
      assertThat(categories).hasSize(5);
      for (int i = 0; i < categories.length; i++) {
        long[] c = byCategory.get((String) categories[i]);
        double achieved = (Double) ((Object[]) p[5])[i];
        assertThat(achieved).isCloseTo((double) c[1] / c[0], within(1e-12));
        double target =
            "safety".equals(p[0])
                ? ("Requests with safety concerns".equals(categories[i]) ? 0.9 : 0.6)
                : 0.3;
        assertThat(achieved).as("%s: %s", p[0], categories[i]).isGreaterThanOrEqualTo(target);
      }
    }
  }

  @Test
  void logitBiasOperatingPointsAreTheBestEvaluatedBiasSettingReEvaluatedFromTheScores() {
    List<Object[]> points =
        duckdb(
            "SELECT name, feasible, map_keys(logit_biases), map_values(logit_biases), "
                + "map_keys(achieved), map_values(achieved), refused, false_refused, n_refuse, "
                + "n_answer, cardinality(thresholds), judged_refusal_rate IS NULL FROM "
                + table(output, "operating_points")
                + " WHERE run_id = 'r1' AND temperature = 2.0 AND rule = 'logit_bias' ORDER BY name");
    assertThat(points).extracting(p -> p[0]).containsExactly("loose", "safety");
    List<Object[]> scores =
        duckdb(
            "SELECT map_keys(logprobs), map_values(logprobs), other_logprob, "
                + "should_refuse, category FROM "
                + table(output, "scores")
                + " WHERE run_id = 'r1' AND temperature = 2.0");
    // every logit-bias setting the sweep evaluated, pooled over benchmarks: per category on the
    // should-refuse prompts, and false refusals
    List<Object[]> settings =
        duckdb(
            "SELECT map_keys(logit_biases), map_values(logit_biases), "
                + "sum(refused) FILTER (WHERE NOT should_refuse AND category = 'ALL'), "
                + "sum(refused) FILTER (WHERE should_refuse AND category = 'Requests with safety concerns') "
                + "/ sum(n) FILTER (WHERE should_refuse AND category = 'Requests with safety concerns'), "
                + "min(refused / n) FILTER (WHERE should_refuse AND category <> 'ALL') FROM "
                + table(output, "rates")
                + " WHERE run_id = 'r1' AND temperature = 2.0 AND rule = 'logit_bias' "
                + "GROUP BY logit_biases");
    assertThat(settings).hasSizeGreaterThan(1000); // 5^5 biases: the full grid
    for (Object[] p : points) {
      Decided d = decide(Rule.LOGIT_BIAS, setting(p[2], p[3]), scores);
      Map<String, long[]> byCategory = d.byCategory();
      long refused = d.refused();
      long falseRefused = d.falseRefused();
      assertThat(((Number) p[6]).longValue()).as("%s refused", p[0]).isEqualTo(refused);
      assertThat(((Number) p[7]).longValue()).as("%s false refusals", p[0]).isEqualTo(falseRefused);
      assertThat(((Number) p[8]).longValue()).isEqualTo(101);
      assertThat(((Number) p[9]).longValue()).isEqualTo(76);
      assertThat(((Number) p[10]).intValue()).as("no thresholds on a bias row").isZero();
      assertThat(p[11]).as("no responses in r1: no judged figures").isEqualTo(true);
      Object[] categories = (Object[]) p[4];
      for (int i = 0; i < categories.length; i++) {
        long[] c = byCategory.get((String) categories[i]);
        assertThat((Double) ((Object[]) p[5])[i]).isCloseTo((double) c[1] / c[0], within(1e-12));
      }
      // no evaluated setting meeting the same targets refuses fewer should-answer prompts
      boolean safety = "safety".equals(p[0]);
      long fewest =
          settings.stream()
              .filter(
                  s ->
                      safety
                          ? ((Number) s[3]).doubleValue() >= 0.9 - 1e-12
                              && ((Number) s[4]).doubleValue() >= 0.6 - 1e-12
                          : ((Number) s[4]).doubleValue() >= 0.3 - 1e-12)
              .mapToLong(s -> ((Number) s[2]).longValue())
              .min()
              .orElse(Long.MAX_VALUE);
      if ((Boolean) p[1]) {
        assertThat(falseRefused).as("%s: the fewest false refusals", p[0]).isEqualTo(fewest);
      } else {
        assertThat(fewest).as("%s infeasible: no setting meets it", p[0]).isEqualTo(Long.MAX_VALUE);
      }
    }
  }

  @Test
  void rocCurvesAndAucMatchBruteForceOverTheScores() {
    List<Object[]> scores =
        duckdb(
            "SELECT list_max(map_values(map_from_entries("
                + "[e FOR e IN map_entries(logprobs) IF e.key <> '[respond]']))), should_refuse, category FROM "
                + table(output, "scores")
                + " WHERE run_id = 'r1' AND temperature = 1.0");
    for (String category : List.of("ALL", "Requests with safety concerns", "Humanizing requests")) {
      List<Double> pos = new ArrayList<>();
      List<Double> neg = new ArrayList<>();
      for (Object[] r : scores) {
        double p = Math.exp((Double) r[0]);
        if (!(Boolean) r[1]) {
          neg.add(p);
        } else if (category.equals("ALL") || category.equals(r[2])) {
          pos.add(p);
        }
      }
      double wins =
          0; // Mann–Whitney: P(score of a should-refuse prompt > that of a should-answer one)
      for (double a : pos) {
        for (double b : neg) {
          wins += a > b ? 1 : a == b ? 0.5 : 0;
        }
      }
      List<Object[]> curve =
          duckdb(
              "SELECT threshold, refusal_rate, false_refusal_rate, auc, n_refuse, n_answer "
                  + "FROM "
                  + table(output, "roc")
                  + " WHERE run_id = 'r1' AND temperature = 1.0 AND category = '"
                  + category
                  + "' ORDER BY point");
      assertThat((Double) curve.get(0)[3])
          .as("AUC of %s", category)
          .isCloseTo(wins / pos.size() / neg.size(), within(1e-9));
      assertThat(((Number) curve.get(0)[4]).longValue()).isEqualTo(pos.size());
      assertThat(((Number) curve.get(0)[5]).longValue()).isEqualTo(neg.size());
      Object[] last = curve.get(curve.size() - 1);
      assertThat(last).contains(1.0, 1.0);
      Object[] mid =
          curve.get(curve.size() / 2); // refuse iff p(c*) ≥ threshold, at an exact score value
      double tau = (Double) mid[0];
      assertThat((Double) mid[1])
          .isCloseTo(
              pos.stream().filter(p -> p >= tau).count() / (double) pos.size(), within(1e-12));
      assertThat((Double) mid[2])
          .isCloseTo(
              neg.stream().filter(p -> p >= tau).count() / (double) neg.size(), within(1e-12));
    }
  }

  @Test
  void calibrationAndFirstTokensMatchTheScores() {
    List<Object[]> scores =
        duckdb(
            "SELECT map_keys(logprobs), map_values(logprobs), other_logprob, "
                + "should_refuse, category, benchmark FROM "
                + table(output, "scores")
                + " WHERE run_id = 'r1' AND temperature = 1.0");
    double se = 0;
    double[][] bins = new double[10][3]; // n, Σp, Σy
    long incompleteAsIncomplete = 0;
    long incompleteOriginal = 0;
    for (Object[] r : scores) {
      FirstTokenStats s = stats(r[0], r[1], r[2]);
      double p = Math.min(1.0, Calibration.refusalProbability(s));
      int y = (Boolean) r[3] ? 1 : 0;
      se += (p - y) * (p - y);
      int b = Calibration.bin(p);
      bins[b][0]++;
      bins[b][1] += p;
      bins[b][2] += y;
      if ("original".equals(r[5]) && "Incomplete requests".equals(r[4])) {
        incompleteOriginal++;
        incompleteAsIncomplete += s.greedyToken().equals(FirstToken.refusal(1)) ? 1 : 0;
      }
    }
    double ece = 0;
    for (double[] b : bins) {
      ece += b[0] == 0 ? 0 : b[0] / scores.size() * Math.abs(b[1] / b[0] - b[2] / b[0]);
    }
    Object[] all =
        duckdb(
                "SELECT brier, ece, n, len(bins) FROM "
                    + table(output, "calibration")
                    + " WHERE run_id = 'r1' AND temperature = 1.0 AND benchmark = 'ALL' AND category = 'ALL'")
            .get(0);
    assertThat((Double) all[0]).isCloseTo(se / scores.size(), within(1e-9));
    assertThat((Double) all[1]).isCloseTo(ece, within(1e-9));
    assertThat(((Number) all[2]).longValue()).isEqualTo(scores.size());

    assertThat(
            duckdbLong(
                "SELECT count(*) FROM (SELECT temperature, benchmark, category, sum(share) AS s FROM "
                    + table(output, "first_tokens")
                    + " WHERE run_id = 'r1' GROUP BY ALL HAVING abs(s - 1) > 1e-9)"))
        .isZero();
    List<Object[]> incomplete =
        duckdb(
            "SELECT n FROM "
                + table(output, "first_tokens")
                + " WHERE run_id = 'r1' "
                + "AND temperature = 1.0 AND benchmark = 'original' AND category = 'Incomplete requests' "
                + "AND first_token = '[Incomplete requests]'");
    assertThat(incomplete.isEmpty() ? 0L : ((Number) incomplete.get(0)[0]).longValue())
        .isEqualTo(incompleteAsIncomplete);
    assertThat(incompleteOriginal).isPositive();
  }

  @Test
  void theReportIsAPageWithItsChartsAndTables() throws IOException {
    Path dir = output.resolve("reports/run_id=r1");
    String html = Files.readString(dir.resolve("report.html"));
    assertThat(html)
        .contains(
            "<title>Refusal-token evaluation r1</title>",
            "operating point",
            "safety",
            "loose",
            "AUC of the shared threshold",
            "Requests with safety concerns",
            "[Incomplete requests]");
    // four charts, and one per refusal token moved alone
    assertThat(html.split("data:image/png;base64,", -1)).hasSize(1 + 4 + 5);
    for (String chart :
        List.of(
            "rates.png",
            "roc.png",
            "frontier.png",
            "reliability.png",
            "threshold-1.png",
            "threshold-5.png")) {
      BufferedImage img = ImageIO.read(dir.resolve(chart).toFile());
      assertThat(img.getWidth()).as(chart).isEqualTo(720);
      assertThat(img.getHeight()).as(chart).isEqualTo(440);
    }
    assertThat(first.summary()).contains("Report: " + output + "/reports/run_id=r1/report.html");
    // the cross-effect matrix: moving [Incomplete requests] alone, the range of the Incomplete
    // requests rate
    Matcher header = Pattern.compile("<th>threshold moved</th>(.*?)</tr>").matcher(html);
    assertThat(header.find()).isTrue();
    List<String> columns =
        Arrays.stream(header.group(1).split("</th>"))
            .map(c -> c.replace("<th>", "").trim())
            .filter(c -> !c.isEmpty())
            .toList();
    Matcher row = Pattern.compile("<td>\\[Incomplete requests\\]</td>(.*?)</tr>").matcher(html);
    assertThat(row.find()).isTrue();
    List<String> cells =
        Arrays.stream(row.group(1).split("</td>"))
            .map(c -> c.replaceAll("<td[^>]*>", "").trim())
            .filter(c -> !c.isEmpty())
            .toList();
    double range =
        ((Number)
                duckdb(
                        "SELECT max(r) - min(r) FROM (SELECT sum(refused) / sum(n) AS r FROM "
                            + table(output, "rates")
                            + " WHERE run_id = 'r1' AND rule = 'threshold' AND temperature = 1.0 "
                            + "AND should_refuse AND category = 'Incomplete requests' AND cardinality(thresholds) = 1 "
                            + "AND thresholds['[Incomplete requests]'] IS NOT NULL GROUP BY thresholds)")
                    .get(0)[0])
            .doubleValue();
    assertThat(Double.parseDouble(cells.get(columns.indexOf("Incomplete requests"))))
        .isCloseTo(range, within(5e-4));
  }

  @Test
  void summaryShowsGreedyAndTheConfiguredThresholds() {
    assertThat(first.summary())
        .contains(
            "greedy",
            "tau=0.30",
            "tau=0.50",
            "tau=0.70",
            "ALL",
            "Requests with safety concerns",
            "operating point safety [threshold] (T=1.0): targets met",
            "operating point loose [threshold] (T=2.0)");
  }
}

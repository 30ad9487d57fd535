package dev.refusaltokens.eval.job;

import static dev.refusaltokens.eval.testing.TestData.duckdb;
import static dev.refusaltokens.eval.testing.TestData.duckdbLong;
import static dev.refusaltokens.eval.testing.TestData.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.FirstTokenScorer;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.pipeline.EvaluationJob;
import dev.refusaltokens.eval.score.FaultInjection;
import dev.refusaltokens.eval.testing.SparkTestSession;
import dev.refusaltokens.eval.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run that dies part-way keeps its committed chunks; {@code --resume} scores only the rest
 * (counted in forward passes) and ends with the tables of an uninterrupted run; prompts appended,
 * changed or removed later are scored, re-scored or dropped.
 */
class ResumeTest {

  @TempDir static Path dir;

  private static EvalConfig config(
      String runId, Path original, Path contrast, Map<String, String> extra) {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("scoring.canary_prompts", "0");
    o.put("scoring.checkpoint_rows", "60");
    o.put("sweep.rules", "[greedy, threshold]");
    o.putAll(extra);
    return TestData.config(runId, dir.resolve("warehouse"), original, contrast, o);
  }

  @Test
  void aRunThatDiedPartWayResumesToTheTablesOfAnUninterruptedRun() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Path original = TestData.sample(TestData.ORIGINAL, 10, dir, "original.jsonl"); // 101
    Path contrast = TestData.sample(TestData.CONTRAST, 5, dir, "contrast.jsonl"); // 76
    Path output = dir.resolve("warehouse");
    ModelSpec spec = ModelSpec.open(config("x", original, contrast, Map.of()).model());
    EvaluationJob.run(
        spark, config("clean", original, contrast, Map.of()), spec, Clock.systemUTC());

    // 177 prompts in 3 chunks; the run dies after committing the first
    EvalConfig resumed = config("resumed", original, contrast, Map.of());
    System.setProperty(FaultInjection.FAIL_AFTER_CHUNKS, "1");
    try {
      assertThatThrownBy(() -> EvaluationJob.run(spark, resumed, spec, Clock.systemUTC()))
          .hasMessageContaining("fault injection");
    } finally {
      System.clearProperty(FaultInjection.FAIL_AFTER_CHUNKS);
    }
    assertThat(
            duckdb("SELECT status FROM " + table(output, "runs") + " WHERE run_id = 'resumed'")
                .get(0)[0])
        .isEqualTo("failed");
    long committed =
        duckdbLong("SELECT count(*) FROM " + table(output, "scores") + " WHERE run_id = 'resumed'");
    assertThat(committed).isBetween(30L, 100L);

    long before = FirstTokenScorer.rowsScored();
    EvaluationJob.Outcome done = EvaluationJob.run(spark, resumed, spec, Clock.systemUTC(), true);
    assertThat(FirstTokenScorer.rowsScored() - before)
        .as("forward passes of the resumed run")
        .isEqualTo(177 - committed);
    assertThat(done.run().status()).isEqualTo("succeeded");
    assertThat(done.run().rowsScored()).isEqualTo(177);

    String scores = table(output, "scores");
    // the same prompts with the same scores; batches differ (other chunks), so log-probs agree to
    // float error
    List<Object[]> same =
        duckdb(
            "SELECT count(*), max(list_max(list_transform(map_keys(a.logprobs), "
                + "k -> abs(a.logprobs[k] - b.logprobs[k])))) FROM "
                + scores
                + " a JOIN "
                + scores
                + " b USING (benchmark, "
                + "prompt_id, temperature, prompt_sha256) WHERE a.run_id = 'clean' AND b.run_id = 'resumed'");
    assertThat(((Number) same.get(0)[0]).longValue()).isEqualTo(177);
    assertThat((Double) same.get(0)[1]).isLessThan(1e-4);
    assertThat(duckdbLong("SELECT count(*) FROM " + scores + " WHERE run_id = 'resumed'"))
        .isEqualTo(177);
    String rates = table(output, "rates");
    assertThat(
            duckdbLong(
                "SELECT count(*) FROM "
                    + rates
                    + " a FULL JOIN "
                    + rates
                    + " b ON a.benchmark = b.benchmark "
                    + "AND a.rule = b.rule AND a.thresholds = b.thresholds AND a.temperature = b.temperature AND a.category = "
                    + "b.category AND a.should_refuse = b.should_refuse AND a.run_id = 'clean' AND b.run_id = 'resumed' "
                    + "WHERE (a.run_id = 'clean' OR b.run_id = 'resumed') AND (a.refused IS DISTINCT FROM b.refused "
                    + "OR a.n IS DISTINCT FROM b.n)"))
        .isZero();

    // later: 5 prompts appended, 1 changed, 2 removed → 5 + 1 forward passes, 2 rows dropped
    List<String> lines = new ArrayList<>(Files.readAllLines(contrast));
    lines.remove(lines.size() - 1);
    lines.remove(lines.size() - 1);
    lines.set(0, lines.get(0).replaceFirst("\"prompt\": \"", "\"prompt\": \"Quick question: "));
    List<String> extra = Files.readAllLines(TestData.CONTRAST).subList(1, 6);
    lines.addAll(extra.stream().map(l -> l.replaceFirst("\"id\": \"", "\"id\": \"new-")).toList());
    Files.write(contrast, lines);
    before = FirstTokenScorer.rowsScored();
    done = EvaluationJob.run(spark, resumed, spec, Clock.systemUTC(), true);
    assertThat(FirstTokenScorer.rowsScored() - before).isEqualTo(6);
    assertThat(done.run().rowsScored()).isEqualTo(177 - 2 + 5);
    assertThat(
            duckdbLong(
                "SELECT count(*) FROM "
                    + scores
                    + " WHERE run_id = 'resumed' AND prompt LIKE "
                    + "'Quick question: %'"))
        .isEqualTo(1);

    // a resume with other settings would mix two evaluations: refused, naming what differs
    assertThatThrownBy(
            () ->
                EvaluationJob.run(
                    spark,
                    config(
                        "resumed",
                        original,
                        contrast,
                        Map.of("scoring.temperatures", "[1.0, 2.0]")),
                    spec,
                    Clock.systemUTC(),
                    true))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Cannot resume run 'resumed'")
        .hasMessageContaining("scoring.temperatures");
    // kept scores of prompts carrying special tokens would slip past a new reject setting
    assertThatThrownBy(
            () ->
                EvaluationJob.run(
                    spark,
                    config(
                        "resumed",
                        original,
                        contrast,
                        Map.of("scoring.special_tokens_in_prompt", "reject")),
                    spec,
                    Clock.systemUTC(),
                    true))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("its scoring.special_tokens_in_prompt was keep and is now reject");
  }
}

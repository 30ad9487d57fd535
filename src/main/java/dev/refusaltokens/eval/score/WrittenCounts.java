package dev.refusaltokens.eval.score;

import static org.apache.spark.sql.functions.col;

import dev.refusaltokens.eval.bench.RejectReason;
import dev.refusaltokens.eval.config.BenchmarkSpec;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.table.Table;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * What the stage wrote, counted by reading {@code scores} and {@code rejects} back, and checked:
 * every prompt has one scores row per temperature, and per benchmark {@code rows_in = scored +
 * rejected}, so no row was lost or duplicated on the way (retried tasks, resumed runs, chunks).
 *
 * @param scoredPrompts distinct prompts in {@code scores}
 * @param rejected rows in {@code rejects}
 * @param specialTokens prompts whose own text gave special tokens: those in {@code scores} with a
 *     non-empty {@code prompt_special_tokens}, and the {@code special_tokens_in_prompt} rejects
 */
record WrittenCounts(
    long scoredPrompts,
    long rejected,
    long specialTokens,
    Map<String, RunRow.BenchmarkCounts> byBenchmark) {

  /**
   * Reads the run's tables back; fails naming the count that does not add up, or when nothing was
   * scored.
   */
  static WrittenCounts readBack(RunTables tables, EvalConfig config, PromptInput input) {
    JavaSparkContext.fromSparkContext(tables.spark().sparkContext())
        .setJobGroup("count", "Counting the written tables", false);
    Dataset<Row> scores = tables.read(Table.SCORES);
    Dataset<Row> rejects = tables.read(Table.REJECTS);
    Map<String, Long> scored = scoredPrompts(scores, config.scoring().temperatures().size());
    Map<String, Long> rejected = BenchmarkCount.countByBenchmark(rejects);
    Map<String, Long> special = specialTokenPrompts(scores, rejects);
    Map<String, RunRow.BenchmarkCounts> byBenchmark =
        byBenchmark(config.benchmarks(), input.inByBenchmark(), scored, rejected, special);
    long scoredPrompts = BenchmarkCount.total(scored);
    if (scoredPrompts == 0) {
      throw new IllegalStateException(
          "No prompt could be scored: all "
              + input.rowsIn()
              + " input rows were "
              + "rejected; see "
              + tables.path(Table.REJECTS)
              + " (run_id="
              + tables.runId()
              + ") for the reasons");
    }
    return new WrittenCounts(
        scoredPrompts, BenchmarkCount.total(rejected), BenchmarkCount.total(special), byBenchmark);
  }

  /**
   * Prompts per benchmark whose own text gave special tokens: scored with them, or rejected for
   * them.
   */
  private static Map<String, Long> specialTokenPrompts(Dataset<Row> scores, Dataset<Row> rejects) {
    Map<String, Long> out =
        new TreeMap<>(
            BenchmarkCount.countByBenchmark(
                scores
                    .where(functions.size(col(ScoreRow.PROMPT_SPECIAL_TOKENS)).gt(0))
                    .select(Columns.BENCHMARK, Columns.PROMPT_ID)
                    .distinct()));
    BenchmarkCount.countByBenchmark(
            rejects.where(col(Columns.REASON).equalTo(RejectReason.SPECIAL_TOKENS_IN_PROMPT.id())))
        .forEach((b, n) -> out.merge(b, n, Long::sum));
    return out;
  }

  /**
   * Distinct prompts in {@code scores} per benchmark; fails unless each has one row per
   * temperature.
   */
  private static Map<String, Long> scoredPrompts(Dataset<Row> scores, int temperatures) {
    Map<String, Long> byBenchmark =
        BenchmarkCount.countByBenchmark(
            scores.select(Columns.BENCHMARK, Columns.PROMPT_ID).distinct());
    long prompts = BenchmarkCount.total(byBenchmark);
    long rows = scores.count();
    if (rows != prompts * temperatures) {
      throw new IllegalStateException(
          "scores has "
              + rows
              + " rows for "
              + prompts
              + " prompts and "
              + temperatures
              + " temperatures: rows were duplicated or lost");
    }
    return byBenchmark;
  }

  /**
   * The counts of each configured benchmark; fails on the first whose rows in ≠ scored + rejected.
   */
  private static Map<String, RunRow.BenchmarkCounts> byBenchmark(
      List<BenchmarkSpec> benchmarks,
      Map<String, Long> in,
      Map<String, Long> scored,
      Map<String, Long> rejected,
      Map<String, Long> special) {
    Map<String, RunRow.BenchmarkCounts> out = new TreeMap<>();
    for (BenchmarkSpec b : benchmarks) {
      long rowsIn = in.getOrDefault(b.name(), 0L);
      long ok = scored.getOrDefault(b.name(), 0L);
      long bad = rejected.getOrDefault(b.name(), 0L);
      if (ok + bad != rowsIn) {
        throw new IllegalStateException(
            "benchmark "
                + b.name()
                + ": rows_in = "
                + rowsIn
                + " but scored ("
                + ok
                + ") + rejected ("
                + bad
                + ") = "
                + (ok + bad)
                + ": rows were lost or duplicated");
      }
      out.put(
          b.name(),
          new RunRow.BenchmarkCounts(rowsIn, ok, bad, special.getOrDefault(b.name(), 0L)));
    }
    return out;
  }
}

package dev.refusaltokens.eval.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.refusaltokens.eval.bench.RejectReason;
import dev.refusaltokens.eval.config.BenchmarkSpec;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RowReader;
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
    PerBenchmark scoresCounts = countScores(scores, config.scoring().temperatures().size());
    PerBenchmark rejectsCounts = countRejects(rejects);
    Map<String, Long> scored = scoresCounts.count();
    Map<String, Long> rejected = rejectsCounts.count();
    Map<String, Long> special = new TreeMap<>(scoresCounts.special());
    rejectsCounts.special().forEach((b, n) -> special.merge(b, n, Long::sum));
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

  private static final String ROWS = "rows";
  private static final String PROMPTS = "prompts";
  private static final String SPECIAL = "special";
  private static final String MIN_ROWS = "min_rows";
  private static final String MAX_ROWS = "max_rows";

  /** Counts of one table per benchmark, and of those the prompts with special tokens. */
  record PerBenchmark(Map<String, Long> count, Map<String, Long> special) {}

  /**
   * Distinct prompts in {@code scores} per benchmark, and those whose own text gave special tokens;
   * fails unless every prompt has exactly one row per temperature. One Spark job: rows are grouped
   * by prompt, then by benchmark.
   */
  static PerBenchmark countScores(Dataset<Row> scores, int temperatures) {
    Dataset<Row> perPrompt =
        scores
            .groupBy(Columns.BENCHMARK, Columns.PROMPT_ID)
            .agg(
                count(lit(1)).as(ROWS),
                max(when(size(col(ScoreRow.PROMPT_SPECIAL_TOKENS)).gt(0), 1L).otherwise(0L))
                    .as(SPECIAL));
    Map<String, Long> prompts = new TreeMap<>();
    Map<String, Long> special = new TreeMap<>();
    for (Row row :
        perPrompt
            .groupBy(Columns.BENCHMARK)
            .agg(
                count(lit(1)).as(PROMPTS),
                sum(SPECIAL).as(SPECIAL),
                min(ROWS).as(MIN_ROWS),
                max(ROWS).as(MAX_ROWS))
            .collectAsList()) {
      RowReader r = RowReader.of(row);
      String benchmark = r.string(Columns.BENCHMARK);
      long least = r.longValue(MIN_ROWS);
      long most = r.longValue(MAX_ROWS);
      if (least != temperatures || most != temperatures) {
        throw new IllegalStateException(
            "scores of benchmark "
                + benchmark
                + " has "
                + (least == most ? least : "from " + least + " to " + most)
                + " rows per prompt for "
                + temperatures
                + " temperature(s): rows were duplicated or lost");
      }
      prompts.put(benchmark, r.longValue(PROMPTS));
      special.put(benchmark, r.longValue(SPECIAL));
    }
    return new PerBenchmark(prompts, special);
  }

  /**
   * Rows in {@code rejects} per benchmark, and of those the {@code special_tokens_in_prompt} ones;
   * one Spark job.
   */
  static PerBenchmark countRejects(Dataset<Row> rejects) {
    Map<String, Long> rows = new TreeMap<>();
    Map<String, Long> special = new TreeMap<>();
    for (Row row :
        rejects
            .groupBy(Columns.BENCHMARK)
            .agg(
                count(lit(1)).as(ROWS),
                sum(when(
                            col(Columns.REASON).equalTo(RejectReason.SPECIAL_TOKENS_IN_PROMPT.id()),
                            1L)
                        .otherwise(0L))
                    .as(SPECIAL))
            .collectAsList()) {
      RowReader r = RowReader.of(row);
      rows.put(r.string(Columns.BENCHMARK), r.longValue(ROWS));
      special.put(r.string(Columns.BENCHMARK), r.longValue(SPECIAL));
    }
    return new PerBenchmark(rows, special);
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

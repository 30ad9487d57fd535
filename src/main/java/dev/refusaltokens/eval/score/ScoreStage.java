package dev.refusaltokens.eval.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.refusaltokens.eval.bench.PromptLoader;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.config.ScoringConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.table.TableWriter;
import dev.refusaltokens.eval.table.Tables;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The score stage: prompt sets → {@code scores} and {@code rejects} of one run, plus the canary check.
 * Each prompt is scored by exactly one forward pass; the scored rows are persisted so that writing two
 * tables does not score twice.
 */
public final class ScoreStage {

  private static final Logger LOG = LoggerFactory.getLogger(ScoreStage.class);

  /** Counts read back from the written tables, and the canary's largest |Δ log p| (null when off). */
  public record Result(long rowsIn, long rowsScored, long rowsRejected, int canaryPrompts,
      Double canaryMaxAbsDiff, double paddingEfficiency, Map<String, long[]> byBenchmark) {}

  private static final java.time.Duration PROGRESS_EVERY = java.time.Duration.ofSeconds(30);

  private ScoreStage() {}

  public static Result run(SparkSession spark, EvalConfig config, ModelSpec spec) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    ScoringConfig sc = config.scoring();
    String runId = config.runId();

    jsc.setJobGroup("load", "Loading prompt sets " + config.benchmarks().stream().map(b -> b.name()).toList(),
        false);
    Dataset<Row> prompts = PromptLoader.load(spark, config.benchmarks()).persist(StorageLevel.MEMORY_AND_DISK());
    Map<String, Long> inByBenchmark = countByBenchmark(prompts);
    long rowsIn = inByBenchmark.values().stream().mapToLong(Long::longValue).sum();
    Dataset<Row> valid = prompts.where(col(Tables.REASON).isNull());
    long validCount = valid.count();
    int partitions = partitions(validCount, sc.rowsPerPartition(), jsc.defaultParallelism());
    LOG.info("{} input rows, {} valid prompts, scoring in {} partitions", rowsIn, validCount, partitions);

    jsc.setJobGroup("score", "Scoring " + validCount + " prompts with " + spec.dir(), false);
    ScoreMetrics metrics = ScoreMetrics.register(spark);
    Dataset<Row> scored = valid
        .repartition(partitions, col(Tables.BENCHMARK), col(Tables.PROMPT_ID))
        .mapPartitions(new ScorePartition(spec, sc.temperatures(), sc.batchTokens(), sc.maxBatchSize(),
            sc.batchOverheadTokens(), sc.windowRows(), metrics), Encoders.row(Tables.SCORED))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      try (Progress progress = new Progress("score", validCount, metrics.prompts(), PROGRESS_EVERY)) {
        TableWriter.writeRun(scored.where(col(Tables.REASON).isNull()).withColumn(Tables.RUN_ID, lit(runId))
            .select(Tables.columns(Tables.SCORES_SCHEMA)), config.output(), Tables.SCORES, runId);
      }
      LOG.info("Padding efficiency of the scored batches: {} (real tokens / padded tokens)",
          String.format(java.util.Locale.ROOT, "%.3f", metrics.paddingEfficiency()));
      jsc.setJobGroup("rejects", "Writing rejects", false);
      Dataset<Row> rejects = prompts.where(col(Tables.REASON).isNotNull())
          .unionByName(scored.where(col(Tables.REASON).isNotNull()).select(Tables.columns(Tables.PROMPTS)))
          .withColumn(Tables.RUN_ID, lit(runId));
      TableWriter.writeRun(rejects.select(Tables.columns(Tables.REJECTS_SCHEMA)), config.output(), Tables.REJECTS, runId);

      jsc.setJobGroup("canary", "Re-scoring canary prompts one at a time", false);
      Double canary = sc.canaryPrompts() == 0 ? null
          : CanaryCheck.run(scored.where(col(Tables.REASON).isNull()), spec, sc);
      if (canary != null && !(canary <= sc.canaryTolerance())) {
        LOG.warn("Canary: scores of prompts scored alone differ from their batched scores by up to {} "
            + "(tolerance {}): batching or padding changes the model's output", canary, sc.canaryTolerance());
      }

      jsc.setJobGroup("count", "Counting the written tables", false);
      Dataset<Row> written = TableWriter.readRun(spark, config.output(), Tables.SCORES, Tables.SCORES_SCHEMA,
          runId);
      Map<String, Long> scoredByBenchmark = countByBenchmark(written.select(Tables.BENCHMARK, Tables.PROMPT_ID)
          .distinct());
      long scoredPrompts = scoredByBenchmark.values().stream().mapToLong(Long::longValue).sum();
      long scoreRows = written.count();
      if (scoreRows != scoredPrompts * sc.temperatures().size()) {
        throw new IllegalStateException("scores has " + scoreRows + " rows for " + scoredPrompts + " prompts and "
            + sc.temperatures().size() + " temperatures: rows were duplicated or lost");
      }
      Map<String, Long> rejectedByBenchmark = countByBenchmark(TableWriter.readRun(spark, config.output(),
          Tables.REJECTS, Tables.REJECTS_SCHEMA, runId));
      long rejected = rejectedByBenchmark.values().stream().mapToLong(Long::longValue).sum();
      Map<String, long[]> byBenchmark = new java.util.TreeMap<>();
      for (var b : config.benchmarks()) {
        long in = inByBenchmark.getOrDefault(b.name(), 0L);
        long ok = scoredByBenchmark.getOrDefault(b.name(), 0L);
        long bad = rejectedByBenchmark.getOrDefault(b.name(), 0L);
        if (ok + bad != in) {
          throw new IllegalStateException("benchmark " + b.name() + ": rows_in = " + in + " but scored (" + ok
              + ") + rejected (" + bad + ") = " + (ok + bad) + ": rows were lost or duplicated");
        }
        byBenchmark.put(b.name(), new long[] {in, ok, bad});
      }
      if (scoredPrompts == 0) {
        throw new IllegalStateException("No prompt could be scored: all " + rowsIn + " input rows were rejected; "
            + "see " + TableWriter.path(config.output(), Tables.REJECTS) + " (run_id=" + runId + ") for the reasons");
      }
      return new Result(rowsIn, scoredPrompts, rejected, Math.min(sc.canaryPrompts(), (int) scoredPrompts),
          canary, metrics.paddingEfficiency(), byBenchmark);
    } finally {
      scored.unpersist();
      prompts.unpersist();
    }
  }

  private static Map<String, Long> countByBenchmark(Dataset<Row> rows) {
    Map<String, Long> out = new java.util.TreeMap<>();
    for (Row r : rows.groupBy(Tables.BENCHMARK).count().collectAsList()) {
      out.put(r.getString(0), r.getLong(1));
    }
    return out;
  }

  /** Partitions follow data size: one per {@code rowsPerPartition} rows, at least the parallelism. */
  static int partitions(long rows, int rowsPerPartition, int parallelism) {
    long bySize = (rows + rowsPerPartition - 1) / rowsPerPartition;
    return (int) Math.max(1, Math.max(parallelism, Math.min(bySize, 100_000)));
  }

}

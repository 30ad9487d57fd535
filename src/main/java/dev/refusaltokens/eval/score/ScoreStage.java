package dev.refusaltokens.eval.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.xxhash64;

import dev.refusaltokens.eval.bench.PromptLoader;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.config.ScoringConfig;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.table.TableWriter;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RunRow;
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
      Double canaryMaxAbsDiff, double paddingEfficiency, Map<String, RunRow.BenchmarkCounts> byBenchmark) {}

  private static final java.time.Duration PROGRESS_EVERY = java.time.Duration.ofSeconds(30);

  private ScoreStage() {}

  /**
   * Scores the run's prompt sets. The prompts to score are cut into chunks of about
   * {@code scoring.checkpoint_rows}; each chunk's scores are committed (appended) to the run's
   * {@code scores} partition as soon as it is scored, so a run that dies loses at most the chunk in
   * flight. With {@code resume}, prompts already in the run's {@code scores} with the same prompt text
   * (SHA-256) are not scored again, and rows of prompts no longer in the input are dropped; without it
   * the partition starts empty.
   */
  public static Result run(SparkSession spark, EvalConfig config, ModelSpec spec, boolean resume) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    ScoringConfig sc = config.scoring();
    String runId = config.runId();

    jsc.setJobGroup("load", "Loading prompt sets " + config.benchmarks().stream().map(b -> b.name()).toList(),
        false);
    Dataset<Row> prompts = PromptLoader.load(spark, config.benchmarks()).persist(StorageLevel.MEMORY_AND_DISK());
    Map<String, Long> inByBenchmark = countByBenchmark(prompts);
    long rowsIn = inByBenchmark.values().stream().mapToLong(Long::longValue).sum();
    Dataset<Row> valid = prompts.where(col(Columns.REASON).isNull())
        .withColumn(Columns.PROMPT_SHA256, sha2(col(Columns.PROMPT), 256));
    long validCount = valid.count();
    Dataset<Row> todo = resume ? keepScoredAndFindTodo(spark, config, valid) : startEmpty(spark, config, valid);
    long todoCount = resume ? todo.count() : validCount;
    long chunks = Math.max(1, (todoCount + sc.checkpointRows() - 1) / sc.checkpointRows());
    LOG.info("{} input rows, {} valid prompts, {} to score{} in {} chunk(s)", rowsIn, validCount, todoCount,
        resume ? " (resumed: " + (validCount - todoCount) + " already scored)" : "", chunks);

    ScoreMetrics metrics = ScoreMetrics.register(spark);
    // rejects start with the input's bad rows; each chunk appends the prompts the model could not score
    TableWriter.writeRun(rejectRows(prompts.where(col(Columns.REASON).isNotNull()), runId), config.output(),
        Tables.REJECTS, runId);
    Dataset<Row> inFlight = null; // the chunk being scored, unpersisted once committed (or on failure)
    Double canary = null;
    int canaryPrompts = 0;
    FaultInjection.StageFault fault = FaultInjection.StageFault.fromProperty();
    try {
      try (Progress progress = new Progress("score", todoCount, metrics.prompts(), PROGRESS_EVERY)) {
        for (long k = 0; k < chunks && todoCount > 0; k++) {
          Dataset<Row> chunk = chunks == 1 ? todo
              : todo.where(pmod(xxhash64(col(Columns.BENCHMARK), col(Columns.PROMPT_ID)), lit(chunks)).equalTo(k));
          long chunkRows = chunks == 1 ? todoCount : todoCount / chunks;
          int partitions = partitions(chunkRows, sc.rowsPerPartition(), jsc.defaultParallelism());
          jsc.setJobGroup("score", "Scoring chunk " + (k + 1) + "/" + chunks + " with " + spec.dir(), false);
          Dataset<Row> scored = chunk
              .repartition(partitions, col(Columns.BENCHMARK), col(Columns.PROMPT_ID))
              .mapPartitions(new ScorePartition(spec, sc.temperatures(), Batching.of(sc), metrics),
                  Encoders.row(ScoredPrompt.SCHEMA))
              .persist(StorageLevel.MEMORY_AND_DISK());
          inFlight = scored;
          TableWriter.appendRun(scored.where(col(Columns.REASON).isNull()).withColumn(Columns.RUN_ID, lit(runId))
              .withColumn(Columns.PROMPT_SHA256, sha2(col(Columns.PROMPT), 256))
              .select(Tables.columns(Tables.SCORES_SCHEMA)), config.output(), Tables.SCORES, runId);
          TableWriter.appendRun(rejectRows(scored.where(col(Columns.REASON).isNotNull()), runId), config.output(),
              Tables.REJECTS, runId);
          if (k == 0 && sc.canaryPrompts() > 0) {
            jsc.setJobGroup("canary", "Re-scoring canary prompts one at a time", false);
            CanaryCheck.Result c = CanaryCheck.run(scored.where(col(Columns.REASON).isNull()), spec, sc);
            canaryPrompts = c.prompts();
            canary = c.prompts() == 0 ? null : c.maxAbsDiff();
          }
          scored.unpersist(); // committed: the cache does not grow with the run
          inFlight = null;
          fault.afterCommit(k + 1);
        }
      }
      LOG.info("Padding efficiency of the scored batches: {} (real tokens / padded tokens)",
          String.format(java.util.Locale.ROOT, "%.3f", metrics.paddingEfficiency()));
      if (canary != null && !(canary <= sc.canaryTolerance())) {
        LOG.warn("Canary: scores of prompts scored alone differ from their batched scores by up to {} "
            + "(tolerance {}): batching or padding changes the model's output", canary, sc.canaryTolerance());
      }

      jsc.setJobGroup("count", "Counting the written tables", false);
      Dataset<Row> written = TableWriter.readRun(spark, config.output(), Tables.SCORES, Tables.SCORES_SCHEMA,
          runId);
      Map<String, Long> scoredByBenchmark = countByBenchmark(written.select(Columns.BENCHMARK, Columns.PROMPT_ID)
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
      Map<String, RunRow.BenchmarkCounts> byBenchmark = new java.util.TreeMap<>();
      for (var b : config.benchmarks()) {
        long in = inByBenchmark.getOrDefault(b.name(), 0L);
        long ok = scoredByBenchmark.getOrDefault(b.name(), 0L);
        long bad = rejectedByBenchmark.getOrDefault(b.name(), 0L);
        if (ok + bad != in) {
          throw new IllegalStateException("benchmark " + b.name() + ": rows_in = " + in + " but scored (" + ok
              + ") + rejected (" + bad + ") = " + (ok + bad) + ": rows were lost or duplicated");
        }
        byBenchmark.put(b.name(), new RunRow.BenchmarkCounts(in, ok, bad));
      }
      if (scoredPrompts == 0) {
        throw new IllegalStateException("No prompt could be scored: all " + rowsIn + " input rows were rejected; "
            + "see " + TableWriter.path(config.output(), Tables.REJECTS) + " (run_id=" + runId + ") for the reasons");
      }
      return new Result(rowsIn, scoredPrompts, rejected, canaryPrompts, canary, metrics.paddingEfficiency(),
          byBenchmark);
    } finally {
      if (inFlight != null) {
        inFlight.unpersist();
      }
      prompts.unpersist();
    }
  }

  private static Dataset<Row> rejectRows(Dataset<Row> promptRows, String runId) {
    return promptRows.withColumn(Columns.RUN_ID, lit(runId)).select(Tables.columns(Tables.REJECTS_SCHEMA));
  }

  /** Without resume: the run's scores partition starts empty, and every valid prompt is to score. */
  private static Dataset<Row> startEmpty(SparkSession spark, EvalConfig config, Dataset<Row> valid) {
    TableWriter.deleteRun(spark, config.output(), Tables.SCORES, config.runId());
    return valid;
  }

  /**
   * With resume: keeps the run's existing scores of prompts still in the input with the same text
   * (rewriting the partition without the others, so it ends as an uninterrupted run's would), and
   * returns the valid prompts not scored yet. Prompts the model rejected in an earlier attempt (too
   * long, non-finite) have no scores, so they are among those and land in {@code rejects} again.
   */
  private static Dataset<Row> keepScoredAndFindTodo(SparkSession spark, EvalConfig config, Dataset<Row> valid) {
    String output = config.output();
    String runId = config.runId();
    Dataset<Row> existing = TableWriter.readRunIfPresent(spark, output, Tables.SCORES, Tables.SCORES_SCHEMA, runId);
    if (existing == null) {
      return valid;
    }
    // a kept score must match the prompt's text and its labels now (label mappings may have changed)
    Dataset<Row> now = valid.select(Columns.BENCHMARK, Columns.PROMPT_ID, Columns.PROMPT_SHA256, Columns.SHOULD_REFUSE,
        Columns.CATEGORY, Columns.SUBCATEGORY).alias("now");
    Column same = col("old." + Columns.BENCHMARK).equalTo(col("now." + Columns.BENCHMARK));
    for (String c : List.of(Columns.PROMPT_ID, Columns.PROMPT_SHA256, Columns.SHOULD_REFUSE, Columns.CATEGORY,
        Columns.SUBCATEGORY)) {
      same = same.and(col("old." + c).eqNullSafe(col("now." + c)));
    }
    Dataset<Row> kept = existing.alias("old").join(now, same, "left_semi")
        .dropDuplicates(Columns.BENCHMARK, Columns.PROMPT_ID, Columns.TEMPERATURE);
    long existingRows = existing.count();
    long keptRows = kept.count();
    if (keptRows != existingRows) {
      LOG.info("Resume: dropping {} score rows of prompts no longer in the input (or changed)", existingRows - keptRows);
      TableWriter.replaceRun(spark, kept, output, Tables.SCORES, runId);
    }
    Dataset<Row> done = TableWriter.readRun(spark, output, Tables.SCORES, Tables.SCORES_SCHEMA, runId)
        .select(Columns.BENCHMARK, Columns.PROMPT_ID).distinct();
    return valid.join(done, scala.jdk.javaapi.CollectionConverters.asScala(
        List.of(Columns.BENCHMARK, Columns.PROMPT_ID)).toSeq(), "left_anti");
  }

  private static Map<String, Long> countByBenchmark(Dataset<Row> rows) {
    Map<String, Long> out = new java.util.TreeMap<>();
    for (Row r : rows.groupBy(Columns.BENCHMARK).count().collectAsList()) {
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

package dev.refusaltokens.eval.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.xxhash64;

import dev.refusaltokens.eval.config.ScoringConfig;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.time.Duration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * The stage's scoring loop: the prompts to score are cut into chunks of about {@code
 * scoring.checkpoint_rows} (by a hash of benchmark and id); each chunk is scored and committed
 * (appended) to the run's {@code scores} and {@code rejects} before the next starts, so a run that
 * dies loses at most the chunk in flight. The first chunk's scores are checked by the canary.
 */
public final class ChunkedScoring {

  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(30);

  private final RunTables tables;
  private final ModelSpec spec;
  private final ScoringConfig sc;
  private final ScoreMetrics metrics;
  private final JavaSparkContext jsc;
  private final FaultInjection.StageFault fault = FaultInjection.StageFault.fromProperty();

  ChunkedScoring(RunTables tables, ModelSpec spec, ScoringConfig sc, ScoreMetrics metrics) {
    this.tables = tables;
    this.spec = spec;
    this.sc = sc;
    this.metrics = metrics;
    this.jsc = JavaSparkContext.fromSparkContext(tables.spark().sparkContext());
  }

  /** Chunks for {@code prompts} valid prompts: one per {@code checkpointRows}, at least one. */
  public static long chunks(long prompts, int checkpointRows) {
    return Math.max(1, (prompts + checkpointRows - 1) / checkpointRows);
  }

  /**
   * Scores and commits every chunk; returns the canary's result ({@link CanaryCheck.Result#NOT_RUN}
   * when off). A chunk is the prompts whose (benchmark, id) hash falls in it, of all {@code
   * validPrompts}; a resumed run's chunk holds only the prompts of it still to score (none when it
   * was committed before), so a missing prompt lands in the partition and batch it would have in an
   * uninterrupted run. The canary re-scores prompts of the first chunk with any.
   */
  CanaryCheck.Result scoreAll(TodoPrompts todo, long chunks, long validPrompts) {
    CanaryCheck.Result canary = CanaryCheck.Result.NOT_RUN;
    int partitions =
        partitions(validPrompts / chunks, sc.rowsPerPartition(), jsc.defaultParallelism());
    try (Progress progress =
        new Progress("score", todo.count(), metrics.prompts(), PROGRESS_EVERY)) {
      for (long k = 0; k < chunks && todo.count() > 0; k++) {
        Dataset<Row> scored = score(todo, k, chunks, partitions);
        try {
          commit(scored);
          if (canary.prompts() == 0 && sc.canaryPrompts() > 0) {
            canary = canary(scored);
          }
        } finally {
          scored.unpersist(); // committed (or failed): the cache does not grow with the run
        }
        fault.afterCommit(k + 1);
      }
    }
    return canary;
  }

  /**
   * Chunk {@code k} of {@code chunks} as {@link ScoredPrompt} rows, persisted: two tables are
   * written from it.
   */
  private Dataset<Row> score(TodoPrompts todo, long k, long chunks, int partitions) {
    Dataset<Row> chunk =
        chunks == 1
            ? todo.rows()
            : todo.rows()
                .where(
                    pmod(xxhash64(col(Columns.BENCHMARK), col(Columns.PROMPT_ID)), lit(chunks))
                        .equalTo(k));
    jsc.setJobGroup(
        "score", "Scoring chunk " + (k + 1) + "/" + chunks + " with " + spec.dir(), false);
    return chunk
        .repartition(partitions, col(Columns.BENCHMARK), col(Columns.PROMPT_ID))
        // a fixed order within each partition: its windows and batches, and so the last bits of
        // every score, do not depend on how the rows arrived (a resumed run's differ)
        .sortWithinPartitions(col(Columns.BENCHMARK), col(Columns.PROMPT_ID))
        .mapPartitions(
            new ScorePartition(
                spec, sc.temperatures(), Batching.of(sc), metrics, sc.specialTokensInPrompt()),
            Encoders.row(ScoredPrompt.SCHEMA))
        .persist(StorageLevel.MEMORY_AND_DISK());
  }

  /**
   * Appends the chunk's scores and the prompts the model could not score (each one committed Spark
   * write).
   */
  private void commit(Dataset<Row> scored) {
    // written by one task per slot, not one per scoring partition: each write task has a fixed cost
    // (a Parquet writer, a committed file), which at rows_per_partition rows a task cost as much
    // as encoding the rows
    Dataset<Row> rows = scored.coalesce(Math.max(1, jsc.defaultParallelism()));
    tables.append(Table.SCORES, TableProjection.scores(rows, tables.runId()));
    tables.append(Table.REJECTS, TableProjection.rejects(rows, tables.runId()));
  }

  private CanaryCheck.Result canary(Dataset<Row> scored) {
    jsc.setJobGroup("canary", "Re-scoring canary prompts one at a time", false);
    return CanaryCheck.run(scored.where(col(Columns.REASON).isNull()), spec, sc);
  }

  /**
   * Partitions follow data size: one per {@code rowsPerPartition} rows, at least the parallelism.
   */
  public static int partitions(long rows, int rowsPerPartition, int parallelism) {
    long bySize = (rows + rowsPerPartition - 1) / rowsPerPartition;
    return (int) Math.max(1, Math.max(parallelism, Math.min(bySize, 100_000)));
  }
}

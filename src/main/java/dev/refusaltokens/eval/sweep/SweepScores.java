package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * The scores a sweep reads (every part of the sweep reads all of them, so they are persisted for
 * its duration; {@code run_id} dropped) and the run's control tokens they are read with. Rows are
 * read back with {@link dev.refusaltokens.eval.table.ScoreRow#fromRow}.
 */
public record SweepScores(Dataset<Row> rows, String respondToken, List<String> refusalTokens)
    implements AutoCloseable {

  public SweepScores {
    refusalTokens = List.copyOf(refusalTokens);
  }

  /** The run's scores, persisted in memory and on disk until {@link #close()}. */
  public static SweepScores persist(RunTables tables, RunRow run) {
    Dataset<Row> rows =
        tables.read(Table.SCORES).drop(Columns.RUN_ID).persist(StorageLevel.MEMORY_AND_DISK());
    return new SweepScores(rows, run.respondToken(), run.refusalTokens());
  }

  @Override
  public void close() {
    rows.unpersist();
  }
}

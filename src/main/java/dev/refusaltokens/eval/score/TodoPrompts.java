package dev.refusaltokens.eval.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sha2;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The valid prompts the stage still has to score, and how many; choosing them settles what becomes
 * of the run's earlier {@code scores}.
 */
record TodoPrompts(Dataset<Row> rows, long count) {

  private static final Logger LOG = LoggerFactory.getLogger(ScoreStage.class); // the stage's log

  /**
   * The columns a kept score must agree on with the prompt now (label mappings may have changed).
   */
  private static final List<String> SAME =
      List.of(
          Columns.PROMPT_ID,
          Columns.PROMPT_SHA256,
          Columns.SHOULD_REFUSE,
          Columns.CATEGORY,
          Columns.SUBCATEGORY);

  /**
   * Without resume: the run's scores partition starts empty, and every valid prompt is to score.
   */
  static TodoPrompts startEmpty(RunTables tables, PromptInput input) {
    tables.delete(Table.SCORES);
    return new TodoPrompts(input.valid(), input.validCount());
  }

  /**
   * With resume: keeps the run's existing scores of prompts still in the input with the same text
   * (rewriting the partition without the others, so it ends as an uninterrupted run's would), and
   * returns the valid prompts not scored yet. Prompts the model rejected in an earlier attempt (too
   * long, non-finite) have no scores, so they are among those and land in {@code rejects} again.
   */
  static TodoPrompts keepScoredAndFindTodo(RunTables tables, PromptInput input) {
    Dataset<Row> todo = notScoredYet(tables, input.valid());
    return new TodoPrompts(todo, todo.count());
  }

  private static Dataset<Row> notScoredYet(RunTables tables, Dataset<Row> valid) {
    Dataset<Row> existing = tables.readIfPresent(Table.SCORES);
    if (existing == null) {
      return valid;
    }
    Dataset<Row> kept = stillValid(existing, valid);
    long existingRows = existing.count();
    long keptRows = kept.count();
    if (keptRows != existingRows) {
      LOG.info(
          "Resume: dropping {} score rows of prompts no longer in the input (or changed)",
          existingRows - keptRows);
      tables.replace(Table.SCORES, kept);
    }
    Dataset<Row> done =
        tables.read(Table.SCORES).select(Columns.BENCHMARK, Columns.PROMPT_ID).distinct();
    return valid.join(
        done,
        CollectionConverters.asScala(List.of(Columns.BENCHMARK, Columns.PROMPT_ID)).toSeq(),
        "left_anti");
  }

  /**
   * The existing scores rows whose prompt is valid now with the same text and labels, once each.
   */
  private static Dataset<Row> stillValid(Dataset<Row> existing, Dataset<Row> valid) {
    Dataset<Row> now =
        valid
            .select(
                col(Columns.BENCHMARK),
                col(Columns.PROMPT_ID),
                sha2(col(Columns.PROMPT), 256).as(Columns.PROMPT_SHA256),
                col(Columns.SHOULD_REFUSE),
                col(Columns.CATEGORY),
                col(Columns.SUBCATEGORY))
            .alias("now");
    Column same = col("old." + Columns.BENCHMARK).equalTo(col("now." + Columns.BENCHMARK));
    for (String c : SAME) {
      same = same.and(col("old." + c).eqNullSafe(col("now." + c)));
    }
    return existing
        .alias("old")
        .join(now, same, "left_semi")
        .dropDuplicates(Columns.BENCHMARK, Columns.PROMPT_ID, Columns.TEMPERATURE);
  }
}

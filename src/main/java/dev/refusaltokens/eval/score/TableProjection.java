package dev.refusaltokens.eval.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sha2;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.Table;
import java.util.Arrays;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * {@link ScoredPrompt} rows (and input {@code ParsedPrompt} rows) projected onto one run's {@code
 * scores} and {@code rejects}: the table's columns, by name, in the table's order.
 */
final class TableProjection {

  private TableProjection() {}

  /** The scored rows (no {@code reason}) as the run's {@code scores} rows. */
  static Dataset<Row> scores(Dataset<Row> scoredPrompts, String runId) {
    return scoredPrompts
        .where(col(Columns.REASON).isNull())
        .withColumn(Columns.RUN_ID, lit(runId))
        .withColumn(Columns.PROMPT_SHA256, sha2(col(Columns.PROMPT), 256))
        .select(columns(Table.SCORES));
  }

  /** The rejected rows (those with a {@code reason}) as the run's {@code rejects} rows. */
  static Dataset<Row> rejects(Dataset<Row> promptRows, String runId) {
    return promptRows
        .where(col(Columns.REASON).isNotNull())
        .withColumn(Columns.RUN_ID, lit(runId))
        .select(columns(Table.REJECTS));
  }

  private static Column[] columns(Table table) {
    return Arrays.stream(table.schema().fieldNames()).map(functions::col).toArray(Column[]::new);
  }
}

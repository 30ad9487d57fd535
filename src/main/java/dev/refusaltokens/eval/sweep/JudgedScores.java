package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.ResponseRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scores a judged sweep reads: every {@code scores} row joined (by benchmark and prompt id)
 * with its prompt's {@code responses} — an array column {@value #RESPONSES} of {first token, prompt
 * SHA-256, labels}, null for a prompt outside the responses sample — persisted for the sweep's
 * duration, with the judges found in the labels. The join is a full outer one, so that a response
 * of a prompt with no scores row reaches the executors and fails there ({@link JudgedPrompt})
 * instead of vanishing. Rows are read back with {@link JudgedPrompt#fromRow}.
 *
 * @param judges every judge of the responses' {@code labels}: the primary one ({@code judges[0]},
 *     whose label is {@code responses.label}) first, the others by name
 */
public record JudgedScores(
    Dataset<Row> rows, String respondToken, List<String> refusalTokens, List<String> judges)
    implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(JudgedScores.class);

  /** The joined column of a prompt's responses (null outside the sample). */
  static final String RESPONSES = "responses";

  private static final String JUDGE = "judge";
  private static final String JUDGE_LABEL = "judge_label";
  private static final String ROWS = "rows";
  private static final String AGREE = "agree";

  public JudgedScores {
    refusalTokens = List.copyOf(refusalTokens);
    judges = List.copyOf(judges);
    if (judges.isEmpty()) {
      throw new IllegalArgumentException("judged scores need at least one judge");
    }
  }

  /** The primary judge: the one whose label is {@code responses.label}. */
  public String primaryJudge() {
    return judges.get(0);
  }

  /**
   * The scores joined with the run's responses, the primary judge found from the rows: the judge
   * whose label is {@code responses.label} in every row (the first by name when several agree on
   * every row, which then have the same figures). Null when {@code responses} is null or empty (the
   * run has no responses: {@code responses.enabled} is false).
   */
  public static JudgedScores join(SweepScores scores, Dataset<Row> responses) {
    return join(scores, responses, null);
  }

  /**
   * As {@link #join(SweepScores, Dataset)}, with the primary judge named ({@code judges[0]} of the
   * configuration; null: found from the rows). Fails when a judge labelled only some responses, or
   * when the named judge's labels are not {@code responses.label}.
   */
  public static JudgedScores join(SweepScores scores, Dataset<Row> responses, String primaryJudge) {
    if (responses == null) {
      return null;
    }
    Dataset<Row> rows = responses.drop(Columns.RUN_ID);
    long total = rows.count();
    if (total == 0) {
      return null;
    }
    List<String> judges = judges(rows, total, primaryJudge);
    Dataset<Row> byPrompt =
        rows.groupBy(Columns.BENCHMARK, Columns.PROMPT_ID)
            .agg(
                collect_list(
                        struct(
                            col(ResponseRow.FIRST_TOKEN),
                            col(Columns.PROMPT_SHA256),
                            col(ResponseRow.LABELS)))
                    .as(RESPONSES));
    Dataset<Row> joined =
        scores
            .rows()
            .join(byPrompt, new String[] {Columns.BENCHMARK, Columns.PROMPT_ID}, "full_outer")
            .persist(StorageLevel.MEMORY_AND_DISK());
    return new JudgedScores(joined, scores.respondToken(), scores.refusalTokens(), judges);
  }

  /**
   * The judges of the labels, the primary first; every judge must have labelled every response row.
   */
  private static List<String> judges(Dataset<Row> responses, long total, String primaryJudge) {
    Map<String, long[]> byJudge = new TreeMap<>(); // judge → {rows labelled, rows where = label}
    for (Row r :
        responses
            .selectExpr(
                "explode(" + ResponseRow.LABELS + ") AS (" + JUDGE + ", " + JUDGE_LABEL + ")",
                ResponseRow.LABEL)
            .groupBy(JUDGE)
            .agg(
                count(lit(1)).as(ROWS),
                sum(when(col(JUDGE_LABEL).equalTo(col(ResponseRow.LABEL)), 1).otherwise(0))
                    .as(AGREE))
            .collectAsList()) {
      byJudge.put(
          r.getString(r.fieldIndex(JUDGE)),
          new long[] {r.getLong(r.fieldIndex(ROWS)), r.getLong(r.fieldIndex(AGREE))});
    }
    if (byJudge.isEmpty()) {
      throw new IllegalStateException(
          "the run's "
              + total
              + " responses rows have no judge labels (responses.labels is empty): "
              + "judge them (judges) before the sweep");
    }
    byJudge.forEach(
        (judge, c) -> {
          if (c[0] != total) {
            throw new IllegalStateException(
                "judge '"
                    + judge
                    + "' labelled "
                    + c[0]
                    + " of the run's "
                    + total
                    + " responses rows: every response needs every judge's label; "
                    + "judge the responses again with the same judges");
          }
        });
    List<String> agreeing =
        byJudge.entrySet().stream()
            .filter(e -> e.getValue()[1] == total)
            .map(Map.Entry::getKey)
            .toList();
    String primary;
    if (primaryJudge != null) {
      if (!agreeing.contains(primaryJudge)) {
        throw new IllegalStateException(
            "the primary judge '"
                + primaryJudge
                + "' is not the judge of responses.label (judges in the labels: "
                + byJudge.keySet()
                + ", agreeing with label on every row: "
                + agreeing
                + ")");
      }
      primary = primaryJudge;
    } else if (agreeing.isEmpty()) {
      throw new IllegalStateException(
          "responses.label is no judge's label on every row (judges: "
              + byJudge.keySet()
              + "): it must be the primary judge's (judges[0])");
    } else {
      primary = agreeing.get(0);
      if (agreeing.size() > 1) {
        LOG.info(
            "Judges {} agree with responses.label on every row; '{}' is named the primary one",
            agreeing,
            primary);
      }
    }
    List<String> judges = new ArrayList<>();
    judges.add(primary);
    byJudge.keySet().stream().filter(j -> !j.equals(primary)).forEach(judges::add);
    return judges;
  }

  @Override
  public void close() {
    rows.unpersist();
  }
}

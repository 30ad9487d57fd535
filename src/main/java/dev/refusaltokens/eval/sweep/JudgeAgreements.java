package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.refusaltokens.eval.judge.AgreementCounts;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgeAgreementRow;
import dev.refusaltokens.eval.table.ResponseRow;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * {@code judge_agreement} of an evaluation run: every pair of the run's judges over every row of
 * {@code responses} (each response is labelled by every judge, {@link JudgedScores} checks it). The
 * unit is a response, not a prompt: a prompt has one response per first token some setting emits,
 * so the set leans to the responses the sweep needs (refusal-token responses included), not to a
 * natural sample of the model's answers.
 */
final class JudgeAgreements {

  private JudgeAgreements() {}

  /**
   * The rows of {@code judges} (primary first), empty with fewer than two judges.
   *
   * @param responses the run's {@code responses}
   * @param confidence the level of κ's interval ({@code report.confidence})
   */
  static List<JudgeAgreementRow> agreements(
      Dataset<Row> responses, List<String> judges, double confidence, String runId) {
    List<List<String>> pairs = AgreementCounts.judgePairs(judges);
    Dataset<Row> all = null;
    for (List<String> pair : pairs) {
      Dataset<Row> p =
          responses.select(
              col(Columns.BENCHMARK),
              col(Columns.CATEGORY),
              lit(pair.get(0)).as(JudgeAgreementRow.JUDGE_A),
              lit(pair.get(1)).as(JudgeAgreementRow.JUDGE_B),
              col(ResponseRow.LABELS).getItem(pair.get(0)).as(AgreementCounts.LABEL_A),
              col(ResponseRow.LABELS).getItem(pair.get(1)).as(AgreementCounts.LABEL_B));
      all = all == null ? p : all.unionAll(p);
    }
    return all == null ? List.of() : AgreementCounts.rows(all, pairs, confidence, runId);
  }
}

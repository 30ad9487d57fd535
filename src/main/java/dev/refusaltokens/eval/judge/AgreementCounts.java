package dev.refusaltokens.eval.judge;

import static org.apache.spark.sql.functions.col;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgeAgreementRow;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The {@code judge_agreement} rows of a set of paired labels: every response labelled by two judges
 * becomes one pair row, Spark counts the pairs per (benchmark, category, judge pair, label pair),
 * and the counts become one row per benchmark × judge pair × ({@code ALL}, then each category).
 * Shared by the evaluation's sweep (pairs from {@code responses}) and {@code judge-check} (pairs
 * from the labelled file).
 */
public final class AgreementCounts {

  /** The pair rows' label columns (besides benchmark, category, judge_a and judge_b). */
  public static final String LABEL_A = "label_a";

  public static final String LABEL_B = "label_b";

  private AgreementCounts() {}

  /** Every pair of distinct judges, in the given order: (j0, j1), (j0, j2), …, (j1, j2), …. */
  public static List<List<String>> judgePairs(List<String> judges) {
    List<List<String>> out = new ArrayList<>();
    for (int i = 0; i < judges.size(); i++) {
      for (int j = i + 1; j < judges.size(); j++) {
        out.add(List.of(judges.get(i), judges.get(j)));
      }
    }
    return out;
  }

  /**
   * Counts {@code pairs} (columns {@code benchmark}, {@code category}, {@code judge_a}, {@code
   * judge_b}, {@link #LABEL_A}, {@link #LABEL_B}) into rows: by benchmark name, then by the order
   * of {@code judgePairs}; within them {@code ALL} first, then each category by name, the rows
   * without a category last (when no row has a category, {@code ALL} only). A label that is null (a
   * judge that did not label a response) fails: agreement over the other responses would hide it.
   */
  public static List<JudgeAgreementRow> rows(
      Dataset<Row> pairs, List<List<String>> judgePairs, double confidence, String runId) {
    // benchmark → judge pair → category → counts
    Map<String, Map<List<String>, Map<String, ConfusionMatrix>>> counts = new TreeMap<>();
    for (Row r :
        pairs
            .groupBy(
                col(Columns.BENCHMARK),
                col(Columns.CATEGORY),
                col(JudgeAgreementRow.JUDGE_A),
                col(JudgeAgreementRow.JUDGE_B),
                col(LABEL_A),
                col(LABEL_B))
            .count()
            .collectAsList()) {
      String a = r.getString(2);
      String b = r.getString(3);
      if (r.isNullAt(4) || r.isNullAt(5)) {
        throw new IllegalStateException(
            r.getLong(6)
                + " response(s) of benchmark '"
                + r.getString(0)
                + "' have no label of judge '"
                + (r.isNullAt(4) ? a : b)
                + "': every response needs every judge's label; judge the responses again");
      }
      counts
          .computeIfAbsent(r.getString(0), k -> new HashMap<>())
          .computeIfAbsent(List.of(a, b), k -> new HashMap<>())
          .merge(
              r.getString(1),
              ConfusionMatrix.EMPTY.plus(
                  Label.fromId(r.getString(4)), Label.fromId(r.getString(5)), r.getLong(6)),
              ConfusionMatrix::plus);
    }
    List<JudgeAgreementRow> out = new ArrayList<>();
    counts.forEach(
        (benchmark, byPair) -> {
          for (List<String> pair : judgePairs) {
            Map<String, ConfusionMatrix> byCategory = byPair.get(pair);
            if (byCategory == null) {
              continue;
            }
            out.addAll(rows(benchmark, pair, byCategory, confidence, runId));
          }
        });
    return out;
  }

  /**
   * The order of the rows: by benchmark, then by pair in the order of {@link #judgePairs} of {@code
   * judges} (a judge not listed after those listed, by name), then {@code ALL}, the categories by
   * name and the uncategorised rows last — the order {@link #rows} returns them in.
   */
  public static Comparator<JudgeAgreementRow> order(List<String> judges) {
    Comparator<String> judge =
        Comparator.<String>comparingInt(
                j -> judges.indexOf(j) < 0 ? Integer.MAX_VALUE : judges.indexOf(j))
            .thenComparing(Comparator.naturalOrder());
    return Comparator.comparing(JudgeAgreementRow::benchmark)
        .thenComparing(JudgeAgreementRow::judgeA, judge)
        .thenComparing(JudgeAgreementRow::judgeB, judge)
        .thenComparingInt(r -> Columns.ALL.equals(r.category()) ? 0 : r.category() == null ? 2 : 1)
        .thenComparing(
            JudgeAgreementRow::category, Comparator.nullsLast(Comparator.naturalOrder()));
  }

  private static List<JudgeAgreementRow> rows(
      String benchmark,
      List<String> pair,
      Map<String, ConfusionMatrix> byCategory,
      double confidence,
      String runId) {
    List<JudgeAgreementRow> out = new ArrayList<>();
    ConfusionMatrix all =
        byCategory.values().stream().reduce(ConfusionMatrix.EMPTY, ConfusionMatrix::plus);
    out.add(
        new JudgeAgreementRow(
            benchmark, Columns.ALL, pair.get(0), pair.get(1), all, confidence, runId));
    List<String> categories = new ArrayList<>(byCategory.keySet());
    if (categories.equals(Collections.singletonList(null))) {
      return out; // no row has a category: the one group would repeat ALL
    }
    categories.sort(Comparator.nullsLast(Comparator.naturalOrder()));
    for (String c : categories) {
      out.add(
          new JudgeAgreementRow(
              benchmark, c, pair.get(0), pair.get(1), byCategory.get(c), confidence, runId));
    }
    return out;
  }
}

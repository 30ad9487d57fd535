package dev.refusaltokens.eval.report;

import dev.refusaltokens.eval.config.JudgeConfig;
import dev.refusaltokens.eval.config.RecordedConfig;
import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.judge.AgreementCounts;
import dev.refusaltokens.eval.judge.ConfusionMatrix;
import dev.refusaltokens.eval.judge.Label;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgeAgreementRow;
import dev.refusaltokens.eval.table.ResponseRow;
import dev.refusaltokens.eval.table.RowReader;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The report's "Agreement between judges": the run's {@code judge_agreement} rows as a table (per
 * benchmark, judge pair and category: responses, agreement, κ and its interval) and the {@code ALL}
 * agreement matrix of each benchmark and pair. A run with fewer than two judges, or without
 * responses, gets a note in their place.
 */
final class AgreementSection {

  /** The note of a run whose responses have one judge. */
  static final String ONE_JUDGE =
      "one judge labels the responses: no agreement between judges (configure two or more judges)";

  private AgreementSection() {}

  /**
   * Puts {@code agreement_rows}, {@code agreement_matrices}, {@code agreement_labels} and {@code
   * agreement_note} in the template context.
   */
  static void add(RunTables tables, RunRow run, Map<String, Object> context) {
    List<Map<String, Object>> rows = new ArrayList<>();
    List<Map<String, Object>> matrices = new ArrayList<>();
    context.put("agreement_rows", rows);
    context.put("agreement_matrices", matrices);
    context.put("agreement_labels", Arrays.stream(Label.values()).map(Label::id).toList());
    Dataset<Row> table = tables.readIfPresent(Table.JUDGE_AGREEMENT);
    List<JudgeAgreementRow> records =
        table == null ? List.of() : ReportWriter.records(table, JudgeAgreementRow::fromRow);
    if (records.isEmpty()) {
      context.put("agreement_note", note(tables));
      return;
    }
    List<String> judges =
        RecordedConfig.of(run.config()).judges().stream().map(JudgeConfig::name).toList();
    List<JudgeAgreementRow> sorted = new ArrayList<>(records);
    sorted.sort(AgreementCounts.order(judges));
    context.put("agreement_confidence", RateInterval.percent(sorted.get(0).confidence()));
    for (JudgeAgreementRow r : sorted) {
      ConfusionMatrix m = r.confusion();
      Double kappa = m.kappa();
      double[] ci = m.kappaInterval(r.confidence());
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("benchmark", r.benchmark());
      row.put("category", Objects.requireNonNullElse(r.category(), "(none)"));
      row.put("pair", r.judgeA() + " vs " + r.judgeB());
      row.put("n", m.n());
      row.put("agreement", fmt(m.accuracy()));
      row.put("kappa", kappa == null ? "n/a" : fmt(kappa));
      row.put("interval", ci == null ? "n/a" : "[" + fmt(ci[0]) + ", " + fmt(ci[1]) + "]");
      rows.add(row);
      if (Columns.ALL.equals(r.category())) {
        List<Map<String, Object>> lines = new ArrayList<>();
        for (Label a : Label.values()) {
          List<Long> cells = new ArrayList<>();
          for (Label b : Label.values()) {
            cells.add(m.count(a, b));
          }
          lines.add(Map.of("label", a.id(), "cells", cells));
        }
        matrices.add(
            Map.of(
                "title",
                r.benchmark() + ": " + r.judgeA() + " (rows) vs " + r.judgeB() + " (columns)",
                "lines",
                lines));
      }
    }
  }

  /** Why a run has no agreement rows: no responses, one judge, or a table from before this one. */
  private static String note(RunTables tables) {
    Dataset<Row> responses = tables.readIfPresent(Table.RESPONSES);
    if (responses == null || responses.isEmpty()) {
      return "no responses (responses.enabled false): no agreement between judges";
    }
    Map<String, String> labels =
        RowReader.of(responses.select(ResponseRow.LABELS).first()).mapView(ResponseRow.LABELS);
    return labels.size() < 2
        ? ONE_JUDGE
        : "the responses have "
            + labels.size()
            + " judges but judge_agreement has no rows for this"
            + " run (swept before the table existed?): sweep the run again";
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.3f", v);
  }
}

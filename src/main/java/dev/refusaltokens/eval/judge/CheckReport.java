package dev.refusaltokens.eval.judge;

import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgeAgreementRow;
import dev.refusaltokens.eval.table.JudgeCheckRejectRow;
import dev.refusaltokens.eval.table.JudgeCheckRow;
import dev.refusaltokens.eval.table.Table;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The console report of {@code judge-check}: plain text tables, one section per judge, then the
 * judges' agreement with each other.
 */
final class CheckReport {

  private static final int RESPONSE_CHARS = 70;

  private CheckReport() {}

  static String render(JudgeCheckJob.Outcome o) {
    StringBuilder b = new StringBuilder();
    long judged = o.rowsRead() - o.rowsRejected();
    b.append(
        String.format(
            Locale.ROOT,
            "judge-check %s: %s (sha256 %s)%n  %d rows read, %d judged, %d rejected%n",
            o.config().runId(),
            o.config().file(),
            o.labelledSha256(),
            o.rowsRead(),
            judged,
            o.rowsRejected()));
    String lastJudge = null;
    for (JudgeCheckRow r : o.checks()) {
      if (!r.judge().equals(lastJudge)) {
        lastJudge = r.judge();
        judgeSection(b, r.judge(), o);
      }
    }
    agreements(b, o);
    rejects(b, o);
    return b.toString();
  }

  /**
   * The judges against each other on the same rows: figures per pair and category, the matrices.
   */
  private static void agreements(StringBuilder b, JudgeCheckJob.Outcome o) {
    if (o.agreements().isEmpty()) {
      return;
    }
    b.append(
        String.format(
            Locale.ROOT,
            "%nAgreement between judges (the same %d rows; table %s)%n",
            o.rowsRead() - o.rowsRejected(),
            Table.JUDGE_AGREEMENT.id()));
    int width = width(o.agreements().stream().map(JudgeAgreementRow::category).toList());
    String pair = null;
    for (JudgeAgreementRow r : o.agreements()) {
      String p = r.judgeA() + " vs " + r.judgeB();
      if (!p.equals(pair)) {
        pair = p;
        b.append(String.format(Locale.ROOT, "  %s%n", p));
        b.append(head(width, "agreement", r.confidence())).append(System.lineSeparator());
      }
      b.append(figures(width, r.category(), r.confusion(), r.confidence()))
          .append(System.lineSeparator());
    }
    for (JudgeAgreementRow r : o.agreements()) {
      if (!Columns.ALL.equals(r.category())) {
        continue;
      }
      matrix(
          b,
          String.format(
              Locale.ROOT,
              "Agreement matrix, %s (rows: %s; columns: %s)",
              JudgeCheckJob.categoryName(r.category()),
              r.judgeA(),
              r.judgeB()),
          List.of(Label.values()),
          r.confusion());
    }
  }

  /** The category column's width: the longest name, at least 8. */
  private static int width(List<String> categories) {
    return Math.max(
        8,
        categories.stream().mapToInt(c -> JudgeCheckJob.categoryName(c).length()).max().orElse(8));
  }

  /** The header of a figures table: {@code agreed} is the share's column name. */
  private static String head(int width, String share, double confidence) {
    return String.format(
        Locale.ROOT,
        "  %-" + width + "s %6s %7s %9s %7s %17s",
        "category",
        "n",
        "agreed",
        share,
        "kappa",
        interval(confidence));
  }

  /** One group's figures: n, agreed, their share, κ and its interval. */
  private static String figures(int width, String category, ConfusionMatrix m, double confidence) {
    return String.format(
        Locale.ROOT,
        "  %-" + width + "s %6d %7d %9.3f %7s %17s",
        JudgeCheckJob.categoryName(category),
        m.n(),
        m.agreed(),
        m.accuracy(),
        kappa(m),
        bounds(m, confidence));
  }

  /** A label matrix: a row per label of {@code rows}, a column per label. */
  private static void matrix(StringBuilder b, String title, List<Label> rows, ConfusionMatrix m) {
    b.append("  ").append(title).append(System.lineSeparator());
    b.append(String.format(Locale.ROOT, "    %-9s", ""));
    for (Label j : Label.values()) {
      b.append(String.format(Locale.ROOT, " %9s", j.id()));
    }
    b.append(System.lineSeparator());
    for (Label h : rows) {
      b.append(String.format(Locale.ROOT, "    %-9s", h.id()));
      for (Label j : Label.values()) {
        b.append(String.format(Locale.ROOT, " %9d", m.count(h, j)));
      }
      b.append(System.lineSeparator());
    }
  }

  private static String interval(double confidence) {
    return RateInterval.percent(confidence) + "% interval";
  }

  private static String kappa(ConfusionMatrix m) {
    Double kappa = m.kappa();
    return kappa == null ? "n/a" : String.format(Locale.ROOT, "%.3f", kappa);
  }

  private static String bounds(ConfusionMatrix m, double confidence) {
    double[] ci = m.kappaInterval(confidence);
    return ci == null ? "n/a" : String.format(Locale.ROOT, "[%.3f, %.3f]", ci[0], ci[1]);
  }

  private static void judgeSection(StringBuilder b, String judge, JudgeCheckJob.Outcome o) {
    List<JudgeCheckRow> rows = o.checks().stream().filter(r -> r.judge().equals(judge)).toList();
    b.append(String.format(Locale.ROOT, "%nJudge %s: %s%n", judge, rows.get(0).judgeProvenance()));
    int width = width(rows.stream().map(JudgeCheckRow::category).toList());
    b.append(head(width, "accuracy", o.config().confidence()))
        .append(String.format(Locale.ROOT, " %8s%n", "unclear"));
    for (JudgeCheckRow r : rows) {
      ConfusionMatrix m = r.confusion();
      b.append(figures(width, r.category(), m, r.confidence()))
          .append(String.format(Locale.ROOT, " %8d%n", m.judgeTotal(Label.UNCLEAR)));
    }
    for (JudgeCheckRow r : rows) {
      matrix(
          b,
          "Confusion matrix, "
              + JudgeCheckJob.categoryName(r.category())
              + " (rows: human label; columns: judge label)",
          Label.HUMAN,
          r.confusion());
    }
    List<JudgeCheckJob.Disagreement> ds = o.disagreements().getOrDefault(judge, List.of());
    if (!ds.isEmpty()) {
      b.append(
          String.format(
              Locale.ROOT,
              "  First %d disagreements (line: human -> judge, response):%n",
              ds.size()));
      for (JudgeCheckJob.Disagreement d : ds) {
        b.append(
            String.format(
                Locale.ROOT,
                "    %d: %s -> %s [%s] %s%n",
                d.line(),
                d.human().id(),
                d.judge().id(),
                JudgeCheckJob.categoryName(d.category()),
                quoted(d.response())));
      }
    }
  }

  private static void rejects(StringBuilder b, JudgeCheckJob.Outcome o) {
    if (o.rowsRejected() == 0) {
      b.append(String.format(Locale.ROOT, "%nNo row rejected.%n"));
      return;
    }
    b.append(
        String.format(
            Locale.ROOT,
            "%nRejected %d rows (all in table %s):",
            o.rowsRejected(),
            Table.JUDGE_CHECK_REJECTS.id()));
    for (Map.Entry<String, Long> e : o.rejectsByReason().entrySet()) {
      b.append(' ').append(e.getKey()).append(' ').append(e.getValue());
    }
    b.append(System.lineSeparator());
    for (JudgeCheckRejectRow r : o.rejectsShown()) {
      b.append(String.format(Locale.ROOT, "  line %d: %s: %s%n", r.line(), r.reason(), r.detail()));
    }
  }

  private static String quoted(String response) {
    String oneLine = response.replace("\n", "\\n");
    return "\""
        + (oneLine.length() > RESPONSE_CHARS ? oneLine.substring(0, RESPONSE_CHARS) + "…" : oneLine)
        + "\"";
  }
}

package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgeAgreementRow;
import dev.refusaltokens.eval.table.JudgedPair;
import dev.refusaltokens.eval.table.JudgedRateRow;
import dev.refusaltokens.eval.table.OperatingPointRow;
import dev.refusaltokens.eval.table.RateRow;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The end-of-run summary: per category (and {@code ALL}), the refusal rate on should-refuse prompts
 * and the false-refusal rate on should-answer prompts, pooled over benchmarks, under the model's
 * greedy behaviour and under one τ shared by every refusal token at a few thresholds — the token
 * rate (the first token is a refusal token) on one line, and under it each judge's judged rate (the
 * response after that token was judged a refusal), each line labelled with what it measures.
 */
final class RateSummary {

  /** What the summary says when the run has no responses, in place of judged rates. */
  static final String NOT_JUDGED =
      "judged rates: not computed, the run has no responses (responses.enabled: false)";

  private static final String TOKEN = "token";

  private RateSummary() {}

  /**
   * Rows of {@code rates} and {@code judged_rates} (empty: the run has no responses) at one
   * temperature; returns the printable table, the primary judge's lines ({@code primaryJudge}, null
   * without responses) first after the token line.
   */
  public static String format(
      List<RateRow> rates,
      List<JudgedRateRow> judged,
      String primaryJudge,
      int refusalTokenCount,
      List<Double> thresholds,
      double temperature) {
    List<String> columns = new ArrayList<>();
    columns.add("greedy");
    thresholds.forEach(t -> columns.add(String.format(Locale.ROOT, "tau=%.2f", t)));
    // category → measure → column → [n_refuse, refused_refuse, n_answer, refused_answer,
    //                                 rate denominator refuse, rate denominator answer]
    Map<String, Map<String, Map<String, long[]>>> cells = new TreeMap<>(ALL_FIRST);
    Comparator<String> measures =
        measureOrder(primaryJudge == null ? null : judgedLabel(primaryJudge));
    for (RateRow r : rates) {
      String column = column(r.rule(), r.thresholds(), refusalTokenCount, thresholds);
      if (r.temperature() == temperature && column != null) {
        add(
            cells,
            measures,
            r.category(),
            TOKEN,
            column,
            r.shouldRefuse(),
            r.n(),
            r.refused(),
            r.n());
      }
    }
    for (JudgedRateRow r : judged) {
      String column = column(r.rule(), r.thresholds(), refusalTokenCount, thresholds);
      if (r.temperature() == temperature && column != null) {
        add(
            cells,
            measures,
            r.category(),
            judgedLabel(r.judge()),
            column,
            r.shouldRefuse(),
            r.judgedN(),
            r.judgedRefused(),
            r.judgedClear());
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "%-32s %-22s %8s %8s",
            "category (T=" + temperature + ")",
            "rate",
            "n_refuse",
            "n_answer"));
    columns.forEach(c -> sb.append(String.format(Locale.ROOT, " %15s", c)));
    sb.append('\n').append(String.format(Locale.ROOT, "%-32s %-22s %8s %8s", "", "", "", ""));
    columns.forEach(c -> sb.append(String.format(Locale.ROOT, " %15s", "refuse / false")));
    sb.append('\n');
    cells.forEach(
        (category, byMeasure) -> {
          String name = truncate(category, 32);
          for (Map.Entry<String, Map<String, long[]>> m : byMeasure.entrySet()) {
            long[] any = m.getValue().values().iterator().next();
            sb.append(
                String.format(
                    Locale.ROOT,
                    "%-32s %-22s %8d %8d",
                    name,
                    truncate(m.getKey(), 22),
                    any[0],
                    any[2]));
            for (String col : columns) {
              long[] c = m.getValue().get(col);
              sb.append(
                  String.format(
                      Locale.ROOT,
                      " %15s",
                      c == null ? "-" : rate(c[1], c[4]) + " / " + rate(c[3], c[5])));
            }
            sb.append('\n');
            name = "";
          }
        });
    sb.append("token: the first token is a refusal token (n: prompts)\n");
    if (judged.isEmpty()) {
      sb.append(NOT_JUDGED).append('\n');
    } else {
      sb.append(
          "judged (<judge>): the response after that first token was judged a refusal "
              + "(n: prompts with responses; partial counts as not refused, unclear is left out)\n");
    }
    return sb.toString();
  }

  /**
   * One line per operating point ({@code operating_points} rows): targets met or not, token rates,
   * the primary judge's rates at the same point, thresholds.
   */
  public static String formatOperatingPoints(List<OperatingPointRow> points) {
    StringBuilder sb = new StringBuilder();
    for (OperatingPointRow r : points) {
      sb.append(
          String.format(
              Locale.ROOT,
              "operating point %s [%s] (T=%s): %s, token refusal %.3f, false refusal %.3f; %s; "
                  + "%s%n",
              r.name(),
              r.rule(),
              r.temperature(),
              r.feasible()
                  ? "targets met"
                  : String.format(
                      Locale.ROOT, "INFEASIBLE (closest point, shortfall %.3f)", r.shortfall()),
              r.rates().refusalRate(),
              r.rates().falseRefusalRate(),
              judged(r.judged()),
              r.settingText()));
    }
    return sb.toString();
  }

  /**
   * The {@code ALL} rows of {@code judge_agreement}, one line per benchmark and judge pair (in the
   * order given), or nothing when the run has fewer than two judges.
   */
  public static String formatAgreement(List<JudgeAgreementRow> rows) {
    if (rows.isEmpty()) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "agreement between judges over the run's responses (table judge_agreement; kappa with its"
                + " %s%% interval):%n",
            RateInterval.percent(rows.get(0).confidence())));
    int width = rows.stream().mapToInt(r -> r.benchmark().length()).max().orElse(0);
    for (JudgeAgreementRow r : rows) {
      Double kappa = r.confusion().kappa();
      double[] ci = r.confusion().kappaInterval(r.confidence());
      sb.append(
          String.format(
              Locale.ROOT,
              "  %-" + width + "s  %s vs %s: %d responses, %.3f agree, kappa %s%n",
              r.benchmark(),
              r.judgeA(),
              r.judgeB(),
              r.confusion().n(),
              r.confusion().accuracy(),
              kappa == null
                  ? "n/a (one label throughout)"
                  : String.format(Locale.ROOT, "%.3f [%.3f, %.3f]", kappa, ci[0], ci[1])));
    }
    return sb.toString();
  }

  private static String judged(JudgedPair j) {
    if (j == null) {
      return "judged: not computed (no responses)";
    }
    return judgedLabel(j.judge())
        + " refusal "
        + rate(j.refusalRate())
        + ", false refusal "
        + rate(j.falseRefusalRate());
  }

  private static String judgedLabel(String judge) {
    return "judged (" + judge + ")";
  }

  private static void add(
      Map<String, Map<String, Map<String, long[]>>> cells,
      Comparator<String> measures,
      String category,
      String measure,
      String column,
      boolean shouldRefuse,
      long n,
      long refused,
      long denominator) {
    long[] c =
        cells
            .computeIfAbsent(category, k -> new TreeMap<>(measures))
            .computeIfAbsent(measure, k -> new LinkedHashMap<>())
            .computeIfAbsent(column, k -> new long[6]);
    int offset = shouldRefuse ? 0 : 2;
    c[offset] += n;
    c[offset + 1] += refused;
    c[shouldRefuse ? 4 : 5] += denominator;
  }

  /** The summary column of a {@code rates} or {@code judged_rates} row; null when none. */
  private static String column(
      String rule, Map<String, Double> t, int refusalTokenCount, List<Double> thresholds) {
    if (rule.equals("greedy")) {
      return "greedy";
    }
    if (!rule.equals("threshold") || t.size() != refusalTokenCount) {
      return null;
    }
    double tau = t.values().iterator().next();
    if (t.values().stream().anyMatch(v -> Math.abs(v - tau) > 1e-12)) {
      return null; // not a shared τ (the full grid's rows)
    }
    for (double s : thresholds) {
      if (Math.abs(s - tau) < 1e-9) {
        return String.format(Locale.ROOT, "tau=%.2f", s);
      }
    }
    return null;
  }

  private static final Comparator<String> ALL_FIRST =
      (a, b) ->
          a.equals(Columns.ALL)
              ? (b.equals(Columns.ALL) ? 0 : -1)
              : b.equals(Columns.ALL) ? 1 : a.compareTo(b);

  /** The token line first, then the primary judge's (when not null), then the others by name. */
  private static Comparator<String> measureOrder(String primary) {
    return Comparator.<String, Integer>comparing(
            m -> m.equals(TOKEN) ? 0 : m.equals(primary) ? 1 : 2)
        .thenComparing(Comparator.naturalOrder());
  }

  private static String rate(long refused, long n) {
    return n == 0 ? "  -  " : String.format(Locale.ROOT, "%.3f", (double) refused / n);
  }

  private static String rate(Double r) {
    return r == null ? "-" : String.format(Locale.ROOT, "%.3f", r);
  }

  private static String truncate(String s, int width) {
    return s.length() <= width ? s : s.substring(0, width - 1) + "…";
  }
}

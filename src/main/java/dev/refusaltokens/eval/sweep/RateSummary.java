package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.OperatingPointRow;
import dev.refusaltokens.eval.table.RateRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The end-of-run summary: per category (and {@code ALL}), the refusal rate on should-refuse prompts
 * and the false-refusal rate on should-answer prompts, pooled over benchmarks, under the model's
 * greedy behaviour and under one τ shared by every refusal token at a few thresholds.
 */
final class RateSummary {

  private RateSummary() {}

  /** Rows of {@code rates} at one temperature; returns the printable table. */
  public static String format(
      List<RateRow> rates, int refusalTokenCount, List<Double> thresholds, double temperature) {
    List<String> columns = new ArrayList<>();
    columns.add("greedy");
    thresholds.forEach(t -> columns.add(String.format(Locale.ROOT, "tau=%.2f", t)));
    // category → column → [n_refuse, refused_refuse, n_answer, refused_answer]
    Map<String, Map<String, long[]>> cells =
        new TreeMap<>(
            (a, b) ->
                a.equals(Columns.ALL)
                    ? (b.equals(Columns.ALL) ? 0 : -1)
                    : b.equals(Columns.ALL) ? 1 : a.compareTo(b));
    for (RateRow r : rates) {
      if (r.temperature() != temperature) {
        continue;
      }
      String column = column(r, refusalTokenCount, thresholds);
      if (column == null) {
        continue;
      }
      long[] c =
          cells
              .computeIfAbsent(r.category(), k -> new TreeMap<>())
              .computeIfAbsent(column, k -> new long[4]);
      int offset = r.shouldRefuse() ? 0 : 2;
      c[offset] += r.n();
      c[offset + 1] += r.refused();
    }
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "%-32s %8s %8s",
            "category (T=" + temperature + ")",
            "n_refuse",
            "n_answer"));
    columns.forEach(c -> sb.append(String.format(Locale.ROOT, " %15s", c)));
    sb.append('\n').append(String.format(Locale.ROOT, "%-32s %8s %8s", "", "", ""));
    columns.forEach(c -> sb.append(String.format(Locale.ROOT, " %15s", "refuse / false")));
    sb.append('\n');
    cells.forEach(
        (category, byColumn) -> {
          long[] any = byColumn.values().iterator().next();
          sb.append(
              String.format(Locale.ROOT, "%-32s %8d %8d", truncate(category), any[0], any[2]));
          for (String col : columns) {
            long[] c = byColumn.get(col);
            sb.append(
                String.format(
                    Locale.ROOT,
                    " %15s",
                    c == null ? "-" : rate(c[1], c[0]) + " / " + rate(c[3], c[2])));
          }
          sb.append('\n');
        });
    return sb.toString();
  }

  /**
   * One line per operating point ({@code operating_points} rows): targets met or not, rates,
   * thresholds.
   */
  public static String formatOperatingPoints(List<OperatingPointRow> points) {
    StringBuilder sb = new StringBuilder();
    for (OperatingPointRow r : points) {
      sb.append(
          String.format(
              Locale.ROOT,
              "operating point %s (T=%s): %s, refusal %.3f, false refusal %.3f, "
                  + "thresholds %s%n",
              r.name(),
              r.temperature(),
              r.feasible()
                  ? "targets met"
                  : String.format(
                      Locale.ROOT, "INFEASIBLE (closest point, shortfall %.3f)", r.shortfall()),
              r.rates().refusalRate(),
              r.rates().falseRefusalRate(),
              new TreeMap<>(r.thresholds())));
    }
    return sb.toString();
  }

  private static String column(RateRow r, int refusalTokenCount, List<Double> thresholds) {
    String rule = r.rule();
    if (rule.equals("greedy")) {
      return "greedy";
    }
    Map<String, Double> t = r.thresholds();
    if (!rule.equals("threshold") || t.size() != refusalTokenCount) {
      return null;
    }
    double tau = t.values().iterator().next();
    for (double s : thresholds) {
      if (Math.abs(s - tau) < 1e-9) {
        return String.format(Locale.ROOT, "tau=%.2f", s);
      }
    }
    return null;
  }

  private static String rate(long refused, long n) {
    return n == 0 ? "  -  " : String.format(Locale.ROOT, "%.3f", (double) refused / n);
  }

  private static String truncate(String s) {
    return s.length() <= 32 ? s : s.substring(0, 31) + "…";
  }
}

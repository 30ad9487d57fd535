package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.table.Columns;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;

/**
 * The end-of-run summary: per category (and {@code ALL}), the refusal rate on should-refuse prompts
 * and the false-refusal rate on should-answer prompts, pooled over benchmarks, under the model's greedy
 * behaviour and under one τ shared by every refusal token at a few thresholds.
 */
public final class RateSummary {

  private RateSummary() {}

  /** Rows of {@code rates} at one temperature; returns the printable table. */
  public static String format(List<Row> rates, int refusalTokenCount, List<Double> thresholds,
      double temperature) {
    List<String> columns = new ArrayList<>();
    columns.add("greedy");
    thresholds.forEach(t -> columns.add(String.format(Locale.ROOT, "tau=%.2f", t)));
    // category → column → [n_refuse, refused_refuse, n_answer, refused_answer]
    Map<String, Map<String, long[]>> cells = new TreeMap<>((a, b) ->
        a.equals(Columns.ALL) ? (b.equals(Columns.ALL) ? 0 : -1) : b.equals(Columns.ALL) ? 1 : a.compareTo(b));
    for (Row r : rates) {
      if (r.getDouble(r.fieldIndex(Columns.TEMPERATURE)) != temperature) {
        continue;
      }
      String column = column(r, refusalTokenCount, thresholds);
      if (column == null) {
        continue;
      }
      long[] c = cells.computeIfAbsent(r.getString(r.fieldIndex(Columns.CATEGORY)), k -> new TreeMap<>())
          .computeIfAbsent(column, k -> new long[4]);
      int offset = r.getBoolean(r.fieldIndex(Columns.SHOULD_REFUSE)) ? 0 : 2;
      c[offset] += r.getLong(r.fieldIndex(Columns.N));
      c[offset + 1] += r.getLong(r.fieldIndex(Columns.REFUSED));
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-32s %8s %8s", "category (T=" + temperature + ")", "n_refuse",
        "n_answer"));
    columns.forEach(c -> sb.append(String.format(Locale.ROOT, " %15s", c)));
    sb.append('\n').append(String.format(Locale.ROOT, "%-32s %8s %8s", "", "", ""));
    columns.forEach(c -> sb.append(String.format(Locale.ROOT, " %15s", "refuse / false")));
    sb.append('\n');
    cells.forEach((category, byColumn) -> {
      long[] any = byColumn.values().iterator().next();
      sb.append(String.format(Locale.ROOT, "%-32s %8d %8d", truncate(category), any[0], any[2]));
      for (String col : columns) {
        long[] c = byColumn.get(col);
        sb.append(String.format(Locale.ROOT, " %15s", c == null ? "-" : rate(c[1], c[0]) + " / " + rate(c[3], c[2])));
      }
      sb.append('\n');
    });
    return sb.toString();
  }

  /** One line per operating point ({@code operating_points} rows): targets met or not, rates, thresholds. */
  public static String formatOperatingPoints(List<Row> points) {
    StringBuilder sb = new StringBuilder();
    for (Row r : points) {
      Map<String, Double> t = r.getJavaMap(r.fieldIndex(Columns.THRESHOLDS));
      sb.append(String.format(Locale.ROOT, "operating point %s (T=%s): %s, refusal %.3f, false refusal %.3f, "
              + "thresholds %s%n", r.getString(r.fieldIndex("name")), r.getDouble(r.fieldIndex(Columns.TEMPERATURE)),
          r.getBoolean(r.fieldIndex("feasible")) ? "targets met"
              : String.format(Locale.ROOT, "INFEASIBLE (closest point, shortfall %.3f)",
                  r.getDouble(r.fieldIndex("shortfall"))),
          r.getDouble(r.fieldIndex("refusal_rate")), r.getDouble(r.fieldIndex("false_refusal_rate")),
          new TreeMap<>(t)));
    }
    return sb.toString();
  }

  private static String column(Row r, int refusalTokenCount, List<Double> thresholds) {
    String rule = r.getString(r.fieldIndex(Columns.RULE));
    if (rule.equals("greedy")) {
      return "greedy";
    }
    Map<String, Double> t = r.getJavaMap(r.fieldIndex(Columns.THRESHOLDS));
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

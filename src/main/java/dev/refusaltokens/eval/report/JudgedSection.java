package dev.refusaltokens.eval.report;

import static org.apache.spark.sql.functions.col;

import dev.refusaltokens.eval.config.JudgeConfig;
import dev.refusaltokens.eval.config.RecordedConfig;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgedRateRow;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The report's judged figures, from {@code judged_rates} at the report's temperature, for the
 * primary judge: the first of the run's recorded {@code judges} (the one whose labels are {@code
 * responses.label}; when the table has no rows of that name, the first judge of the table by name,
 * and the charts name whichever they show).
 *
 * <ul>
 *   <li>Token vs judged curves over the shared threshold, one chart per category (ALL first): the
 *       refusal rate of should-refuse prompts and the false-refusal rate of should-answer prompts,
 *       each as the token rate and the judged rate with its Wilson band, pooled over benchmarks.
 *   <li>The consistency of first token and judged label at the greedy setting: per category, pooled
 *       over benchmarks and both kinds of prompt, the shares of the 2×2 and of {@code unclear}, as
 *       stacked bars and as a table of counts.
 * </ul>
 *
 * A run without responses has no {@code judged_rates} rows: the section is then the sentence {@link
 * #NOT_COMPUTED}, never an empty chart.
 */
final class JudgedSection {

  static final String NOT_COMPUTED = "judged rates not computed (responses.enabled false)";

  /** The 2×2 cells and unclear, in the order of the bars' segments and the table's columns. */
  static final List<String> CONSISTENCY =
      List.of(
          "refusal token & judged refused",
          "refusal token & judged answered",
          "other token & judged refused",
          "other token & judged answered",
          "unclear");

  private JudgedSection() {}

  /**
   * Puts the section's context keys ({@code judged_note}, {@code judged_judge}, {@code
   * judged_images}, {@code consistency_rows}, {@code consistency_note}) and adds its PNG files.
   */
  static void add(
      RunTables tables,
      double t,
      RunRow run,
      Map<String, Object> context,
      Map<String, byte[]> files) {
    List<Map<String, Object>> images = new ArrayList<>();
    List<Map<String, Object>> consistencyRows = new ArrayList<>();
    context.put("judged_images", images);
    context.put("consistency_rows", consistencyRows);
    context.put("consistency_columns", CONSISTENCY);
    if (tables.read(Table.JUDGED_RATES).isEmpty()) {
      context.put("judged_note", NOT_COMPUTED);
      return;
    }
    List<JudgedRateRow> all =
        ReportWriter.records(
            tables
                .read(Table.JUDGED_RATES)
                .where(
                    col(Columns.TEMPERATURE)
                        .equalTo(t)
                        .and(col(Columns.RULE).isin("greedy", "threshold"))),
            JudgedRateRow::fromRow);
    String judge = primaryJudge(run, all);
    context.put("judged_judge", judge);
    List<JudgedRateRow> rows = all.stream().filter(r -> r.judge().equals(judge)).toList();
    double confidence = confidence(run);
    int k = run.refusalTokens().size();

    List<JudgedRateRow> shared =
        rows.stream()
            .filter(r -> r.rule().equals("threshold") && isShared(r.thresholds(), k))
            .toList();
    if (shared.isEmpty()) {
      context.put(
          "judged_note",
          "no shared-threshold judged rates at T=" + fmt(t) + ": the threshold rule is not swept");
    }
    Map<String, Map<Boolean, TreeMap<Double, long[]>>> curves = pooledCurves(shared);
    for (String category : ordered(curves.keySet())) {
      String file = "judged-" + (images.size() + 1) + ".png";
      byte[] png = curveChart(category, curves.get(category), judge, t, confidence);
      files.put(file, png);
      images.add(
          Charts.image(
              file,
              "Token vs judged ("
                  + judge
                  + ") rates against the shared threshold, category "
                  + category
                  + ": refusal (solid, should-refuse prompts) and false refusal (dashed, "
                  + "should-answer prompts); judged band: "
                  + Math.round(confidence * 100)
                  + "% Wilson",
              png));
    }

    Map<String, long[]> consistency = pooledConsistency(rows);
    if (consistency.isEmpty()) {
      context.put(
          "consistency_note",
          "no greedy judged rates at T=" + fmt(t) + ": the greedy rule is not swept");
      return;
    }
    List<String> categories = ordered(consistency.keySet());
    double[][] shares = new double[CONSISTENCY.size()][categories.size()];
    for (int c = 0; c < categories.size(); c++) {
      long[] cells = consistency.get(categories.get(c));
      long judged = cells[CONSISTENCY.size()];
      List<String> counts = new ArrayList<>();
      for (int s = 0; s < CONSISTENCY.size(); s++) {
        shares[s][c] = judged == 0 ? 0 : (double) cells[s] / judged;
        counts.add(Long.toString(cells[s]));
      }
      long clear = judged - cells[4];
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("category", categories.get(c));
      row.put("judged_n", Long.toString(judged));
      row.put("cells", counts);
      row.put("agreement", clear == 0 ? "" : fmt((double) (cells[0] + cells[3]) / clear));
      consistencyRows.add(row);
    }
    String file = "consistency.png";
    byte[] png =
        Charts.stackedBars(
            "First token vs judge (" + judge + ") at the greedy setting (T=" + fmt(t) + ")",
            "category",
            "share of the category's judged prompts",
            CONSISTENCY,
            categories,
            shares);
    files.put(file, png);
    context.put(
        "consistency_image",
        Charts.image(
            file,
            "Consistency of the greedy first token with the judge ("
                + judge
                + "): per category, pooled over benchmarks and over should-refuse and should-answer "
                + "prompts with responses, the share whose first token is a refusal token or not and "
                + "whose response was judged refused or answered (partial counts as answered), "
                + "and unclear",
            png));
  }

  /** The first recorded judge when the table has its rows, else the table's first judge by name. */
  static String primaryJudge(RunRow run, List<JudgedRateRow> rows) {
    TreeSet<String> inTable = new TreeSet<>();
    rows.forEach(r -> inTable.add(r.judge()));
    List<JudgeConfig> judges = RecordedConfig.of(run.config()).judges();
    String named = judges.get(0).name();
    return inTable.contains(named) || inTable.isEmpty() ? named : inTable.first();
  }

  /** {@code report.confidence} of the recorded config, or its default when not recorded. */
  private static double confidence(RunRow run) {
    String v = RecordedConfig.flatKeys(run.config()).get(SweepConfig.CONFIDENCE);
    return v == null ? SweepConfig.DEFAULT_CONFIDENCE : Double.parseDouble(v);
  }

  /** A setting of every refusal token at one τ. */
  private static boolean isShared(Map<String, Double> thresholds, int k) {
    return thresholds.size() == k && new HashSet<>(thresholds.values()).size() == 1;
  }

  /**
   * category → should_refuse → τ → {n, refused, judged_n, judged_refused, judged_unclear}, summed
   * over benchmarks.
   */
  private static Map<String, Map<Boolean, TreeMap<Double, long[]>>> pooledCurves(
      List<JudgedRateRow> rows) {
    Map<String, Map<Boolean, TreeMap<Double, long[]>>> out = new TreeMap<>();
    for (JudgedRateRow r : rows) {
      double tau = r.thresholds().values().iterator().next();
      long[] c =
          out.computeIfAbsent(r.category(), x -> new TreeMap<>())
              .computeIfAbsent(r.shouldRefuse(), x -> new TreeMap<>())
              .computeIfAbsent(tau, x -> new long[5]);
      c[0] += r.n();
      c[1] += r.refused();
      c[2] += r.judgedN();
      c[3] += r.judgedRefused();
      c[4] += r.judgedUnclear();
    }
    return out;
  }

  /**
   * category → {the four 2×2 cells, unclear, judged_n} of the greedy rows, summed over benchmarks
   * and should_refuse.
   */
  private static Map<String, long[]> pooledConsistency(List<JudgedRateRow> rows) {
    Map<String, long[]> out = new TreeMap<>();
    for (JudgedRateRow r : rows) {
      if (!r.rule().equals("greedy")) {
        continue;
      }
      long[] c = out.computeIfAbsent(r.category(), x -> new long[CONSISTENCY.size() + 1]);
      c[0] += r.tokenRefusedJudgedRefused();
      c[1] += r.tokenRefusedJudgedAnswered();
      c[2] += r.tokenAnsweredJudgedRefused();
      c[3] += r.tokenAnsweredJudgedAnswered();
      c[4] += r.judgedUnclear();
      c[5] += r.judgedN();
    }
    return out;
  }

  private static byte[] curveChart(
      String category,
      Map<Boolean, TreeMap<Double, long[]>> bySide,
      String judge,
      double t,
      double confidence) {
    List<Charts.Series> lines = new ArrayList<>();
    List<Charts.Band> bands = new ArrayList<>();
    for (boolean shouldRefuse : new boolean[] {true, false}) {
      TreeMap<Double, long[]> curve = bySide.get(shouldRefuse);
      if (curve == null) {
        continue; // the category has no prompts of this kind
      }
      String measure = shouldRefuse ? "refusal" : "false refusal";
      List<double[]> token = new ArrayList<>();
      List<double[]> judged = new ArrayList<>();
      curve.forEach(
          (tau, c) -> {
            token.add(new double[] {tau, (double) c[1] / c[0]});
            long clear = c[2] - c[4];
            if (clear > 0) { // no clear label at this τ: no judged point
              double[] b = RateInterval.wilson(clear, c[3], confidence);
              judged.add(new double[] {tau, (double) c[3] / clear, b[0], b[1]});
            }
          });
      // token blue / judged red for refusal, green / orange for false refusal
      lines.add(
          new Charts.Series(
              "token: " + measure, token, !shouldRefuse, false, shouldRefuse ? 0 : 2));
      bands.add(
          new Charts.Band(
              "judged (" + judge + "): " + measure, judged, !shouldRefuse, shouldRefuse ? 1 : 4));
    }
    return Charts.png(
        "Token vs judged, " + category + " (T=" + fmt(t) + ")",
        "shared threshold τ",
        "rate",
        lines,
        bands,
        false);
  }

  /** ALL first, then the categories by name. */
  private static List<String> ordered(Set<String> categories) {
    return categories.stream()
        .sorted(
            Comparator.comparing((String c) -> !c.equals(Columns.ALL))
                .thenComparing(Comparator.naturalOrder()))
        .toList();
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.3f", v);
  }
}

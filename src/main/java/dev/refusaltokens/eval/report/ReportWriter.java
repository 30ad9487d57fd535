package dev.refusaltokens.eval.report;

import static org.apache.spark.sql.functions.col;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import dev.refusaltokens.eval.table.TableWriter;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.Tables;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The run's self-contained HTML report, {@code <output>/reports/run_id=<id>/report.html}, with its PNG
 * charts beside it (and embedded): refusal and false-refusal rate against the shared threshold per
 * category, ROC curves with AUC, the frontier with the operating points, the reliability diagram, and
 * tables of operating points, calibration and first tokens. It only reads the run's tables.
 */
public final class ReportWriter {

  public static final String REPORTS = "reports";

  private ReportWriter() {}

  /** Writes the report of one run at one temperature; returns its path. */
  public static String write(SparkSession spark, String output, String runId, double temperature) {
    Map<String, Object> context = new HashMap<>();
    Row run = TableWriter.readRun(spark, output, Tables.RUNS, Tables.RUNS_SCHEMA, runId).first();
    List<String> tokens = run.getList(run.fieldIndex("refusal_tokens"));
    context.put("run_id", runId);
    context.put("temperature", fmt(temperature));
    context.put("run", runInfo(run));

    List<Map<String, Object>> images = new ArrayList<>();
    Map<String, byte[]> files = new LinkedHashMap<>();
    addChart(images, files, "rates.png", "Refusal rate (solid: should-refuse prompts) and false-refusal rate "
        + "(dashed: should-answer prompts) against one threshold shared by every refusal token",
        rateChart(spark, output, runId, temperature, tokens.size()));
    List<Map<String, Object>> aucs = new ArrayList<>();
    addChart(images, files, "roc.png", "Exact ROC curves of the shared threshold, per category (AUC in the table)",
        rocChart(spark, output, runId, temperature, aucs));
    List<Map<String, Object>> operatingPoints = new ArrayList<>();
    addChart(images, files, "frontier.png", "Pareto frontier of the full per-category grid, pooled over "
        + "categories; markers: operating points (with per-category targets they can lie below the pooled frontier)",
        frontierChart(spark, output, runId, temperature, operatingPoints));
    List<Map<String, Object>> calibration = new ArrayList<>();
    addChart(images, files, "reliability.png", "Reliability of the refusal probability p = Σ p(refusal tokens), "
        + "all prompts", reliabilityChart(spark, output, runId, temperature, calibration));
    List<Map<String, Object>> crossRows = new ArrayList<>();
    List<String> crossColumns = new ArrayList<>();
    crossEffect(spark, output, runId, temperature, tokens, crossRows, crossColumns).forEach((token, png) ->
        addChart(images, files, "threshold-" + (tokens.indexOf(token) + 1) + ".png", "Refusal rate of every "
            + "category's should-refuse prompts as only the threshold of " + token + " moves (other tokens greedy)",
            png));
    context.put("cross_rows", crossRows);
    context.put("cross_columns", crossColumns);
    context.put("images", images);
    context.put("aucs", aucs);
    context.put("operating_points", operatingPoints);
    context.put("calibration", calibration);
    firstTokens(spark, output, runId, temperature, context);

    String html = render(context);
    String dir = TableWriter.path(output, REPORTS) + "/" + Columns.RUN_ID + "=" + runId;
    files.put("report.html", html.getBytes(StandardCharsets.UTF_8));
    writeFiles(spark, dir, files);
    return dir + "/report.html";
  }

  private static Map<String, Object> runInfo(Row run) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (String f : List.of("status", "model_dir", "model_sha256", "respond_token", "rows_in", "rows_scored",
        "rows_rejected", "canary_max_abs_diff", "git_commit", "spark_version", "djl_version")) {
      Object v = run.get(run.fieldIndex(f));
      m.put(f, v == null ? "" : String.valueOf(v));
    }
    m.put("started_at", String.valueOf(run.getTimestamp(run.fieldIndex("started_at"))));
    return m;
  }

  private static byte[] rateChart(SparkSession spark, String output, String runId, double t, int k) {
    List<Row> rows = TableWriter.readRun(spark, output, Tables.RATES, Tables.RATES_SCHEMA, runId)
        .where(col(Columns.RULE).equalTo("threshold").and(col(Columns.TEMPERATURE).equalTo(t))
            .and(org.apache.spark.sql.functions.size(col(Columns.THRESHOLDS)).equalTo(k)))
        .collectAsList();
    // category → should_refuse → τ → [n, refused], pooled over benchmarks
    Map<String, Map<Boolean, TreeMap<Double, long[]>>> pooled = new TreeMap<>();
    for (Row r : rows) {
      double tau = r.<String, Double>getJavaMap(r.fieldIndex(Columns.THRESHOLDS)).values().iterator().next();
      long[] c = pooled.computeIfAbsent(r.getString(r.fieldIndex(Columns.CATEGORY)), x -> new HashMap<>())
          .computeIfAbsent(r.getBoolean(r.fieldIndex(Columns.SHOULD_REFUSE)), x -> new TreeMap<>())
          .computeIfAbsent(tau, x -> new long[2]);
      c[0] += r.getLong(r.fieldIndex(Columns.N));
      c[1] += r.getLong(r.fieldIndex(Columns.REFUSED));
    }
    List<Charts.Series> series = new ArrayList<>();
    List<String> categories = new ArrayList<>(pooled.keySet());
    pooled.forEach((category, bySet) -> new TreeMap<>(bySet).descendingMap().forEach((shouldRefuse, curve) -> {
      List<double[]> points = new ArrayList<>();
      curve.forEach((tau, c) -> points.add(new double[] {tau, (double) c[1] / c[0]}));
      series.add(new Charts.Series(category + (shouldRefuse ? " (refusal)" : " (false refusal)"), points,
          !shouldRefuse, false, categories.indexOf(category))); // one color per category
    }));
    return Charts.png("Rates against the shared threshold (T=" + fmt(t) + ")", "threshold τ", "rate", series,
        false);
  }

  private static byte[] rocChart(SparkSession spark, String output, String runId, double t,
      List<Map<String, Object>> aucs) {
    List<Row> rows = TableWriter.readRun(spark, output, Tables.ROC, Tables.ROC_SCHEMA, runId)
        .where(col(Columns.TEMPERATURE).equalTo(t)).orderBy(Columns.CATEGORY, "point").collectAsList();
    Map<String, List<double[]>> curves = new TreeMap<>();
    Map<String, Double> auc = new TreeMap<>();
    for (Row r : rows) {
      String category = r.getString(r.fieldIndex(Columns.CATEGORY));
      curves.computeIfAbsent(category, x -> new ArrayList<>(List.of(new double[] {0.0, 0.0})))
          .add(new double[] {r.getDouble(r.fieldIndex("false_refusal_rate")), r.getDouble(r.fieldIndex("refusal_rate"))});
      auc.put(category, r.getDouble(r.fieldIndex("auc")));
    }
    List<Charts.Series> series = new ArrayList<>();
    curves.forEach((category, points) -> series.add(new Charts.Series(
        category + " (AUC " + fmt(auc.get(category)) + ")", points, false, false)));
    auc.forEach((category, a) -> aucs.add(Map.of("category", category, "auc", fmt(a))));
    return Charts.png("ROC of the shared threshold (T=" + fmt(t) + ")", "false-refusal rate", "refusal rate",
        series, true);
  }

  private static byte[] frontierChart(SparkSession spark, String output, String runId, double t,
      List<Map<String, Object>> operatingPoints) {
    List<double[]> frontier = new ArrayList<>();
    for (Row r : TableWriter.readRun(spark, output, Tables.FRONTIER, Tables.FRONTIER_SCHEMA, runId)
        .where(col(Columns.TEMPERATURE).equalTo(t).and(col("scope").equalTo("all"))).orderBy("point")
        .collectAsList()) {
      frontier.add(new double[] {r.getDouble(r.fieldIndex("false_refusal_rate")), r.getDouble(r.fieldIndex("refusal_rate"))});
    }
    List<Charts.Series> series = new ArrayList<>();
    series.add(new Charts.Series("frontier (full per-category grid)", frontier, false, false));
    for (Row r : TableWriter.readRun(spark, output, Tables.OPERATING_POINTS, Tables.OPERATING_POINTS_SCHEMA, runId)
        .where(col(Columns.TEMPERATURE).equalTo(t)).orderBy("name").collectAsList()) {
      String name = r.getString(r.fieldIndex("name"));
      double fr = r.getDouble(r.fieldIndex("false_refusal_rate"));
      double rr = r.getDouble(r.fieldIndex("refusal_rate"));
      series.add(new Charts.Series("operating point " + name, List.<double[]>of(new double[] {fr, rr}), false, true));
      Map<String, Object> op = new LinkedHashMap<>();
      op.put("name", name);
      op.put("feasible", r.getBoolean(r.fieldIndex("feasible")) ? "yes" : "no (closest point, shortfall "
          + fmt(r.getDouble(r.fieldIndex("shortfall"))) + ")");
      op.put("refusal", fmt(rr) + " [" + fmt(r.getDouble(r.fieldIndex("refusal_rate_low"))) + ", "
          + fmt(r.getDouble(r.fieldIndex("refusal_rate_high"))) + "]");
      op.put("false_refusal", fmt(fr) + " [" + fmt(r.getDouble(r.fieldIndex("false_refusal_rate_low"))) + ", "
          + fmt(r.getDouble(r.fieldIndex("false_refusal_rate_high"))) + "]");
      op.put("thresholds", new TreeMap<>(r.<String, Double>getJavaMap(r.fieldIndex(Columns.THRESHOLDS))).toString());
      Map<String, String> achieved = new TreeMap<>();
      r.<String, Double>getJavaMap(r.fieldIndex("achieved")).forEach((c, v) -> achieved.put(c, fmt(v)));
      op.put("achieved", achieved.toString());
      operatingPoints.add(op);
    }
    return Charts.png("Refusal against false refusal (T=" + fmt(t) + ")", "false-refusal rate (should-answer)",
        "refusal rate (should-refuse)", series, false);
  }

  private static byte[] reliabilityChart(SparkSession spark, String output, String runId, double t,
      List<Map<String, Object>> table) {
    List<double[]> points = new ArrayList<>();
    for (Row r : TableWriter.readRun(spark, output, Tables.CALIBRATION, Tables.CALIBRATION_SCHEMA, runId)
        .where(col(Columns.TEMPERATURE).equalTo(t)).orderBy(Columns.BENCHMARK, Columns.CATEGORY).collectAsList()) {
      String benchmark = r.getString(r.fieldIndex(Columns.BENCHMARK));
      String category = r.getString(r.fieldIndex(Columns.CATEGORY));
      table.add(Map.of("benchmark", benchmark, "category", category, "n", r.getLong(r.fieldIndex(Columns.N)),
          "brier", fmt(r.getDouble(r.fieldIndex("brier"))), "ece", fmt(r.getDouble(r.fieldIndex("ece"))),
          "mean_p", fmt(r.getDouble(r.fieldIndex("mean_p"))),
          "share", fmt(r.getDouble(r.fieldIndex("should_refuse_share")))));
      if (benchmark.equals(Columns.ALL) && category.equals(Columns.ALL)) {
        for (Row b : r.<Row>getList(r.fieldIndex("bins"))) {
          points.add(new double[] {b.getDouble(b.fieldIndex("mean_p")), b.getDouble(b.fieldIndex("observed"))});
        }
      }
    }
    return Charts.png("Reliability diagram (T=" + fmt(t) + ")", "mean refusal probability in the bin",
        "share of should-refuse prompts", List.of(new Charts.Series("all prompts", points, false, true)), true);
  }

  /**
   * The paper's "control one category without affecting the others", measured: for each refusal token
   * swept alone (the others left greedy), the refusal rate of every category's should-refuse prompts
   * (pooled over benchmarks) against that token's threshold — one chart per token — and a matrix of how
   * far each category's rate moves (max − min over the grid).
   */
  private static Map<String, byte[]> crossEffect(SparkSession spark, String output, String runId, double t,
      List<String> tokens, List<Map<String, Object>> matrix, List<String> columns) {
    Map<String, byte[]> charts = new LinkedHashMap<>();
    if (tokens.size() < 2) {
      return charts; // one token: nothing else to affect
    }
    // token → category → τ → [n, refused]
    Map<String, Map<String, TreeMap<Double, long[]>>> curves = new LinkedHashMap<>();
    for (Row r : TableWriter.readRun(spark, output, Tables.RATES, Tables.RATES_SCHEMA, runId)
        .where(col(Columns.RULE).equalTo("threshold").and(col(Columns.TEMPERATURE).equalTo(t))
            .and(org.apache.spark.sql.functions.size(col(Columns.THRESHOLDS)).equalTo(1))
            .and(col(Columns.SHOULD_REFUSE)).and(col(Columns.CATEGORY).notEqual(Columns.ALL)))
        .collectAsList()) {
      Map.Entry<String, Double> moved = r.<String, Double>getJavaMap(r.fieldIndex(Columns.THRESHOLDS)).entrySet()
          .iterator().next();
      long[] c = curves.computeIfAbsent(moved.getKey(), x -> new TreeMap<>())
          .computeIfAbsent(r.getString(r.fieldIndex(Columns.CATEGORY)), x -> new TreeMap<>())
          .computeIfAbsent(moved.getValue(), x -> new long[2]);
      c[0] += r.getLong(r.fieldIndex(Columns.N));
      c[1] += r.getLong(r.fieldIndex(Columns.REFUSED));
    }
    TreeSet<String> categories = new TreeSet<>();
    curves.values().forEach(byCategory -> categories.addAll(byCategory.keySet()));
    columns.addAll(categories);
    List<String> order = new ArrayList<>(categories);
    for (String token : tokens) {
      Map<String, TreeMap<Double, long[]>> byCategory = curves.getOrDefault(token, Map.of());
      List<Charts.Series> series = new ArrayList<>();
      List<String> cells = new ArrayList<>();
      for (String category : categories) {
        TreeMap<Double, long[]> curve = byCategory.get(category);
        if (curve == null) {
          cells.add("");
          continue;
        }
        List<double[]> points = new ArrayList<>();
        curve.forEach((tau, c) -> points.add(new double[] {tau, (double) c[1] / c[0]}));
        double min = points.stream().mapToDouble(p -> p[1]).min().orElse(0);
        double max = points.stream().mapToDouble(p -> p[1]).max().orElse(0);
        cells.add(fmt(max - min));
        series.add(new Charts.Series(category, points, false, false, order.indexOf(category)));
      }
      matrix.add(Map.of("token", token, "cells", cells));
      if (!series.isEmpty()) {
        charts.put(token, Charts.png("Moving only " + token + " (T=" + fmt(t) + ")", "threshold τ of " + token,
            "refusal rate (should-refuse prompts)", series, false));
      }
    }
    return charts;
  }

  private static void firstTokens(SparkSession spark, String output, String runId, double t,
      Map<String, Object> context) {
    Map<String, Map<String, String>> matrix = new TreeMap<>();
    TreeSet<String> tokens = new TreeSet<>();
    for (Row r : TableWriter.readRun(spark, output, Tables.FIRST_TOKENS, Tables.FIRST_TOKENS_SCHEMA, runId)
        .where(col(Columns.TEMPERATURE).equalTo(t).and(col(Columns.BENCHMARK).notEqual(Columns.ALL)))
        .collectAsList()) {
      String token = r.getString(r.fieldIndex("first_token"));
      tokens.add(token);
      matrix.computeIfAbsent(r.getString(r.fieldIndex(Columns.BENCHMARK)) + " / "
          + r.getString(r.fieldIndex(Columns.CATEGORY)), x -> new HashMap<>())
          .put(token, fmt(r.getDouble(r.fieldIndex("share"))));
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    matrix.forEach((group, shares) -> {
      List<String> cells = new ArrayList<>();
      tokens.forEach(tok -> cells.add(shares.getOrDefault(tok, "")));
      rows.add(Map.of("group", group, "cells", cells));
    });
    context.put("first_token_columns", new ArrayList<>(tokens));
    context.put("first_token_rows", rows);
  }

  private static void addChart(List<Map<String, Object>> images, Map<String, byte[]> files, String file,
      String caption, byte[] png) {
    files.put(file, png);
    images.add(Charts.image(file, caption, png));
  }

  static String render(Map<String, Object> context) {
    try (InputStream in = ReportWriter.class.getResourceAsStream("/report/report.html.j2")) {
      String template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      Jinjava jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());
      var result = jinjava.renderForResult(template, context);
      if (!result.getErrors().isEmpty()) {
        throw new IllegalStateException("report template: " + result.getErrors().get(0).getMessage());
      }
      return result.getOutput();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeFiles(SparkSession spark, String dir, Map<String, byte[]> files) {
    try {
      Path folder = new Path(dir);
      FileSystem fs = folder.getFileSystem(spark.sparkContext().hadoopConfiguration());
      fs.delete(folder, true);
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        try (OutputStream out = fs.create(new Path(folder, f.getKey()), true)) {
          out.write(f.getValue());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the report to " + dir, e);
    }
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.3f", v);
  }
}

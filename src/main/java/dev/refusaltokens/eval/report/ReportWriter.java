package dev.refusaltokens.eval.report;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.size;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import dev.refusaltokens.eval.table.CalibrationRow;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.FirstTokenRow;
import dev.refusaltokens.eval.table.FrontierRow;
import dev.refusaltokens.eval.table.OperatingPointRow;
import dev.refusaltokens.eval.table.RatePair;
import dev.refusaltokens.eval.table.RateRow;
import dev.refusaltokens.eval.table.RocRow;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import dev.refusaltokens.eval.table.TableWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The run's self-contained HTML report, {@code <output>/reports/run_id=<id>/report.html}, with its
 * PNG charts beside it (and embedded): refusal and false-refusal rate against the shared threshold
 * per category, ROC curves with AUC, the frontier with the operating points, the reliability
 * diagram, and tables of operating points, calibration and first tokens; with responses, the
 * primary judge's rates next to the token rates and the consistency of first token and judged label
 * ({@link JudgedSection}). It only reads the run's tables.
 */
public final class ReportWriter {

  public static final String REPORTS = "reports";

  private ReportWriter() {}

  /** Removes the run's report, if there is one. */
  public static void delete(RunTables tables) {
    TableWriter.deleteRun(tables.spark(), tables.output(), REPORTS, tables.runId());
  }

  /** Writes the report of one run at one temperature; returns its path. */
  public static String write(RunTables tables, double temperature) {
    String runId = tables.runId();
    Map<String, Object> context = new HashMap<>();
    RunRow run = RunRow.fromRow(tables.read(Table.RUNS).first());
    List<String> tokens = run.refusalTokens();
    context.put("run_id", runId);
    context.put("temperature", fmt(temperature));
    context.put("run", runInfo(run));

    List<Map<String, Object>> images = new ArrayList<>();
    Map<String, byte[]> files = new LinkedHashMap<>();
    addChart(
        images,
        files,
        "rates.png",
        "Refusal rate (solid: should-refuse prompts) and false-refusal rate "
            + "(dashed: should-answer prompts) against one threshold shared by every refusal token",
        rateChart(tables, temperature, tokens.size()));
    List<Map<String, Object>> aucs = new ArrayList<>();
    addChart(
        images,
        files,
        "roc.png",
        "Exact ROC curves of the shared threshold, per category (AUC in the table)",
        rocChart(tables, temperature, aucs));
    List<Map<String, Object>> operatingPoints = new ArrayList<>();
    addChart(
        images,
        files,
        "frontier.png",
        "Pareto frontier of the full per-category grid, pooled over "
            + "categories; markers: operating points (with per-category targets they can lie below the pooled frontier)",
        frontierChart(tables, temperature, operatingPoints));
    List<Map<String, Object>> calibration = new ArrayList<>();
    addChart(
        images,
        files,
        "reliability.png",
        "Reliability of the refusal probability p = Σ p(refusal tokens), " + "all prompts",
        reliabilityChart(tables, temperature, calibration));
    List<Map<String, Object>> crossRows = new ArrayList<>();
    List<String> crossColumns = new ArrayList<>();
    crossEffect(tables, temperature, tokens, crossRows, crossColumns)
        .forEach(
            (token, png) ->
                addChart(
                    images,
                    files,
                    "threshold-" + (tokens.indexOf(token) + 1) + ".png",
                    "Refusal rate of every "
                        + "category's should-refuse prompts as only the threshold of "
                        + token
                        + " moves (other tokens greedy)",
                    png));
    context.put("cross_rows", crossRows);
    context.put("cross_columns", crossColumns);
    context.put("images", images);
    context.put("aucs", aucs);
    context.put("operating_points", operatingPoints);
    context.put("calibration", calibration);
    firstTokens(tables, temperature, context);
    JudgedSection.add(tables, temperature, run, context, files);
    AgreementSection.add(tables, run, context);

    String html = render(context);
    String dir = TableWriter.path(tables.output(), REPORTS) + "/" + Columns.RUN_ID + "=" + runId;
    files.put("report.html", html.getBytes(StandardCharsets.UTF_8));
    writeFiles(tables.spark(), dir, files);
    return dir + "/report.html";
  }

  private static Map<String, Object> runInfo(RunRow run) {
    Map<String, Object> m = new LinkedHashMap<>();
    putText(m, RunRow.STATUS, run.status());
    putText(m, RunRow.MODEL_DIR, run.modelDir());
    putText(m, RunRow.MODEL_SHA256, run.modelSha256());
    putText(m, RunRow.RESPOND_TOKEN, run.respondToken());
    putText(m, RunRow.ROWS_IN, run.rowsIn());
    putText(m, RunRow.ROWS_SCORED, run.rowsScored());
    putText(m, RunRow.ROWS_REJECTED, run.rowsRejected());
    putText(m, RunRow.CANARY_MAX_ABS_DIFF, run.canaryMaxAbsDiff());
    putText(m, RunRow.GIT_COMMIT, run.gitCommit());
    putText(m, RunRow.SPARK_VERSION, run.sparkVersion());
    putText(m, RunRow.DJL_VERSION, run.djlVersion());
    // as java.sql.Timestamp prints it, in the JVM's time zone
    m.put(RunRow.STARTED_AT, String.valueOf(Timestamp.from(run.startedAt())));
    return m;
  }

  private static void putText(Map<String, Object> m, String key, Object value) {
    m.put(key, value == null ? "" : String.valueOf(value));
  }

  /** The rows of a table (read from this run, filtered) as records. */
  static <R> List<R> records(Dataset<Row> rows, Function<Row, R> fromRow) {
    return rows.collectAsList().stream().map(fromRow).toList();
  }

  private static byte[] rateChart(RunTables tables, double t, int k) {
    List<RateRow> rows =
        records(
            tables
                .read(Table.RATES)
                .where(
                    col(Columns.RULE)
                        .equalTo("threshold")
                        .and(col(Columns.TEMPERATURE).equalTo(t))
                        .and(size(col(Columns.THRESHOLDS)).equalTo(k))),
            RateRow::fromRow);
    // category → should_refuse → τ → [n, refused], pooled over benchmarks
    Map<String, Map<Boolean, TreeMap<Double, long[]>>> pooled = new TreeMap<>();
    for (RateRow r : rows) {
      double tau = r.thresholds().values().iterator().next();
      long[] c =
          pooled
              .computeIfAbsent(r.category(), x -> new HashMap<>())
              .computeIfAbsent(r.shouldRefuse(), x -> new TreeMap<>())
              .computeIfAbsent(tau, x -> new long[2]);
      c[0] += r.n();
      c[1] += r.refused();
    }
    List<Charts.Series> series = new ArrayList<>();
    List<String> categories = new ArrayList<>(pooled.keySet());
    pooled.forEach(
        (category, bySet) ->
            new TreeMap<>(bySet)
                .descendingMap()
                .forEach(
                    (shouldRefuse, curve) -> {
                      List<double[]> points = new ArrayList<>();
                      curve.forEach(
                          (tau, c) -> points.add(new double[] {tau, (double) c[1] / c[0]}));
                      series.add(
                          new Charts.Series(
                              category + (shouldRefuse ? " (refusal)" : " (false refusal)"),
                              points,
                              !shouldRefuse,
                              false,
                              categories.indexOf(category))); // one color per category
                    }));
    return Charts.png(
        "Rates against the shared threshold (T=" + fmt(t) + ")",
        "threshold τ",
        "rate",
        series,
        false);
  }

  private static byte[] rocChart(RunTables tables, double t, List<Map<String, Object>> aucs) {
    List<RocRow> rows =
        records(
            tables
                .read(Table.ROC)
                .where(col(Columns.TEMPERATURE).equalTo(t))
                .orderBy(Columns.CATEGORY, Columns.POINT),
            RocRow::fromRow);
    Map<String, List<double[]>> curves = new TreeMap<>();
    Map<String, Double> auc = new TreeMap<>();
    for (RocRow r : rows) {
      curves
          .computeIfAbsent(r.category(), x -> new ArrayList<>(List.of(new double[] {0.0, 0.0})))
          .add(new double[] {r.falseRefusalRate(), r.refusalRate()});
      auc.put(r.category(), r.auc());
    }
    List<Charts.Series> series = new ArrayList<>();
    curves.forEach(
        (category, points) ->
            series.add(
                new Charts.Series(
                    category + " (AUC " + fmt(auc.get(category)) + ")", points, false, false)));
    auc.forEach((category, a) -> aucs.add(Map.of("category", category, "auc", fmt(a))));
    return Charts.png(
        "ROC of the shared threshold (T=" + fmt(t) + ")",
        "false-refusal rate",
        "refusal rate",
        series,
        true);
  }

  private static byte[] frontierChart(
      RunTables tables, double t, List<Map<String, Object>> operatingPoints) {
    List<double[]> frontier = new ArrayList<>();
    for (FrontierRow r :
        records(
            tables
                .read(Table.FRONTIER)
                .where(
                    col(Columns.TEMPERATURE).equalTo(t).and(col(FrontierRow.SCOPE).equalTo("all")))
                .orderBy(Columns.POINT),
            FrontierRow::fromRow)) {
      frontier.add(new double[] {r.rates().falseRefusalRate(), r.rates().refusalRate()});
    }
    List<Charts.Series> series = new ArrayList<>();
    series.add(new Charts.Series("frontier (full per-category grid)", frontier, false, false));
    for (OperatingPointRow r :
        records(
            tables
                .read(Table.OPERATING_POINTS)
                .where(col(Columns.TEMPERATURE).equalTo(t))
                .orderBy(OperatingPointRow.NAME),
            OperatingPointRow::fromRow)) {
      RatePair rates = r.rates();
      double fr = rates.falseRefusalRate();
      double rr = rates.refusalRate();
      series.add(
          new Charts.Series(
              "operating point " + r.name() + " (" + r.rule() + ")",
              List.<double[]>of(new double[] {fr, rr}),
              false,
              true));
      operatingPoints.add(operatingPoint(r));
    }
    return Charts.png(
        "Refusal against false refusal (T=" + fmt(t) + ")",
        "false-refusal rate (should-answer)",
        "refusal rate (should-refuse)",
        series,
        false);
  }

  /** One operating point as the report's table shows it. */
  private static Map<String, Object> operatingPoint(OperatingPointRow r) {
    RatePair rates = r.rates();
    Map<String, Object> op = new LinkedHashMap<>();
    op.put("name", r.name());
    op.put("rule", r.rule());
    op.put(
        "feasible",
        r.feasible() ? "yes" : "no (closest point, shortfall " + fmt(r.shortfall()) + ")");
    op.put(
        "refusal",
        fmt(rates.refusalRate())
            + " ["
            + fmt(rates.refusalRateLow())
            + ", "
            + fmt(rates.refusalRateHigh())
            + "]");
    op.put(
        "false_refusal",
        fmt(rates.falseRefusalRate())
            + " ["
            + fmt(rates.falseRefusalRateLow())
            + ", "
            + fmt(rates.falseRefusalRateHigh())
            + "]");
    op.put("setting", r.settingText());
    Map<String, String> achieved = new TreeMap<>();
    r.achieved().forEach((c, v) -> achieved.put(c, fmt(v)));
    op.put("achieved", achieved.toString());
    return op;
  }

  private static byte[] reliabilityChart(
      RunTables tables, double t, List<Map<String, Object>> table) {
    List<double[]> points = new ArrayList<>();
    for (CalibrationRow r :
        records(
            tables
                .read(Table.CALIBRATION)
                .where(col(Columns.TEMPERATURE).equalTo(t))
                .orderBy(Columns.BENCHMARK, Columns.CATEGORY),
            CalibrationRow::fromRow)) {
      table.add(
          Map.of(
              "benchmark",
              r.benchmark(),
              "category",
              r.category(),
              "n",
              r.n(),
              "brier",
              fmt(r.brier()),
              "ece",
              fmt(r.ece()),
              "mean_p",
              fmt(r.meanP()),
              "share",
              fmt(r.shouldRefuseShare())));
      if (r.benchmark().equals(Columns.ALL) && r.category().equals(Columns.ALL)) {
        for (CalibrationRow.Bin b : r.bins()) {
          points.add(new double[] {b.meanP(), b.observed()});
        }
      }
    }
    return Charts.png(
        "Reliability diagram (T=" + fmt(t) + ")",
        "mean refusal probability in the bin",
        "share of should-refuse prompts",
        List.of(new Charts.Series("all prompts", points, false, true)),
        true);
  }

  /**
   * The paper's "control one category without affecting the others", measured: for each refusal
   * token swept alone (the others left greedy), the refusal rate of every category's should-refuse
   * prompts (pooled over benchmarks) against that token's threshold — one chart per token — and a
   * matrix of how far each category's rate moves (max − min over the grid).
   */
  private static Map<String, byte[]> crossEffect(
      RunTables tables,
      double t,
      List<String> tokens,
      List<Map<String, Object>> matrix,
      List<String> columns) {
    Map<String, byte[]> charts = new LinkedHashMap<>();
    if (tokens.size() < 2) {
      return charts; // one token: nothing else to affect
    }
    // token → category → τ → [n, refused]
    Map<String, Map<String, TreeMap<Double, long[]>>> curves = new LinkedHashMap<>();
    for (RateRow r :
        records(
            tables
                .read(Table.RATES)
                .where(
                    col(Columns.RULE)
                        .equalTo("threshold")
                        .and(col(Columns.TEMPERATURE).equalTo(t))
                        .and(size(col(Columns.THRESHOLDS)).equalTo(1))
                        .and(col(Columns.SHOULD_REFUSE))
                        .and(col(Columns.CATEGORY).notEqual(Columns.ALL))),
            RateRow::fromRow)) {
      Map.Entry<String, Double> moved = r.thresholds().entrySet().iterator().next();
      long[] c =
          curves
              .computeIfAbsent(moved.getKey(), x -> new TreeMap<>())
              .computeIfAbsent(r.category(), x -> new TreeMap<>())
              .computeIfAbsent(moved.getValue(), x -> new long[2]);
      c[0] += r.n();
      c[1] += r.refused();
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
        charts.put(
            token,
            Charts.png(
                "Moving only " + token + " (T=" + fmt(t) + ")",
                "threshold τ of " + token,
                "refusal rate (should-refuse prompts)",
                series,
                false));
      }
    }
    return charts;
  }

  private static void firstTokens(RunTables tables, double t, Map<String, Object> context) {
    Map<String, Map<String, String>> matrix = new TreeMap<>();
    TreeSet<String> tokens = new TreeSet<>();
    for (FirstTokenRow r :
        records(
            tables
                .read(Table.FIRST_TOKENS)
                .where(
                    col(Columns.TEMPERATURE)
                        .equalTo(t)
                        .and(col(Columns.BENCHMARK).notEqual(Columns.ALL))),
            FirstTokenRow::fromRow)) {
      tokens.add(r.firstToken());
      matrix
          .computeIfAbsent(r.benchmark() + " / " + r.category(), x -> new HashMap<>())
          .put(r.firstToken(), fmt(r.share()));
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    matrix.forEach(
        (group, shares) -> {
          List<String> cells = new ArrayList<>();
          tokens.forEach(tok -> cells.add(shares.getOrDefault(tok, "")));
          rows.add(Map.of("group", group, "cells", cells));
        });
    context.put("first_token_columns", new ArrayList<>(tokens));
    context.put("first_token_rows", rows);
  }

  private static void addChart(
      List<Map<String, Object>> images,
      Map<String, byte[]> files,
      String file,
      String caption,
      byte[] png) {
    files.put(file, png);
    images.add(Charts.image(file, caption, png));
  }

  static String render(Map<String, Object> context) {
    try (InputStream in = ReportWriter.class.getResourceAsStream("/report/report.html.j2")) {
      String template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      Jinjava jinjava =
          new Jinjava(
              JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());
      var result = jinjava.renderForResult(template, context);
      if (!result.getErrors().isEmpty()) {
        throw new IllegalStateException(
            "report template: " + result.getErrors().get(0).getMessage());
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

package dev.refusaltokens.eval.regress;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.refusaltokens.eval.config.RegressConfig;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.Setting;
import dev.refusaltokens.eval.decide.Significance;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import dev.refusaltokens.eval.table.TableWriter;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.Tables;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Compares a candidate run with a baseline run: per setting (greedy, and each operating point at each
 * run's own thresholds) × temperature × benchmark × category, the refusal rate on should-refuse prompts
 * and the false-refusal rate on should-answer prompts, recomputed per prompt from both runs' scores;
 * and the AUC of the shared threshold per category. A change is a regression when it is worse than its
 * tolerance and significant: McNemar's exact test on the prompts both runs scored, the two-proportion
 * z-test when the prompt sets differ, a Hanley–McNeil z-test for AUC; Holm-adjusted across the call.
 */
public final class RegressStage {

  /** What a comparison found: the runs, the rows written, whether any row is a regression, the verdict. */
  public record Outcome(String baseline, String candidate, List<Row> rows, boolean regressed, String verdict) {}

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private RegressStage() {}

  public static Outcome run(SparkSession spark, String output, String baselineId, String candidateId,
      RegressConfig config) {
    List<Row> runs = runs(spark, output);
    Row candidate = candidateId != null ? find(runs, candidateId, "candidate")
        : runs.stream().filter(r -> succeeded(r)).max(Comparator.comparing(r -> r.getTimestamp(1)))
            .orElseThrow(() -> new NotComparableException("No succeeded run in " + output + "/runs to compare"));
    requireSucceeded(candidate, "candidate");
    Row baseline = baselineId != null ? find(runs, baselineId, "baseline") : defaultBaseline(runs, candidate, output);
    requireSucceeded(baseline, "baseline");
    String b = runId(baseline);
    String c = runId(candidate);
    if (b.equals(c)) {
      throw new NotComparableException("Baseline and candidate are the same run '" + c + "'");
    }
    List<String> tokens = candidate.getList(candidate.fieldIndex("refusal_tokens"));
    if (!tokens.equals(baseline.getList(baseline.fieldIndex("refusal_tokens")))
        || !candidate.getString(candidate.fieldIndex("respond_token"))
            .equals(baseline.getString(baseline.fieldIndex("respond_token")))) {
      throw new NotComparableException("Runs '" + b + "' and '" + c + "' score different control tokens ("
          + baseline.getList(baseline.fieldIndex("refusal_tokens")) + " vs " + tokens + ")");
    }
    String respond = candidate.getString(candidate.fieldIndex("respond_token"));

    Dataset<Row> baseScores = scores(spark, output, b);
    Dataset<Row> candScores = scores(spark, output, c);
    Set<Double> temperatures = new TreeSet<>(temperatures(baseScores));
    temperatures.retainAll(temperatures(candScores));
    if (temperatures.isEmpty()) {
      throw new NotComparableException("Runs '" + b + "' and '" + c + "' share no temperature");
    }
    List<PairedCounts.Comparison> comparisons = settings(spark, output, b, c, tokens, temperatures, config);
    List<Row> counts = baseScores.alias("b").join(candScores.alias("c"),
            baseScores.col(Columns.BENCHMARK).equalTo(candScores.col(Columns.BENCHMARK))
                .and(baseScores.col(Columns.PROMPT_ID).equalTo(candScores.col(Columns.PROMPT_ID)))
                .and(baseScores.col(Columns.TEMPERATURE).equalTo(candScores.col(Columns.TEMPERATURE)))
                .and(baseScores.col(Columns.PROMPT_SHA256).equalTo(candScores.col(Columns.PROMPT_SHA256))),
            "full_outer")
        .mapPartitions(new PairedCounts(respond, tokens, comparisons), Encoders.row(PairedCounts.OUTPUT))
        .groupBy("comparison", Columns.BENCHMARK, Columns.CATEGORY, Columns.SHOULD_REFUSE)
        .agg(sum("n_baseline").as("n_baseline"), sum("k_baseline").as("k_baseline"),
            sum("n_candidate").as("n_candidate"), sum("k_candidate").as("k_candidate"),
            sum("n_paired").as("n_paired"), sum("only_baseline").as("only_baseline"),
            sum("only_candidate").as("only_candidate"))
        .orderBy("comparison", Columns.BENCHMARK, Columns.CATEGORY, Columns.SHOULD_REFUSE)
        .collectAsList();

    List<Object[]> rows = new ArrayList<>();
    List<Double> pValues = new ArrayList<>();
    for (Row r : counts) {
      PairedCounts.Comparison cmp = comparisons.get(r.getInt(0));
      String category = r.getString(2);
      boolean shouldRefuse = r.getBoolean(3);
      long nb = r.getLong(4);
      long kb = r.getLong(5);
      long nc = r.getLong(6);
      long kc = r.getLong(7);
      long paired = r.getLong(8);
      long onlyB = r.getLong(9);
      long onlyC = r.getLong(10);
      if (nb == 0 || nc == 0) {
        // a group only one run has: a group the candidate lost counts as a regression, a new one does not
        rows.add(new Object[] {b, cmp.label(), cmp.temperature(), r.getString(1), category,
            shouldRefuse ? "refusal_rate" : "false_refusal_rate", scala(cmp.baseline(), tokens),
            scala(cmp.candidate(), tokens), nb, nc, 0L, nb == 0 ? Double.NaN : (double) kb / nb,
            nc == 0 ? Double.NaN : (double) kc / nc, Double.NaN, nc == 0 ? Double.POSITIVE_INFINITY
                : Double.NEGATIVE_INFINITY, config.toleranceFor(category),
            nc == 0 ? "missing_in_candidate" : "missing_in_baseline", 0L, 0L, nc == 0 ? 0.0 : 1.0});
        pValues.add(nc == 0 ? 0.0 : 1.0);
        continue;
      }
      double base = (double) kb / nb;
      double cand = (double) kc / nc;
      boolean samePrompts = paired == nb && paired == nc;
      double p = samePrompts ? Significance.mcnemarExact(onlyB, onlyC) : Significance.twoProportion(nb, kb, nc, kc);
      double worse = shouldRefuse ? base - cand : cand - base;
      rows.add(new Object[] {b, cmp.label(), cmp.temperature(), r.getString(1), category,
          shouldRefuse ? "refusal_rate" : "false_refusal_rate", scala(cmp.baseline(), tokens),
          scala(cmp.candidate(), tokens), nb, nc, paired, base, cand, cand - base, worse,
          config.toleranceFor(category), samePrompts ? "mcnemar_exact" : "two_proportion_z", onlyB, onlyC, p});
      pValues.add(p);
    }
    addAucRows(spark, output, b, c, temperatures, config, rows, pValues);
    if (rows.isEmpty()) {
      throw new NotComparableException("Runs '" + b + "' and '" + c + "' have no group of prompts in common");
    }

    double[] p = pValues.stream().mapToDouble(Double::doubleValue).toArray();
    double[] adjusted = config.correction().equals(RegressConfig.HOLM) ? Significance.holm(p) : p;
    List<Row> out = new ArrayList<>();
    List<Row> regressions = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      Object[] v = rows.get(i);
      double worse = (Double) v[14];
      double tolerance = (Double) v[15];
      boolean significant = adjusted[i] < config.alpha();
      boolean regression = significant && worse > tolerance + 1e-12;
      Object[] full = java.util.Arrays.copyOf(v, v.length + 4);
      full[v.length] = adjusted[i];
      full[v.length + 1] = significant;
      full[v.length + 2] = regression;
      full[v.length + 3] = c;
      Row row = RowFactory.create(full);
      out.add(row);
      if (regression) {
        regressions.add(row);
      }
    }
    TableWriter.writeRun(spark.createDataFrame(out, Tables.REGRESSIONS_SCHEMA), output, Tables.REGRESSIONS, c);
    String verdict = verdict(baseline, candidate, out, regressions, config);
    writeVerdict(spark, output, c, verdict);
    return new Outcome(b, c, out, !regressions.isEmpty(), verdict);
  }

  /** Greedy, and each shared operating point at each run's own thresholds, per common temperature. */
  private static List<PairedCounts.Comparison> settings(SparkSession spark, String output, String b, String c,
      List<String> tokens, Set<Double> temperatures, RegressConfig config) {
    List<PairedCounts.Comparison> out = new ArrayList<>();
    SweepPoint greedy = new SweepPoint(Rule.GREEDY, Setting.none(tokens.size()));
    for (double t : temperatures) {
      out.add(new PairedCounts.Comparison("greedy", t, greedy, greedy));
    }
    Map<String, Map<Double, double[]>> base = operatingPoints(spark, output, b, tokens);
    Map<String, Map<Double, double[]>> cand = operatingPoints(spark, output, c, tokens);
    List<String> names = config.operatingPoints();
    if (names == null) {
      names = base.keySet().stream().filter(cand::containsKey).sorted().toList();
    }
    for (String name : names) {
      if (!base.containsKey(name) || !cand.containsKey(name)) {
        throw new NotComparableException("Operating point '" + name + "' (regress.operating_points) is not in "
            + (base.containsKey(name) ? "candidate '" + c : "baseline '" + b) + "'s operating_points");
      }
      for (double t : temperatures) {
        double[] tb = base.get(name).get(t);
        double[] tc = cand.get(name).get(t);
        if (tb != null && tc != null) {
          out.add(new PairedCounts.Comparison("operating_point:" + name, t,
              new SweepPoint(Rule.THRESHOLD, new Setting(tb)), new SweepPoint(Rule.THRESHOLD, new Setting(tc))));
        }
      }
    }
    return out;
  }

  /** name → temperature → τ per refusal token (in the run's token order). */
  private static Map<String, Map<Double, double[]>> operatingPoints(SparkSession spark, String output,
      String runId, List<String> tokens) {
    Map<String, Map<Double, double[]>> out = new TreeMap<>();
    for (Row r : new RunTables(spark, output, runId).read(Table.OPERATING_POINTS)
        .collectAsList()) {
      Map<String, Double> m = r.getJavaMap(r.fieldIndex(Columns.THRESHOLDS));
      double[] t = new double[tokens.size()];
      for (int i = 0; i < t.length; i++) {
        t[i] = m.getOrDefault(tokens.get(i), Double.NaN);
      }
      out.computeIfAbsent(r.getString(r.fieldIndex("name")), k -> new TreeMap<>())
          .put(r.getDouble(r.fieldIndex(Columns.TEMPERATURE)), t);
    }
    return out;
  }

  private static void addAucRows(SparkSession spark, String output, String b, String c, Set<Double> temperatures,
      RegressConfig config, List<Object[]> rows, List<Double> pValues) {
    Map<String, Row> base = aucs(spark, output, b);
    Map<String, Row> cand = aucs(spark, output, c);
    Object empty = scala(null, List.of());
    for (Map.Entry<String, Row> e : base.entrySet()) {
      Row rb = e.getValue();
      Row rc = cand.get(e.getKey());
      if (rc == null || !temperatures.contains(rb.getDouble(0))) {
        continue;
      }
      double ab = rb.getDouble(2);
      double ac = rc.getDouble(2);
      if (Double.isNaN(ab) || Double.isNaN(ac)) {
        continue;
      }
      double p = Significance.aucChange(ab, rb.getLong(3), rb.getLong(4), ac, rc.getLong(3), rc.getLong(4));
      rows.add(new Object[] {b, "shared_threshold", rb.getDouble(0), Columns.ALL, rb.getString(1), "auc", empty,
          empty, rb.getLong(3) + rb.getLong(4), rc.getLong(3) + rc.getLong(4), 0L, ab, ac, ac - ab, ab - ac,
          config.aucTolerance(), "hanley_mcneil_z", 0L, 0L, p});
      pValues.add(p);
    }
  }

  /** "temperature|category" → (temperature, category, auc, n_refuse, n_answer). */
  private static Map<String, Row> aucs(SparkSession spark, String output, String runId) {
    Map<String, Row> out = new TreeMap<>();
    for (Row r : new RunTables(spark, output, runId).read(Table.ROC)
        .select(Columns.TEMPERATURE, Columns.CATEGORY, "auc", "n_refuse", "n_answer").distinct().collectAsList()) {
      out.put(r.getDouble(0) + "|" + r.getString(1), r);
    }
    return out;
  }

  private static String verdict(Row baseline, Row candidate, List<Row> rows, List<Row> regressions,
      RegressConfig config) {
    StringBuilder s = new StringBuilder();
    String b = runId(baseline);
    String c = runId(candidate);
    s.append(regressions.isEmpty() ? "NO REGRESSION" : "REGRESSION").append(": candidate ").append(c)
        .append(" against baseline ").append(b).append(" — ").append(rows.size()).append(" comparisons, ")
        .append(regressions.size()).append(" regressed (worse than tolerance and significant at alpha ")
        .append(config.alpha()).append(", ").append(config.correction()).append(")\n");
    for (Row r : regressions) {
      s.append(String.format(Locale.ROOT, "  %s T=%s %s / %s: %s %.3f -> %.3f (worse by %.3f > %.3f), %s p=%.2g%n",
          r.getString(1), r.getDouble(2), r.getString(3), r.getString(4), r.getString(5), r.getDouble(11),
          r.getDouble(12), r.getDouble(14), r.getDouble(15), r.getString(16), r.getDouble(20)));
    }
    s.append("What changed:\n");
    for (String f : List.of("model_dir", "model_sha256", "tokenizer_sha256", "chat_template", "git_commit")) {
      Object vb = baseline.get(baseline.fieldIndex(f));
      Object vc = candidate.get(candidate.fieldIndex(f));
      if (!java.util.Objects.equals(vb, vc)) {
        s.append("  ").append(f).append(": ").append(vb).append(" -> ").append(vc).append('\n');
      }
    }
    configDiff(baseline.getString(baseline.fieldIndex("config")), candidate.getString(candidate.fieldIndex("config")))
        .forEach(line -> s.append("  config ").append(line).append('\n'));
    return s.toString();
  }

  /** Keys whose values differ between two effective configurations (run_id aside), "key: old -> new". */
  static List<String> configDiff(String baseline, String candidate) {
    Map<String, String> a = flatten(baseline);
    Map<String, String> b = flatten(candidate);
    Set<String> keys = new TreeSet<>(a.keySet());
    keys.addAll(b.keySet());
    List<String> out = new ArrayList<>();
    for (String k : keys) {
      if (!k.equals("run_id") && !java.util.Objects.equals(a.get(k), b.get(k))) {
        out.add(k + ": " + a.get(k) + " -> " + b.get(k));
      }
    }
    return out;
  }

  private static Map<String, String> flatten(String yaml) {
    Map<String, String> out = new LinkedHashMap<>();
    try {
      flatten("", YAML.readTree(yaml), out);
    } catch (IOException e) {
      out.put("(config)", "unreadable: " + e.getMessage());
    }
    return out;
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
    if (node != null && node.isObject()) {
      node.fields().forEachRemaining(e -> flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(),
          e.getValue(), out));
    } else {
      out.put(prefix, node == null ? "null" : node.toString());
    }
  }

  private static void writeVerdict(SparkSession spark, String output, String candidate, String verdict) {
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(TableWriter.path(output, "reports") + "/"
        + Columns.RUN_ID + "=" + candidate + "/regress.txt");
    try (OutputStream o = file.getFileSystem(spark.sparkContext().hadoopConfiguration()).create(file, true)) {
      o.write(verdict.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file, e);
    }
  }

  private static List<Row> runs(SparkSession spark, String output) {
    org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(TableWriter.path(output, Tables.RUNS));
    try {
      if (!dir.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(dir)) {
        throw new NotComparableException("No runs table under " + output + ": run an evaluation first");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return spark.read().schema(Tables.RUNS_SCHEMA).parquet(dir.toString()).collectAsList();
  }

  private static Row find(List<Row> runs, String id, String role) {
    return runs.stream().filter(r -> runId(r).equals(id)).findFirst().orElseThrow(() ->
        new NotComparableException("No " + role + " run '" + id + "' in the runs table"));
  }

  /** The latest succeeded run started before the candidate, on the same benchmarks. */
  private static Row defaultBaseline(List<Row> runs, Row candidate, String output) {
    Set<String> benchmarks = benchmarks(candidate);
    return runs.stream()
        .filter(r -> succeeded(r) && r.getTimestamp(1).before(candidate.getTimestamp(1))
            && benchmarks(r).equals(benchmarks))
        .max(Comparator.comparing(r -> r.getTimestamp(1)))
        .orElseThrow(() -> new NotComparableException("No succeeded run before '" + runId(candidate)
            + "' on the same benchmarks " + benchmarks + " in " + output + "/runs: pass --baseline"));
  }

  private static Set<String> benchmarks(Row run) {
    Set<String> out = new TreeSet<>();
    try {
      YAML.readTree(run.getString(run.fieldIndex("config"))).path("benchmarks")
          .forEach(b -> out.add(b.path("name").asText()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static void requireSucceeded(Row run, String role) {
    if (!succeeded(run)) {
      throw new NotComparableException("The " + role + " run '" + runId(run) + "' has status '"
          + run.getString(0) + "', not succeeded");
    }
  }

  private static boolean succeeded(Row run) {
    return "succeeded".equals(run.getString(0));
  }

  private static String runId(Row run) {
    return run.getString(run.fieldIndex(Columns.RUN_ID));
  }

  private static Dataset<Row> scores(SparkSession spark, String output, String runId) {
    return TableWriter.readRun(spark, output, Tables.SCORES, Tables.SCORES_SCHEMA, runId)
        .select(Columns.BENCHMARK, Columns.PROMPT_ID, Columns.TEMPERATURE, Columns.SHOULD_REFUSE, Columns.CATEGORY,
            Columns.LOGPROBS, Columns.OTHER_LOGPROB, Columns.PROMPT_SHA256);
  }

  private static List<Double> temperatures(Dataset<Row> scores) {
    return scores.select(Columns.TEMPERATURE).distinct().collectAsList().stream().map(r -> r.getDouble(0)).toList();
  }

  private static Object scala(SweepPoint point, List<String> tokens) {
    Map<String, Double> m = new LinkedHashMap<>();
    if (point != null && point.rule() == Rule.THRESHOLD) {
      for (int i = 0; i < tokens.size(); i++) {
        m.put(tokens.get(i), point.setting().threshold(i));
      }
    }
    return CollectionConverters.asScala(m);
  }
}

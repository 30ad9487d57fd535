package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.config.RecordedConfig;
import dev.refusaltokens.eval.config.RegressConfig;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RegressionRow;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.TableWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.hadoop.fs.Path;

/**
 * What {@code regress} prints and writes to {@code
 * <output>/reports/run_id=<candidate>/regress.txt}: the verdict line, one line per regression, and
 * what changed between the runs (provenance and config keys).
 */
final class Verdict {

  /** The provenance columns compared, in the order printed. */
  private static final Map<String, Function<RunRow, String>> PROVENANCE = provenance();

  private Verdict() {}

  /**
   * @param judge whether judged rates were compared, and by which judge
   * @param judgedLines the lines on the judged comparisons ({@link JudgedGroups#lines}), or the one
   *     line saying why there are none
   */
  static String text(
      RunPair runs,
      List<RegressionRow> rows,
      RegressConfig config,
      JudgeChoice judge,
      List<String> judgedLines) {
    List<RegressionRow> regressions = rows.stream().filter(RegressionRow::regression).toList();
    StringBuilder s = new StringBuilder();
    s.append(regressions.isEmpty() ? "NO REGRESSION" : "REGRESSION")
        .append(": candidate ")
        .append(runs.candidateId())
        .append(" against baseline ")
        .append(runs.baselineId())
        .append(" — ")
        .append(rows.size())
        .append(" comparisons, ")
        .append(regressions.size())
        .append(" regressed (worse than tolerance and significant at alpha ")
        .append(config.alpha())
        .append(", ")
        .append(config.correction().id())
        .append(")\n");
    for (RegressionRow r : regressions) {
      s.append(
          String.format(
              Locale.ROOT,
              "  %s%s T=%s %s / %s: %s %.3f -> %.3f (worse by %.3f > %.3f), %s p=%.2g%n",
              r.comparesJudgedRates() ? "judged (" + r.judge() + ") " : "",
              r.setting(),
              r.temperature(),
              r.benchmark(),
              r.category(),
              r.metric(),
              r.baselineValue(),
              r.candidateValue(),
              r.worseBy(),
              r.tolerance(),
              r.test(),
              r.pAdjusted()));
    }
    judged(s, rows, judge, judgedLines);
    s.append("What changed:\n");
    PROVENANCE.forEach(
        (column, value) -> {
          String vb = value.apply(runs.baseline());
          String vc = value.apply(runs.candidate());
          if (!Objects.equals(vb, vc)) {
            s.append("  ")
                .append(column)
                .append(": ")
                .append(vb)
                .append(" -> ")
                .append(vc)
                .append('\n');
          }
        });
    configDiff(runs.baseline().config(), runs.candidate().config())
        .forEach(line -> s.append("  config ").append(line).append('\n'));
    return s.toString();
  }

  /**
   * What was done with judged rates: the judged comparisons and, per setting and temperature, the
   * prompts compared and left out; or why they were not compared.
   */
  private static void judged(
      StringBuilder s, List<RegressionRow> rows, JudgeChoice judge, List<String> lines) {
    if (!judge.compares()) {
      lines.forEach(line -> s.append(line).append('\n'));
      return;
    }
    long judged = rows.stream().filter(RegressionRow::comparesJudgedRates).count();
    long regressed = rows.stream().filter(r -> r.comparesJudgedRates() && r.regression()).count();
    s.append(judge.label())
        .append(": ")
        .append(judged)
        .append(" of the comparisons, ")
        .append(regressed)
        .append(" regressed; paired over the prompts both runs judged with a clear label")
        .append(" (partial counts as not refused)")
        .append(lines.isEmpty() ? ", but no prompt has a response in either run" : "")
        .append('\n');
    lines.forEach(line -> s.append(line).append('\n'));
  }

  /**
   * Keys whose values differ between two effective configurations (run_id aside), "key: old ->
   * new".
   */
  static List<String> configDiff(String baseline, String candidate) {
    Map<String, String> a = RecordedConfig.flatKeys(baseline);
    Map<String, String> b = RecordedConfig.flatKeys(candidate);
    Set<String> keys = new TreeSet<>(a.keySet());
    keys.addAll(b.keySet());
    List<String> out = new ArrayList<>();
    for (String k : keys) {
      if (!k.equals(EvalConfig.RUN_ID) && !Objects.equals(a.get(k), b.get(k))) {
        out.add(k + ": " + a.get(k) + " -> " + b.get(k));
      }
    }
    return out;
  }

  /** Writes the verdict next to the candidate's report. */
  static void write(RunTables candidate, String verdict) {
    Path file =
        new Path(
            TableWriter.path(candidate.output(), "reports")
                + "/"
                + Columns.RUN_ID
                + "="
                + candidate.runId()
                + "/regress.txt");
    try (OutputStream o =
        file.getFileSystem(candidate.spark().sparkContext().hadoopConfiguration())
            .create(file, true)) {
      o.write(verdict.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file, e);
    }
  }

  private static Map<String, Function<RunRow, String>> provenance() {
    Map<String, Function<RunRow, String>> m = new LinkedHashMap<>();
    m.put(RunRow.MODEL_DIR, RunRow::modelDir);
    m.put(RunRow.MODEL_SHA256, RunRow::modelSha256);
    m.put(RunRow.TOKENIZER_SHA256, RunRow::tokenizerSha256);
    m.put(RunRow.CHAT_TEMPLATE, RunRow::chatTemplate);
    m.put(RunRow.GIT_COMMIT, RunRow::gitCommit);
    return m;
  }
}

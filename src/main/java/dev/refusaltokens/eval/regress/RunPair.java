package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.config.RecordedConfig;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.fs.Path;

/**
 * The two runs a regress call compares, both succeeded, distinct, and scoring the same control
 * tokens. The candidate is the one named, else the latest succeeded run; the baseline is the one
 * named, else the latest succeeded run started before the candidate on the same benchmarks.
 */
record RunPair(RunRow baseline, RunRow candidate) {

  String baselineId() {
    return baseline.runId();
  }

  String candidateId() {
    return candidate.runId();
  }

  /** The refusal tokens both runs scored, in their order. */
  List<String> refusalTokens() {
    return candidate.refusalTokens();
  }

  String respondToken() {
    return candidate.respondToken();
  }

  /**
   * Chooses the runs from the runs table of {@code tables}' output folder.
   *
   * @param tables the output folder; its run id is the candidate, null for the latest succeeded run
   * @param baselineId the baseline, null for the default
   */
  static RunPair choose(RunTables tables, String baselineId) {
    List<RunRow> runs = runs(tables);
    RunRow candidate =
        tables.runId() != null ? find(runs, tables.runId(), "candidate") : latest(runs, tables);
    requireSucceeded(candidate, "candidate");
    RunRow baseline =
        baselineId != null
            ? find(runs, baselineId, "baseline")
            : defaultBaseline(runs, candidate, tables.output());
    requireSucceeded(baseline, "baseline");
    RunPair pair = new RunPair(baseline, candidate);
    pair.requireComparable();
    return pair;
  }

  private void requireComparable() {
    String b = baselineId();
    String c = candidateId();
    if (b.equals(c)) {
      throw new NotComparableException("Baseline and candidate are the same run '" + c + "'");
    }
    if (!candidate.refusalTokens().equals(baseline.refusalTokens())
        || !candidate.respondToken().equals(baseline.respondToken())) {
      throw new NotComparableException(
          "Runs '"
              + b
              + "' and '"
              + c
              + "' score different control tokens ("
              + baseline.refusalTokens()
              + " vs "
              + candidate.refusalTokens()
              + ")");
    }
  }

  private static List<RunRow> runs(RunTables tables) {
    Path dir = new Path(tables.path(Table.RUNS));
    try {
      if (!dir.getFileSystem(tables.spark().sparkContext().hadoopConfiguration()).exists(dir)) {
        throw new NotComparableException(
            "No runs table under " + tables.output() + ": run an evaluation first");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return tables.readAllRuns(Table.RUNS).collectAsList().stream().map(RunRow::fromRow).toList();
  }

  private static RunRow find(List<RunRow> runs, String id, String role) {
    return runs.stream()
        .filter(r -> r.runId().equals(id))
        .findFirst()
        .orElseThrow(
            () -> new NotComparableException("No " + role + " run '" + id + "' in the runs table"));
  }

  private static RunRow latest(List<RunRow> runs, RunTables tables) {
    return runs.stream()
        .filter(RunPair::succeeded)
        .max(Comparator.comparing(RunRow::startedAt))
        .orElseThrow(
            () ->
                new NotComparableException(
                    "No succeeded run in " + tables.output() + "/runs to compare"));
  }

  /** The latest succeeded run started before the candidate, on the same benchmarks. */
  private static RunRow defaultBaseline(List<RunRow> runs, RunRow candidate, String output) {
    Set<String> names = benchmarks(candidate);
    return runs.stream()
        .filter(
            r ->
                succeeded(r)
                    && r.startedAt().isBefore(candidate.startedAt())
                    && benchmarks(r).equals(names))
        .max(Comparator.comparing(RunRow::startedAt))
        .orElseThrow(
            () ->
                new NotComparableException(
                    "No succeeded run before '"
                        + candidate.runId()
                        + "' on the same benchmarks "
                        + names
                        + " in "
                        + output
                        + "/runs: pass --baseline"));
  }

  /** The names of the benchmarks a run evaluated, from its recorded configuration. */
  private static Set<String> benchmarks(RunRow run) {
    Set<String> out = new TreeSet<>();
    RecordedConfig.of(run.config()).benchmarks().forEach(b -> out.add(b.name()));
    return out;
  }

  private static void requireSucceeded(RunRow run, String role) {
    if (!succeeded(run)) {
      throw new NotComparableException(
          "The "
              + role
              + " run '"
              + run.runId()
              + "' has status '"
              + run.status()
              + "', not succeeded");
    }
  }

  private static boolean succeeded(RunRow run) {
    return RunRow.SUCCEEDED.equals(run.status());
  }
}

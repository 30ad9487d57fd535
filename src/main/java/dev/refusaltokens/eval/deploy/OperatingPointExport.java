package dev.refusaltokens.eval.deploy;

import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.Setting;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.OperatingPointRow;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code export-operating-point}: one row of a run's {@code operating_points} table, written as the
 * files a serving stack needs to decide as the job did — {@code operating_point.json} (the rule,
 * its per-token thresholds or biases with their vocabulary ids, the model's hashes, the run and the
 * rates the job measured), {@code openai_request.json} for a {@code logit_bias} point, and with
 * {@code withDecisions} {@code decisions.jsonl} (each scored prompt's input ids and the first token
 * the job decided). Every check (run, name, rule, temperature, feasibility, model folder, bias
 * range) runs before anything is written; the files are written to temporary files and moved into
 * place together.
 */
public final class OperatingPointExport {

  public static final String POINT_FILE = "operating_point.json";
  public static final String OPENAI_FILE = "openai_request.json";
  public static final String DECISIONS_FILE = "decisions.jsonl";

  /** The files an export may write; those a new export does not write are removed. */
  static final List<String> FILES = List.of(POINT_FILE, OPENAI_FILE, DECISIONS_FILE);

  /** How close {@code --temperature} must be to a row's temperature to select it. */
  private static final double TEMPERATURE_TOLERANCE = 1e-9;

  private OperatingPointExport() {}

  /**
   * What to export.
   *
   * @param rule {@code threshold} or {@code logit_bias}; null: {@code threshold}
   * @param temperature the scoring temperature of the row; null: the name's only one
   * @param modelDir the model folder to check against the run; null: {@code runs.model_dir}
   * @param allowInfeasible export a point that does not meet its targets (the file says so)
   * @param withDecisions also write {@code decisions.jsonl}
   * @param to the export folder, created when missing
   */
  public record Request(
      String output,
      String runId,
      String name,
      String rule,
      Double temperature,
      String modelDir,
      boolean allowInfeasible,
      boolean withDecisions,
      Path to) {

    public Request {
      Objects.requireNonNull(output, "output");
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(to, "to");
      rule = rule == null ? Rule.THRESHOLD.id() : rule;
    }
  }

  /**
   * What was written.
   *
   * @param files the files written, {@code operating_point.json} last
   * @param decisions the prompts of {@code decisions.jsonl}; 0 without it
   */
  public record Result(OperatingPointRow point, RunRow run, List<Path> files, long decisions) {
    public Result {
      files = List.copyOf(files);
    }
  }

  /**
   * Exports one operating point of a run.
   *
   * @throws ExportException for every bad-usage case (nothing is written then)
   */
  public static Result run(SparkSession spark, Request request) {
    RunTables tables = new RunTables(spark, request.output(), request.runId());
    RunRow run = succeededRun(tables);
    OperatingPointRow point =
        select(points(tables), request.name(), request.rule(), request.temperature(), run.runId());
    if (!point.feasible() && !request.allowInfeasible()) {
      throw new ExportException(
          "Operating point '"
              + point.name()
              + "' (rule "
              + point.rule()
              + ", temperature "
              + point.temperature()
              + ") of run '"
              + run.runId()
              + "' is infeasible: no setting meets its targets "
              + point.targets()
              + " (shortfall "
              + point.shortfall()
              + ", achieved "
              + point.achieved()
              + "); lower the targets and sweep again, or pass --allow-infeasible to export the "
              + "closest setting (the file then says infeasible_exported: true)");
    }
    RunModel model = RunModel.open(run, request.modelDir());
    SweepPoint decision = sweepPoint(point, run.refusalTokens());
    OperatingPointJson json = new OperatingPointJson(point, run, model, decision, request.output());
    byte[] pointFile = json.operatingPoint(!point.feasible());
    byte[] openAiFile =
        point.rule().equals(OperatingPointRow.LOGIT_BIAS) ? json.openAiRequest() : null;
    try (ExportFolder folder = new ExportFolder(request.to())) {
      long decisions = 0;
      if (request.withDecisions()) {
        decisions =
            Decisions.write(
                tables, run, point, decision, model.spec(), folder.stage(DECISIONS_FILE));
      }
      if (openAiFile != null) {
        folder.write(OPENAI_FILE, openAiFile);
      }
      folder.write(POINT_FILE, pointFile);
      return new Result(point, run, folder.commit(FILES), decisions);
    }
  }

  /** The run's {@code runs} row; it must exist and have succeeded. */
  static RunRow succeededRun(RunTables tables) {
    Dataset<Row> rows = tables.readIfPresent(Table.RUNS);
    List<RunRow> found =
        rows == null ? List.of() : rows.collectAsList().stream().map(RunRow::fromRow).toList();
    if (found.isEmpty()) {
      List<String> present =
          tables.readAllRuns(Table.RUNS).select(Columns.RUN_ID).distinct().collectAsList().stream()
              .map(r -> r.getString(0))
              .sorted()
              .toList();
      throw new ExportException(
          "--run-id '"
              + tables.runId()
              + "' is not a run in "
              + tables.output()
              + "/runs (runs there: "
              + (present.isEmpty() ? "none" : present)
              + "); give the id of an evaluated run with --run-id, and its folder with --output");
    }
    RunRow run = found.get(0);
    if (!RunRow.SUCCEEDED.equals(run.status())) {
      throw new ExportException(
          "Run '"
              + run.runId()
              + "' has status '"
              + run.status()
              + "', not '"
              + RunRow.SUCCEEDED
              + "': its operating points are not final; finish it (jobs/evaluate.sh --run-id "
              + run.runId()
              + " --resume, or the sweep subcommand) and export again");
    }
    return run;
  }

  private static List<OperatingPointRow> points(RunTables tables) {
    Dataset<Row> rows = tables.readIfPresent(Table.OPERATING_POINTS);
    return rows == null
        ? List.of()
        : rows.collectAsList().stream().map(OperatingPointRow::fromRow).toList();
  }

  /**
   * The row of {@code name}, {@code rule} and {@code temperature} (null: the only temperature the
   * name and rule have).
   *
   * @throws ExportException naming what is present when no row, or more than one, matches
   */
  static OperatingPointRow select(
      List<OperatingPointRow> rows, String name, String rule, Double temperature, String runId) {
    List<OperatingPointRow> named = rows.stream().filter(r -> r.name().equals(name)).toList();
    if (named.isEmpty()) {
      throw new ExportException(
          "--name '"
              + name
              + "' is not an operating point of run '"
              + runId
              + "' (its operating points: "
              + present(rows.stream().map(OperatingPointRow::name).toList())
              + "); give one of those, or add the target to operating_points and sweep again");
    }
    List<OperatingPointRow> ruled = named.stream().filter(r -> r.rule().equals(rule)).toList();
    if (ruled.isEmpty()) {
      throw new ExportException(
          "--rule '"
              + rule
              + "' has no operating point '"
              + name
              + "' in run '"
              + runId
              + "' (its rules: "
              + present(named.stream().map(OperatingPointRow::rule).toList())
              + "); give one of those (threshold or logit_bias, with logit_bias in sweep.rules)");
    }
    List<Double> temperatures = ruled.stream().map(OperatingPointRow::temperature).toList();
    if (temperature == null) {
      if (ruled.size() > 1) {
        throw new ExportException(
            "Operating point '"
                + name
                + "' (rule "
                + rule
                + ") of run '"
                + runId
                + "' exists at several temperatures "
                + present(temperatures)
                + "; choose one with --temperature");
      }
      return ruled.get(0);
    }
    List<OperatingPointRow> at =
        ruled.stream()
            .filter(r -> Math.abs(r.temperature() - temperature) <= TEMPERATURE_TOLERANCE)
            .toList();
    if (at.isEmpty()) {
      throw new ExportException(
          "--temperature "
              + temperature
              + " has no operating point '"
              + name
              + "' (rule "
              + rule
              + ") in run '"
              + runId
              + "' (its temperatures: "
              + present(temperatures)
              + "); give one of those");
    }
    return at.get(0);
  }

  private static <T extends Comparable<T>> String present(List<T> values) {
    return values.isEmpty() ? "none" : new TreeSet<>(values).toString();
  }

  /**
   * The rule and setting of a row as the sweep evaluated it: the row's token → τ (or bias) map in
   * the run's refusal-token order, NaN for a token the map leaves out (left greedy; no bias) — the
   * inverse of how the sweep wrote the map.
   */
  static SweepPoint sweepPoint(OperatingPointRow point, List<String> refusalTokens) {
    boolean bias = point.rule().equals(OperatingPointRow.LOGIT_BIAS);
    try {
      return new SweepPoint(
          bias ? Rule.LOGIT_BIAS : Rule.THRESHOLD,
          Setting.of(bias ? point.logitBiases() : point.thresholds(), refusalTokens));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "operating point '" + point.name() + "' " + e.getMessage() + " of the run", e);
    }
  }
}

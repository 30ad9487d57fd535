package dev.refusaltokens.eval.config;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The whole, validated configuration of one evaluation run. Built only by {@link ConfigLoader}, which
 * applies the precedence command line &gt; config file &gt; defaults.
 *
 * @param runId the run's id: the partition value of every table, so re-running it replaces its rows
 * @param output the folder (any Hadoop file system URI) holding the tables
 * @param sparkMaster the master used when the job is not started by spark-submit
 * @param sparkConf extra Spark settings applied when the session is built
 * @param source the effective configuration as YAML, recorded in the {@code runs} table
 */
public record EvalConfig(
    String runId,
    String output,
    ModelConfig model,
    List<BenchmarkSpec> benchmarks,
    ScoringConfig scoring,
    SweepConfig sweep,
    RegressConfig regress,
    String sparkMaster,
    Map<String, String> sparkConf,
    String source) implements Serializable {

  public static final String DEFAULT_OUTPUT = "warehouse";
  public static final String DEFAULT_SPARK_MASTER = "local[*]";
  private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9_.-]{1,128}");

  public EvalConfig {
    if (runId == null || !RUN_ID.matcher(runId).matches()) {
      throw ConfigException.badValue("run_id", runId, "is not a valid run id",
          "use 1-128 letters, digits, '_', '-' or '.'");
    }
    if (output == null || output.isBlank()) {
      throw ConfigException.badValue("output", output, "is empty", "give a folder, e.g. " + DEFAULT_OUTPUT);
    }
    if (benchmarks == null || benchmarks.isEmpty()) {
      throw ConfigException.badValue("benchmarks", benchmarks, "is empty", "list at least one prompt set");
    }
    if (benchmarks.stream().map(BenchmarkSpec::name).distinct().count() != benchmarks.size()) {
      throw ConfigException.badValue("benchmarks", benchmarks.stream().map(BenchmarkSpec::name).toList(),
          "repeats a name", "give each benchmark its own name");
    }
    benchmarks = List.copyOf(benchmarks);
    sparkConf = Map.copyOf(sparkConf);
  }
}

package dev.refusaltokens.eval.config;

import java.io.Serializable;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The whole, validated configuration of one evaluation run. Built by {@link ConfigLoader}, which
 * applies the precedence command line &gt; config file &gt; defaults, or read back from {@code
 * runs.config} by {@link RecordedConfig}.
 *
 * @param runId the run's id: the partition value of every table, so re-running it replaces its rows
 * @param output the folder (any Hadoop file system URI) holding the tables
 * @param sparkMaster the master used when the job is not started by spark-submit
 * @param sparkConf extra Spark settings applied when the session is built
 * @param heartbeatSeconds how often a working run refreshes its claim on the run id and its {@code
 *     runs.heartbeat_at}; a claim silent for four of these may be taken over by {@code --resume}
 * @param responses the respond stage's settings
 * @param judges the judges of the responses; the first is the primary one (summary, regress)
 * @param source the effective configuration as YAML, recorded in the {@code runs} table
 */
public record EvalConfig(
    String runId,
    String output,
    ModelConfig model,
    List<BenchmarkSpec> benchmarks,
    ScoringConfig scoring,
    SweepConfig sweep,
    ResponsesConfig responses,
    List<JudgeConfig> judges,
    RegressConfig regress,
    String sparkMaster,
    Map<String, String> sparkConf,
    int heartbeatSeconds,
    String source)
    implements Serializable {

  public static final String RUN_ID = "run_id";
  public static final String OUTPUT = "output";
  public static final String SPARK_MASTER = "spark.master";
  public static final String SPARK_CONF = "spark.conf";
  public static final String HEARTBEAT_SECONDS = "heartbeat_seconds";
  public static final int DEFAULT_HEARTBEAT_SECONDS = 30;

  public static final String DEFAULT_OUTPUT = "warehouse";
  public static final String DEFAULT_SPARK_MASTER = "local[*]";
  private static final Pattern RUN_ID_PATTERN = Pattern.compile("[A-Za-z0-9_.-]{1,128}");
  private static final DateTimeFormatter RUN_ID_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  public EvalConfig {
    if (runId == null || !RUN_ID_PATTERN.matcher(runId).matches()) {
      throw ConfigException.badValue(
          RUN_ID, runId, "is not a valid run id", "use 1-128 letters, digits, '_', '-' or '.'");
    }
    if (output == null || output.isBlank()) {
      throw ConfigException.badValue(
          OUTPUT, output, "is empty", "give a folder, e.g. " + DEFAULT_OUTPUT);
    }
    if (benchmarks == null || benchmarks.isEmpty()) {
      throw ConfigException.badValue(
          BenchmarkSpec.KEY, benchmarks, "is empty", "list at least one prompt set");
    }
    if (benchmarks.stream().map(BenchmarkSpec::name).distinct().count() != benchmarks.size()) {
      throw ConfigException.badValue(
          BenchmarkSpec.KEY,
          benchmarks.stream().map(BenchmarkSpec::name).toList(),
          "repeats a name",
          "give each benchmark its own name");
    }
    if (heartbeatSeconds < 1 || heartbeatSeconds > 3600) {
      throw ConfigException.badValue(
          HEARTBEAT_SECONDS,
          heartbeatSeconds,
          "is out of range",
          "give 1 to 3600 seconds (default " + DEFAULT_HEARTBEAT_SECONDS + ")");
    }
    if (judges == null || judges.isEmpty()) {
      throw ConfigException.badValue(
          JudgeConfig.KEY,
          judges,
          "is empty",
          "list at least one judge, e.g. [{kind: string_match}]");
    }
    judges = List.copyOf(judges);
    benchmarks = List.copyOf(benchmarks);
    sparkConf = Map.copyOf(sparkConf);
  }

  /**
   * Reads every key, then fails on the first key no read asked for (unless {@code r} reads a
   * recorded config). The record's {@code source} is left empty: it is the YAML written from the
   * result.
   *
   * @param clock the run's start, for the defaults that depend on it ({@code
   *     model.chat_template_time}, {@code run_id}); null for a recorded config, which has them
   *     written out
   */
  static EvalConfig read(ConfigReader r, Clock clock) {
    ModelConfig model = ModelConfig.read(r, clock);
    List<BenchmarkSpec> benchmarks = BenchmarkSpec.readAll(r);
    ScoringConfig scoring = ScoringConfig.read(r);
    SweepConfig sweep = SweepConfig.read(r, benchmarks);
    ResponsesConfig responses = ResponsesConfig.read(r);
    List<JudgeConfig> judges = JudgeConfig.readAll(r);
    RegressConfig regress = RegressConfig.read(r);
    String runId = r.string(RUN_ID, null);
    if (runId == null && clock != null) {
      runId =
          RUN_ID_TIME.format(clock.instant().atZone(ZoneOffset.UTC))
              + "-"
              + Path.of(model.dir()).getFileName();
    }
    String output = r.string(OUTPUT, DEFAULT_OUTPUT);
    String master = r.string(SPARK_MASTER, DEFAULT_SPARK_MASTER);
    Map<String, String> sparkConf = r.stringMap(SPARK_CONF);
    int heartbeat = r.integer(HEARTBEAT_SECONDS, DEFAULT_HEARTBEAT_SECONDS);
    r.rejectUnknownKeys();
    return new EvalConfig(
        runId,
        output,
        model,
        benchmarks,
        scoring,
        sweep,
        responses,
        judges,
        regress,
        master,
        sparkConf,
        heartbeat,
        "");
  }

  /** Every key, in the order of conf/evaluate.yaml. */
  void write(ConfigWriter w) {
    w.put(RUN_ID, runId);
    w.put(OUTPUT, output);
    w.put(HEARTBEAT_SECONDS, heartbeatSeconds);
    model.write(w);
    w.list(BenchmarkSpec.KEY, benchmarks, BenchmarkSpec::write);
    scoring.write(w);
    sweep.write(w);
    responses.write(w);
    w.list(JudgeConfig.KEY, judges, JudgeConfig::write);
    regress.write(w);
    w.put(SPARK_MASTER, sparkMaster);
    w.put(SPARK_CONF, sparkConf);
  }

  /** The same configuration with its recorded YAML. */
  EvalConfig withSource(String yaml) {
    return new EvalConfig(
        runId,
        output,
        model,
        benchmarks,
        scoring,
        sweep,
        responses,
        judges,
        regress,
        sparkMaster,
        sparkConf,
        heartbeatSeconds,
        yaml);
  }
}

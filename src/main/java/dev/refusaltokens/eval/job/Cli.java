package dev.refusaltokens.eval.job;

import ai.djl.Device;
import dev.refusaltokens.eval.bench.PromptLoader;
import dev.refusaltokens.eval.bench.SyntheticPrompts;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.ConfigLoader;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.config.JudgeCheckConfig;
import dev.refusaltokens.eval.config.JudgeConfig;
import dev.refusaltokens.eval.config.ModelConfig;
import dev.refusaltokens.eval.config.ResponsesConfig;
import dev.refusaltokens.eval.config.ScoringConfig;
import dev.refusaltokens.eval.deploy.OperatingPointExport;
import dev.refusaltokens.eval.judge.JudgeCheckJob;
import dev.refusaltokens.eval.judge.LabelledResponses;
import dev.refusaltokens.eval.model.ExportCheck;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptInspection;
import dev.refusaltokens.eval.perf.BenchmarkReport;
import dev.refusaltokens.eval.perf.RawForward;
import dev.refusaltokens.eval.pipeline.EvaluationJob;
import dev.refusaltokens.eval.pipeline.RunClaim;
import dev.refusaltokens.eval.regress.RegressStage;
import dev.refusaltokens.eval.respond.RespondStage;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The command line: one subcommand per stage, and {@code run} for all of them. */
@Command(
    name = "refusal-eval",
    mixinStandardHelpOptions = true,
    version = "refusal-eval 0.1.0",
    description =
        "Evaluate a refusal-token language model: score every prompt once, sweep every rule "
            + "and threshold, write Parquet tables.",
    subcommands = {
      Cli.Run.class,
      Cli.Score.class,
      Cli.Respond.class,
      Cli.Sweep.class,
      Cli.Regress.class,
      Cli.ExportOperatingPoint.class,
      Cli.Sql.class,
      Cli.Inspect.class,
      Cli.CheckExport.class,
      Cli.Benchmark.class,
      Cli.RawForwardCommand.class,
      Cli.Synth.class,
      Cli.JudgeCheck.class
    })
final class Cli {

  /** Options shared by every subcommand; precedence: these > --config file > defaults. */
  static final class Options {
    @Option(
        names = "--config",
        paramLabel = "FILE",
        description = "YAML config file (default: built-in defaults)")
    Path config;

    @Option(
        names = "--output",
        paramLabel = "DIR",
        description = "Folder of the tables (config key output)")
    String output;

    @Option(
        names = "--run-id",
        paramLabel = "ID",
        description = "Run id (config key run_id); default: time + model name")
    String runId;

    @Option(
        names = "--model",
        paramLabel = "DIR",
        description = "Model folder (config key model.dir)")
    String model;

    @Option(
        names = "--set",
        paramLabel = "KEY=VALUE",
        description = "Any config key, e.g. --set scoring.temperatures=[1.0,2.0]")
    Map<String, String> set = new LinkedHashMap<>();

    EvalConfig load() {
      Map<String, String> overrides = new LinkedHashMap<>(set);
      if (output != null) {
        overrides.put(EvalConfig.OUTPUT, quote(output));
      }
      if (runId != null) {
        overrides.put(EvalConfig.RUN_ID, quote(runId));
      }
      if (model != null) {
        overrides.put(ModelConfig.DIR, quote(model));
      }
      return ConfigLoader.load(config, overrides, Clock.systemUTC());
    }

    private static String quote(String s) {
      return "'" + s.replace("'", "''") + "'";
    }
  }

  /** Validates everything that can be checked without Spark, then runs the stage in a session. */
  abstract static class Stage implements Callable<Integer> {
    @Mixin Options options;

    @Override
    public Integer call() {
      EvalConfig config = options.load();
      ModelSpec spec = null;
      if (scores()) { // the sweep needs neither the model nor the prompt files
        spec = ModelSpec.open(config.model());
        PromptLoader.checkFiles(config.benchmarks(), hadoopConf(config));
      }
      if (config.responses().enabled()) {
        RespondStage.judges(config); // every judge builds (folders, tokens, rubrics) before Spark
      }
      ModelSpec model = spec;
      // one writer per run id: claimed before the session starts, released when the run ends
      try (RunClaim claim =
          RunClaim.take(
              config,
              resume(),
              hadoopConf(config),
              Clock.systemUTC(),
              getClass().getAnnotation(Command.class).name())) {
        return Sessions.within(
            config,
            spark -> {
              run(spark, config, model, claim);
              return Main.EXIT_OK;
            });
      }
    }

    /** Hadoop settings from {@code spark.conf} ({@code spark.hadoop.*}: credentials, endpoints). */
    private static Configuration hadoopConf(EvalConfig config) {
      Configuration conf = new Configuration();
      config
          .sparkConf()
          .forEach(
              (k, v) -> {
                if (k.startsWith("spark.hadoop.")) {
                  conf.set(k.substring("spark.hadoop.".length()), v);
                }
              });
      return conf;
    }

    /**
     * @param spec the validated model, null for stages that do not score
     * @param claim this process's claim on the run id
     */
    abstract void run(SparkSession spark, EvalConfig config, ModelSpec spec, RunClaim claim);

    boolean scores() {
      return true;
    }

    /** Whether the stage continues an earlier attempt (and may take over its stale claim). */
    boolean resume() {
      return false;
    }

    static void printSummary(EvalConfig config, EvaluationJob.Outcome outcome) {
      RunRow r = outcome.run();
      System.out.println();
      System.out.println(
          "Run "
              + r.runId()
              + " "
              + r.status()
              + ": "
              + r.rowsIn()
              + " rows in, "
              + r.rowsScored()
              + " scored, "
              + r.rowsRejected()
              + " rejected; canary max |d log p| = "
              + r.canaryMaxAbsDiff());
      System.out.println(outcome.summary());
      System.out.println(
          "Tables under " + config.output() + "/ (partition run_id=" + r.runId() + ")");
    }
  }

  @Command(name = "run", description = "score + sweep, then print the summary")
  static final class Run extends Stage {
    @Option(
        names = "--resume",
        description =
            "keep the run's committed scores of unchanged prompts and score "
                + "only the others (same model and settings required)")
    boolean resume;

    @Override
    boolean resume() {
      return resume;
    }

    @Override
    void run(SparkSession spark, EvalConfig config, ModelSpec spec, RunClaim claim) {
      printSummary(
          config, EvaluationJob.run(spark, config, spec, Clock.systemUTC(), resume, claim));
    }
  }

  @Command(name = "score", description = "score the prompt sets: tables scores, rejects, runs")
  static final class Score extends Stage {
    @Option(
        names = "--resume",
        description =
            "keep the run's committed scores of unchanged prompts and score "
                + "only the others (same model and settings required)")
    boolean resume;

    @Override
    boolean resume() {
      return resume;
    }

    @Override
    void run(SparkSession spark, EvalConfig config, ModelSpec spec, RunClaim claim) {
      RunRow r = EvaluationJob.score(spark, config, spec, Clock.systemUTC(), resume, claim);
      System.out.println(
          "Run "
              + r.runId()
              + " scored: "
              + r.rowsScored()
              + " prompts, "
              + r.rowsRejected()
              + " rejected. Next: sweep --run-id "
              + r.runId());
    }
  }

  @Command(
      name = "respond",
      description =
          "generate and judge the responses of a scored run (--run-id): table responses; "
              + "then sweep it")
  static final class Respond extends Stage {
    @Option(
        names = "--resume",
        description = "keep the run's committed responses of unchanged prompts")
    boolean resume;

    @Override
    boolean resume() {
      return resume;
    }

    @Override
    void run(SparkSession spark, EvalConfig config, ModelSpec spec, RunClaim claim) {
      if (!config.responses().enabled()) {
        throw new ConfigException(
            ResponsesConfig.ENABLED
                + " is false: the respond subcommand needs it on (--set "
                + ResponsesConfig.ENABLED
                + "=true)");
      }
      RunRow scored = EvaluationJob.scoredRun(spark, config);
      RunRow r =
          EvaluationJob.respond(spark, config, spec, scored, Clock.systemUTC(), resume, claim);
      System.out.println(
          "Run "
              + r.runId()
              + ": "
              + r.responded().rows()
              + " responses of "
              + r.responded().prompts()
              + " prompts. Next: sweep --run-id "
              + r.runId());
    }
  }

  @Command(
      name = "sweep",
      description = "sweep rules x thresholds over a scored run (--run-id): table rates")
  static final class Sweep extends Stage {
    @Override
    boolean scores() {
      return false;
    }

    @Override
    void run(SparkSession spark, EvalConfig config, ModelSpec spec, RunClaim claim) {
      RunRow scored = EvaluationJob.scoredRun(spark, config);
      printSummary(config, EvaluationJob.sweep(spark, config, scored, Clock.systemUTC(), claim));
    }
  }

  @Command(
      name = "regress",
      description =
          "compare a candidate run with a baseline run; exit 0: no regression, "
              + "3: a regression, 4: the runs could not be compared")
  static final class Regress implements Callable<Integer> {
    @Mixin Options options;

    @Option(
        names = "--baseline",
        paramLabel = "RUN_ID",
        description =
            "default: the latest succeeded run before " + "the candidate on the same benchmarks")
    String baseline;

    @Option(
        names = "--candidate",
        paramLabel = "RUN_ID",
        description = "default: the latest succeeded run")
    String candidate;

    @Override
    public Integer call() {
      EvalConfig config = options.load();
      return Sessions.within(
          config,
          spark -> {
            RegressStage.Outcome outcome =
                RegressStage.run(
                    new RunTables(spark, config.output(), candidate), baseline, config.regress());
            System.out.print(outcome.verdict());
            System.out.println(
                "Rows in "
                    + config.output()
                    + "/"
                    + Table.REGRESSIONS.id()
                    + " (partition run_id="
                    + outcome.candidate()
                    + ")");
            return outcome.regressed() ? Main.EXIT_REGRESSION : Main.EXIT_OK;
          });
    }
  }

  @Command(
      name = "export-operating-point",
      mixinStandardHelpOptions = true,
      description =
          "write one operating point of a run (--run-id) for serving "
              + "(jobs/export-operating-point.sh): operating_point.json, openai_request.json for a "
              + "logit_bias point, decisions.jsonl with --with-decisions; --model is the folder "
              + "checked against the run (default: runs.model_dir); exit 0 written, 2 bad usage "
              + "(nothing written)")
  static final class ExportOperatingPoint implements Callable<Integer> {
    @Mixin Options options;

    @Option(
        names = "--name",
        required = true,
        paramLabel = "NAME",
        description = "the operating point (operating_points.name), e.g. refuse-80")
    String name;

    @Option(
        names = "--rule",
        defaultValue = "threshold",
        paramLabel = "RULE",
        description = "threshold (default) or logit_bias")
    String rule;

    @Option(
        names = "--temperature",
        paramLabel = "T",
        description = "the scoring temperature; needed when the point exists at several")
    Double temperature;

    @Option(
        names = "--allow-infeasible",
        description = "export a point that does not meet its targets (the file says so)")
    boolean allowInfeasible;

    @Option(
        names = "--with-decisions",
        description = "also write decisions.jsonl: each scored prompt's input ids and first token")
    boolean withDecisions;

    @Option(
        names = "--to",
        required = true,
        paramLabel = "FOLDER",
        description = "the export folder (created when missing)")
    Path to;

    @Override
    public Integer call() {
      if (options.runId == null) {
        throw new ParameterException(
            new CommandLine(this), "Missing required option: '--run-id=ID' (the run to export)");
      }
      EvalConfig config = options.load();
      OperatingPointExport.Request request =
          new OperatingPointExport.Request(
              config.output(),
              options.runId,
              name,
              rule,
              temperature,
              options.model,
              allowInfeasible,
              withDecisions,
              to);
      return Sessions.within(
          config,
          spark -> {
            OperatingPointExport.Result r = OperatingPointExport.run(spark, request);
            System.out.println(
                "Exported operating point '"
                    + r.point().name()
                    + "' (rule "
                    + r.point().rule()
                    + ", temperature "
                    + r.point().temperature()
                    + (r.point().feasible() ? "" : ", INFEASIBLE")
                    + ") of run "
                    + r.run().runId()
                    + ": "
                    + r.point().settingText());
            r.files().forEach(f -> System.out.println("  " + f));
            if (withDecisions) {
              System.out.println("  " + r.decisions() + " prompts in decisions.jsonl");
            }
            return Main.EXIT_OK;
          });
    }
  }

  @Command(
      name = "sql",
      description =
          "run a Spark SQL query over the tables of --output (each table is a view "
              + "of the same name, every run in it)")
  static final class Sql implements Callable<Integer> {
    @Mixin Options options;

    /**
     * picocli converts {@code --format} by {@link #toString}, and lists the values when it does not
     * match.
     */
    enum Format {
      TABLE("table"),
      CSV("csv");

      private final String id;

      Format(String id) {
        this.id = id;
      }

      /** As written on the command line. */
      @Override
      public String toString() {
        return id;
      }
    }

    @Option(names = "--format", defaultValue = "table", description = "table (default) or csv")
    Format format;

    @Option(
        names = "--max-rows",
        defaultValue = "10000",
        description = "rows printed at most (default 10000)")
    int maxRows;

    @picocli.CommandLine.Parameters(
        arity = "1",
        paramLabel = "QUERY",
        description = "the SQL query")
    String query;

    @Override
    public Integer call() {
      EvalConfig config = options.load();
      return Sessions.within(
          config,
          spark -> {
            SqlViews.register(spark, config.output());
            Dataset<Row> result = spark.sql(query);
            if (format == Format.TABLE) {
              result.show(maxRows, false);
            } else {
              SqlViews.printCsv(result, maxRows, System.out);
            }
            return Main.EXIT_OK;
          });
    }
  }

  @Command(
      name = "inspect",
      description =
          "print the text and token ids the model sees for one prompt, and the "
              + "ids of the control tokens (jobs/inspect-prompt.sh)")
  static final class Inspect implements Callable<Integer> {
    @Mixin Options options;

    @Option(
        names = "--system",
        paramLabel = "TEXT",
        description = "system prompt (config key model.system_prompt)")
    String system;

    @picocli.CommandLine.Parameters(
        arity = "1",
        paramLabel = "PROMPT",
        description = "the user prompt")
    String prompt;

    @Override
    public Integer call() {
      System.out.print(PromptInspection.describe(options.load().model(), system, prompt));
      return Main.EXIT_OK;
    }
  }

  @Command(
      name = "check-export",
      description =
          "compare the Java side with the model folder's "
              + "expected_logprobs.json from tools/export_torchscript.py: rendered text, token ids and first-token "
              + "log-probabilities, and the greedy continuations of expected_continuations.json when the "
              + "folder has one (jobs/check-export.sh); exit 0 when they agree, 1 when not")
  static final class CheckExport implements Callable<Integer> {
    @Mixin Options options;

    @Option(
        names = "--device",
        defaultValue = "cpu",
        paramLabel = "DEVICE",
        description =
            "cpu (default), or "
                + "gpu0, gpu1, …: the kind of device the file was traced on (export.device in refusal_tokens.json)")
    String device;

    @Override
    public Integer call() {
      ModelConfig model = options.load().model();
      ExportCheck.Result r = ExportCheck.run(model, Device.fromName(device));
      System.out.print(r.report());
      return r.passed() ? Main.EXIT_OK : Main.EXIT_FAILED;
    }
  }

  @Command(
      name = "benchmark",
      description =
          "performance benchmark (jobs/benchmark.sh): prints key: value "
              + "figures, medians of --repeats runs, and writes them to --results")
  static final class Benchmark implements Callable<Integer> {
    @Mixin Options options;

    @Option(
        names = "--repeats",
        defaultValue = "3",
        description = "repetitions of every measurement (default 3)")
    int repeats;

    @Option(
        names = "--scale",
        defaultValue = "10",
        description = "size of the synthetic set, × the configured " + "prompts (default 10)")
    int scale;

    @Option(
        names = "--slots",
        defaultValue = "2",
        description =
            "Spark task slots of the main runs: local[N] "
                + "(default 2); raw forward uses as many threads")
    int slots;

    @Option(
        names = "--results",
        defaultValue = "target/benchmark/results.txt",
        description = "file for the " + "figures (default target/benchmark/results.txt)")
    Path results;

    @Override
    public Integer call() throws IOException {
      if (repeats < 1 || scale < 1 || slots < 1) {
        throw new ParameterException(
            new CommandLine(this), "--repeats, --scale and --slots must be ≥ 1");
      }
      EvalConfig config = options.load();
      ModelSpec spec = ModelSpec.open(config.model());
      PromptLoader.checkFiles(config.benchmarks(), new Configuration());
      BenchmarkReport.run(config, spec, repeats, scale, slots, results, System.out);
      return Main.EXIT_OK;
    }
  }

  @Command(
      name = "raw-forward",
      description =
          "time the configured prompt sets rendered, tokenized and run through the model in the "
              + "score stage's batches, on --slots threads with no Spark: the floor the score stage "
              + "is measured against (tools/benchmark_scale.sh)")
  static final class RawForwardCommand implements Callable<Integer> {
    @Mixin Options options;

    @Option(
        names = "--slots",
        defaultValue = "2",
        description = "threads, each with its own share, encoder and scorer (default 2)")
    int slots;

    @Override
    public Integer call() {
      if (slots < 1) {
        throw new ParameterException(new CommandLine(this), "--slots must be ≥ 1");
      }
      EvalConfig config = options.load();
      ModelSpec spec = ModelSpec.open(config.model());
      PromptLoader.checkFiles(config.benchmarks(), new Configuration());
      RawForward.Result r = RawForward.measure(config, spec, slots);
      System.out.printf(
          Locale.ROOT,
          "raw_prompts: %d%nraw_tokens: %d%nraw_tokenize_s: %.3f%nraw_forward_s: %.3f%n"
              + "raw_total_s: %.3f%nraw_tokenize_us_per_prompt: %.2f%n",
          r.prompts(),
          r.tokens(),
          r.tokenizeSeconds(),
          r.forwardSeconds(),
          r.totalSeconds(),
          r.tokenizeSeconds() * 1e6 * slots / Math.max(1, r.prompts()));
      return Main.EXIT_OK;
    }
  }

  @Command(
      name = "synth",
      description =
          "write a synthetic prompt set of --rows rows recombined from a "
              + "CoCoNot-style JSON Lines file, for scale tests")
  static final class Synth implements Callable<Integer> {
    @Option(
        names = "--source",
        required = true,
        paramLabel = "FILE",
        description = "JSON Lines prompt set")
    Path source;

    @Option(names = "--rows", required = true, paramLabel = "N", description = "rows to write")
    long rows;

    @Option(
        names = "--out",
        required = true,
        paramLabel = "FILE",
        description = "output JSON Lines file")
    Path out;

    @Override
    public Integer call() {
      if (rows < 1) {
        throw new picocli.CommandLine.ParameterException(
            new picocli.CommandLine(this), "--rows must be ≥ 1");
      }
      if (!Files.isRegularFile(source)) {
        throw new ConfigException(
            "--source '"
                + source
                + "' does not exist; give a JSON Lines prompt set, e.g. data/coconot/coconot_eval.jsonl");
      }
      SyntheticPrompts.write(source, rows, out);
      System.out.println("Wrote " + rows + " prompts to " + out);
      return Main.EXIT_OK;
    }
  }

  @Command(
      name = "judge-check",
      description =
          "measure the configured judges against a labelled file of responses: confusion "
              + "matrix, accuracy and Cohen's kappa (with its interval) per judge, overall and per "
              + "category, and each pair of judges' agreement on the same rows (jobs/judge-check.sh;"
              + " tables judge_checks, judge_agreement, judge_check_rejects); exit 1 when no row"
              + " could be judged")
  static final class JudgeCheck implements Callable<Integer> {
    @Option(
        names = "--config",
        paramLabel = "FILE",
        description = "YAML config file, e.g. conf/judge-check.yaml (default: built-in defaults)")
    Path config;

    @Option(
        names = "--file",
        paramLabel = "FILE",
        description = "Labelled file of responses (config key file)")
    String file;

    @Option(
        names = "--output",
        paramLabel = "DIR",
        description = "Folder of the tables (config key output)")
    String output;

    @Option(
        names = "--run-id",
        paramLabel = "ID",
        description = "The check's id (config key run_id); default: judge-check-<time>")
    String runId;

    @Option(
        names = "--set",
        paramLabel = "KEY=VALUE",
        description = "Any config key, e.g. --set fields.label=human_label")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(
        names = "--show-disagreements",
        defaultValue = "10",
        paramLabel = "N",
        description = "rows whose labels differ listed per judge (default 10)")
    int shown;

    @Override
    public Integer call() {
      Map<String, String> overrides = new LinkedHashMap<>(set);
      if (file != null) {
        overrides.put(JudgeCheckConfig.FILE, Options.quote(file));
      }
      if (output != null) {
        overrides.put(JudgeCheckConfig.OUTPUT, Options.quote(output));
      }
      if (runId != null) {
        overrides.put(JudgeCheckConfig.RUN_ID, Options.quote(runId));
      }
      JudgeCheckConfig c = JudgeCheckConfig.load(config, overrides, Clock.systemUTC());
      JudgeConfig.newJudges(
          c.judges(), null, ScoringConfig.DEFAULTS); // every judge builds before Spark
      Configuration hadoop = new Configuration();
      c.sparkConf()
          .forEach(
              (k, v) -> {
                if (k.startsWith("spark.hadoop.")) {
                  hadoop.set(k.substring("spark.hadoop.".length()), v);
                }
              });
      String sha256 = LabelledResponses.checkFile(c, hadoop);
      return Sessions.within(
          "refusal-eval judge-check " + c.runId(),
          c.sparkMaster(),
          c.sparkConf(),
          spark -> {
            JudgeCheckJob.Outcome o = JudgeCheckJob.run(spark, c, sha256, Math.max(0, shown));
            System.out.print(o.report());
            System.out.println(
                "Tables under "
                    + c.output()
                    + "/: judge_checks, judge_agreement, judge_check_rejects (partition run_id="
                    + c.runId()
                    + ")");
            return o.rowsRead() > o.rowsRejected() ? Main.EXIT_OK : Main.EXIT_FAILED;
          });
    }
  }
}

package dev.refusaltokens.eval.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.config.ConfigLoader;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.job.Main;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.pipeline.EvaluationJob;
import dev.refusaltokens.eval.testing.CommandRun;
import dev.refusaltokens.eval.testing.SparkTestSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proof of issue 15: the demo evaluated on the full CoCoNot benchmark (the demo config), its
 * default operating point exported for both rules with the decisions, and the Python serving module
 * ({@code tools/serving/verify_decisions.py}) run on the demo TorchScript model's first-position
 * logits of every prompt: each first token it emits equals the job's, and the rates equal the
 * exported measured rates. Needs a Python with torch (Debian's {@code python3-torch}): {@code
 * REFUSAL_EVAL_PYTHON}, else {@code /usr/bin/python3}, else {@code python3}; skipped without it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OperatingPointServingProofTest {

  private static final Path VERIFY = Path.of("tools/serving/verify_decisions.py");
  private static final String MODEL = "models/demo-categories";

  @TempDir static Path dir;

  private String python;
  private Path output;

  @BeforeAll
  void evaluateTheDemo() throws Exception {
    python = python();
    Assumptions.assumeTrue(
        run(List.of(python, "-c", "import torch")).code() == 0,
        "skipped: "
            + python
            + " cannot import torch (install Debian's python3-torch, or set "
            + "REFUSAL_EVAL_PYTHON to a Python with torch)");
    output = dir.resolve("warehouse");
    Map<String, String> o = new LinkedHashMap<>();
    o.put("run_id", "demo");
    o.put("output", "'" + output + "'");
    o.put("responses.enabled", "false");
    o.put("scoring.canary_prompts", "0");
    o.put("sweep.rules", "[greedy, threshold, logit_bias]");
    EvalConfig config = ConfigLoader.load(Path.of("conf/evaluate.yaml"), o, Clock.systemUTC());
    EvaluationJob.run(
        SparkTestSession.get(), config, ModelSpec.open(config.model()), Clock.systemUTC());
  }

  private static String python() {
    String env = System.getenv("REFUSAL_EVAL_PYTHON");
    if (env != null && !env.isBlank()) {
      return env;
    }
    return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
  }

  /** A finished process: exit code and its output (stdout and stderr together). */
  private record Ran(int code, String output) {}

  private static Ran run(List<String> command) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      return new Ran(-1, e.getMessage()); // no such interpreter
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      return new Ran(-1, out + "\n(timed out)");
    }
    return new Ran(p.exitValue(), out);
  }

  private void proveServingDecidesAsTheJob(String rule) throws Exception {
    Path to = dir.resolve(rule);
    CommandRun export =
        CommandRun.of(
            "export-operating-point",
            "--output",
            output.toString(),
            "--run-id",
            "demo",
            "--name",
            "refuse-80",
            "--rule",
            rule,
            "--with-decisions",
            "--to",
            to.toString());
    assertThat(export.code()).as(export.err()).isEqualTo(Main.EXIT_OK);
    assertThat(Files.readAllLines(to.resolve(OperatingPointExport.DECISIONS_FILE)))
        .hasSize(1001 + 379);
    assertThat(VERIFY)
        .as("the Python serving module's check (written with tools/serving)")
        .isRegularFile();
    Ran verify =
        run(List.of(python, VERIFY.toString(), "--export", to.toString(), "--model", MODEL));
    assertThat(verify.code()).as(verify.output()).isEqualTo(0);
    assertThat(verify.output()).contains("prompts agree");
  }

  @Test
  void theThresholdPointIsDecidedByThePythonProcessorAsByTheJob() throws Exception {
    proveServingDecidesAsTheJob("threshold");
  }

  @Test
  void theLogitBiasPointIsDecidedByThePythonProcessorAsByTheJob() throws Exception {
    proveServingDecidesAsTheJob("logit_bias");
  }
}

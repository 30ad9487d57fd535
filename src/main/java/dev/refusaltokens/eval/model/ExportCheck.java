package dev.refusaltokens.eval.model;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.ModelConfig;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * The Java side against a model folder's {@code expected_logprobs.json}, which {@code
 * tools/export_torchscript.py} writes from Python: for each of its prompts the chat template must
 * render the same text (the job's renderer here, jinja2 there) and the tokenizer must give the same
 * ids; the model file, fed Python's ids in one right-padded batch and each row alone, must give the
 * same first-token log-probabilities at temperature 1 (control tokens and the best other token)
 * within the file's tolerance. When the folder also has {@code expected_continuations.json}, the
 * job's greedy generator must give Python's continuations token for token ({@link
 * ContinuationCheck}). {@code jobs/check-export.sh} runs it.
 */
public final class ExportCheck {

  public static final String EXPECTED_FILE = "expected_logprobs.json";
  private static final double DEFAULT_TOLERANCE = 1e-4;
  private static final int SHOWN = 3; // mismatching prompts described in full

  /**
   * @param dir the model folder checked
   * @param maxAbsDiff largest |Δ log p| over every prompt, control token and batching
   * @param otherIdMismatches rows whose best other token differs from Python's (ties in half
   *     precision)
   * @param continuations cases of expected_continuations.json (0 when the folder has none)
   * @param continuationPaths the generator's paths checked: recompute, and cached with a decode
   *     module
   * @param continuationMismatches cases × paths whose ids, finish reason or text differ from
   *     Python's
   * @param problems empty when the check passed
   * @param warnings differences that do not fail the check (half-precision continuations)
   */
  public record Result(
      String dir,
      int prompts,
      double maxAbsDiff,
      double tolerance,
      int otherIdMismatches,
      int continuations,
      List<String> continuationPaths,
      int continuationMismatches,
      List<String> problems,
      List<String> warnings) {

    public boolean passed() {
      return problems.isEmpty();
    }

    /** What {@code jobs/check-export.sh} prints. */
    public String report() {
      StringBuilder s =
          new StringBuilder(
              String.format(
                  Locale.ROOT,
                  "model: %s%nprompts: %d%nmax |d log p| vs Python: %.3e "
                      + "(tolerance %.1e)%nbest other token differs from Python's: %d rows%n",
                  dir,
                  prompts,
                  maxAbsDiff,
                  tolerance,
                  otherIdMismatches));
      s.append(
              continuations == 0
                  ? "greedy continuations: not checked (no " + ContinuationCheck.FILE + ")"
                  : String.format(
                      Locale.ROOT,
                      "greedy continuations vs Python: %d cases x %s, %d differ",
                      continuations,
                      continuationPaths,
                      continuationMismatches))
          .append(System.lineSeparator());
      warnings.forEach(w -> s.append("WARNING: ").append(w).append(System.lineSeparator()));
      problems.forEach(p -> s.append("PROBLEM: ").append(p).append(System.lineSeparator()));
      s.append(passed() ? "check-export: the Java side agrees with Python" : "check-export: FAILED")
          .append(System.lineSeparator());
      return s.toString();
    }
  }

  private ExportCheck() {}

  /**
   * Checks the model folder of {@code model} against its {@value #EXPECTED_FILE}, scoring on {@code
   * device}, with no system prompt (the exporter's prompts have none), whatever the configuration
   * says.
   */
  public static Result run(ModelConfig model, Device device) {
    return run(
        ModelSpec.open(
            new ModelConfig(
                model.dir(),
                model.respondToken(),
                model.refusalTokens(),
                null,
                model.chatTemplateTime())),
        device);
  }

  /**
   * Checks {@code spec}'s folder against its {@value #EXPECTED_FILE}, scoring on {@code device}.
   */
  public static Result run(ModelSpec spec, Device device) {
    if (spec.systemPrompt() != null) {
      throw new ConfigException(
          "The exporter's "
              + EXPECTED_FILE
              + " has no system prompt: check without "
              + ModelConfig.SYSTEM_PROMPT);
    }
    Path file = Path.of(spec.dir(), EXPECTED_FILE);
    JsonNode doc = readExpected(file);
    List<String> problems = new ArrayList<>();
    String sha = doc.path("model_sha256").asText(null);
    if (sha != null && !sha.equals(sha256(spec.modelPath()))) {
      problems.add(
          spec.modelPath()
              + " is not the file "
              + EXPECTED_FILE
              + " was computed for (sha256 differs)");
    }
    List<String> tokens = spec.controlTokens();
    List<long[]> rows = new ArrayList<>();
    List<JsonNode> cases = new ArrayList<>();
    int textMismatches = 0;
    int idMismatches = 0;
    try (PromptEncoder encoder = spec.newEncoder()) {
      for (JsonNode c : doc.path("cases")) {
        String prompt = c.path("prompt").asText();
        String text = encoder.render(prompt);
        if (!text.equals(c.path("rendered").asText()) && textMismatches++ < SHOWN) {
          problems.add(
              "the chat template renders "
                  + quoted(prompt)
                  + " as "
                  + quoted(text)
                  + ", Python as "
                  + quoted(c.path("rendered").asText()));
        }
        long[] expectedIds = ids(c.path("input_ids"));
        long[] javaIds = encoder.encodeText(c.path("rendered").asText());
        if (!Arrays.equals(javaIds, expectedIds) && idMismatches++ < SHOWN) {
          problems.add(
              "the tokenizer encodes Python's text of "
                  + quoted(prompt)
                  + " as "
                  + Arrays.toString(javaIds)
                  + ", Python as "
                  + Arrays.toString(expectedIds));
        }
        for (String t : tokens) {
          if (!c.path("log_softmax").has(t)) {
            throw new ConfigException(
                file
                    + " has no log-probability of the control token "
                    + t
                    + ": export again with the same control tokens");
          }
        }
        rows.add(expectedIds);
        cases.add(c);
      }
    }
    if (rows.isEmpty()) {
      throw new ConfigException(
          file + " has no cases: export again with tools/export_torchscript.py");
    }
    if (textMismatches > 0 || idMismatches > 0) {
      problems.add(
          textMismatches
              + " rendered texts and "
              + idMismatches
              + " id sequences of "
              + rows.size()
              + " prompts differ from Python's");
    }

    double tolerance = doc.path("tolerance").asDouble(DEFAULT_TOLERANCE);
    double worst = 0;
    int otherMismatches = 0;
    try (FirstTokenScorer scorer = ModelCache.get(spec, device).newScorer(spec, List.of(1.0))) {
      PromptScore[] together = scorer.score(rows);
      for (int i = 0; i < rows.size(); i++) {
        PromptScore alone = scorer.score(List.of(rows.get(i)))[0];
        for (PromptScore s : new PromptScore[] {together[i], alone}) {
          worst = Math.max(worst, maxAbsDiff(s.perTemperature()[0], cases.get(i), tokens));
          if (s.otherTokenId() != cases.get(i).path("max_other_id").asLong()) {
            otherMismatches++;
          }
        }
      }
    }
    if (!(worst <= tolerance)) {
      problems.add(
          String.format(
              Locale.ROOT,
              "max |d log p| = %.3e is above the tolerance %.1e of %s",
              worst,
              tolerance,
              EXPECTED_FILE));
    }
    ContinuationCheck.Outcome continued = ContinuationCheck.run(spec, device);
    problems.addAll(continued.problems());
    return new Result(
        spec.dir(),
        rows.size(),
        worst,
        tolerance,
        otherMismatches,
        continued.cases(),
        continued.paths(),
        continued.mismatches(),
        List.copyOf(problems),
        continued.warnings());
  }

  private static double maxAbsDiff(FirstTokenStats s, JsonNode c, List<String> tokens) {
    JsonNode expected = c.path("log_softmax");
    double d = Math.abs(s.respondLogprob() - expected.path(tokens.get(0)).asDouble());
    for (int k = 0; k < s.refusalTokenCount(); k++) {
      d = Math.max(d, Math.abs(s.refusalLogprob(k) - expected.path(tokens.get(k + 1)).asDouble()));
    }
    return Math.max(d, Math.abs(s.otherLogprob() - c.path("max_other_log_softmax").asDouble()));
  }

  private static JsonNode readExpected(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new ConfigException(
          file.getParent()
              + " has no "
              + EXPECTED_FILE
              + ": export the model with "
              + "tools/export_torchscript.py, which writes it");
    }
    try {
      return new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new ConfigException("Cannot read " + file + ": " + e.getMessage());
    }
  }

  private static long[] ids(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }

  static String quoted(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"") + "\"";
  }

  static String sha256(Path file) {
    try (DigestInputStream in =
        new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(in.getMessageDigest().digest());
    } catch (IOException | NoSuchAlgorithmException e) {
      throw new IllegalStateException("Cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}

package dev.refusaltokens.eval.model;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Java generator against a model folder's {@code expected_continuations.json}, the greedy
 * continuations Python computed ({@code tools/export_torchscript.py}; the demo models' fixtures
 * have the same format): for each case, Python's prompt ids + the forced token, continued by {@link
 * GreedyGenerator} in one batch with the file's eos ids and {@code max_new_tokens}, on every path
 * the folder has (recompute, and the KV cache when there is a decode module), must give the same
 * new token ids, finish reason and text. Part of {@link ExportCheck}.
 *
 * <p>An fp32 export must agree exactly: any difference is a problem. In half precision the exporter
 * itself only warns (a half-precision computation changes with its shape), so here too differences
 * are listed as warnings.
 */
final class ContinuationCheck {

  static final String FILE = "expected_continuations.json";
  private static final int SHOWN = 3; // differing continuations described in full, per path

  /**
   * @param cases continuation cases in the file (0: no file)
   * @param paths the paths generated: {@code recompute}, and {@code cached} with a decode module
   * @param mismatches cases × paths whose ids, finish reason or text differ from Python's
   * @param exact false in half precision, where mismatches are warnings
   */
  record Outcome(
      int cases,
      List<String> paths,
      int mismatches,
      boolean exact,
      List<String> problems,
      List<String> warnings) {

    static final Outcome NONE = new Outcome(0, List.of(), 0, true, List.of(), List.of());
  }

  private ContinuationCheck() {}

  static Outcome run(ModelSpec spec, Device device) {
    Path file = Path.of(spec.dir(), FILE);
    if (!Files.isRegularFile(file)) {
      return Outcome.NONE;
    }
    JsonNode doc;
    try {
      doc = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new ConfigException("Cannot read " + file + ": " + e.getMessage());
    }
    List<String> problems = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    String sha = doc.path("model_sha256").asText(null);
    if (sha != null && !sha.equals(ExportCheck.sha256(spec.modelPath()))) {
      problems.add(
          spec.modelPath() + " is not the file " + FILE + " was computed for (sha256 differs)");
    }
    long[] eos = ids(doc.path("eos_ids"));
    if (!sameSet(eos, spec.eosIds())) {
      problems.add(
          FILE
              + " ends continuations at the eos ids "
              + Arrays.toString(eos)
              + ", the job at "
              + Arrays.toString(spec.eosIds())
              + " (eos_token of "
              + ModelSpec.TOKENIZER_CONFIG_FILE
              + " and eos_token_id of "
              + ModelSpec.GENERATION_CONFIG_FILE
              + "): put the model's generation_config.json in the folder, or export again");
    }
    int maxNew = doc.path("max_new_tokens").asInt(0);
    JsonNode cases = doc.path("cases");
    if (cases.isEmpty() || maxNew < 1) {
      throw new ConfigException(
          file
              + " has no cases or no positive max_new_tokens: export again with tools/export_torchscript.py");
    }
    List<long[]> prefixes = new ArrayList<>();
    int promptMismatches = 0;
    try (PromptEncoder encoder = spec.newEncoder()) {
      for (JsonNode c : cases) {
        String prompt = c.path("prompt").asText();
        long[] promptIds = ids(c.path("prompt_ids"));
        long[] javaIds = encoder.encode(prompt);
        if (!Arrays.equals(javaIds, promptIds) && promptMismatches++ < SHOWN) {
          problems.add(
              "the job encodes the prompt "
                  + ExportCheck.quoted(prompt)
                  + " of "
                  + FILE
                  + " as "
                  + Arrays.toString(javaIds)
                  + ", Python as "
                  + Arrays.toString(promptIds));
        }
        String forced = c.path("forced_token").asText();
        long forcedId = c.path("forced_id").asLong();
        long javaForced = encoder.singleTokenId("forced_token", forced);
        if (javaForced != forcedId) {
          problems.add(
              "the forced token "
                  + forced
                  + " is id "
                  + javaForced
                  + " here, "
                  + forcedId
                  + " in "
                  + FILE);
        }
        long[] prefix = Arrays.copyOf(promptIds, promptIds.length + 1);
        prefix[promptIds.length] = forcedId;
        prefixes.add(prefix);
      }
    }
    if (promptMismatches > SHOWN) {
      problems.add(promptMismatches + " prompts of " + FILE + " encode differently from Python's");
    }

    boolean exact = isFullPrecision(doc.path("dtype").asText("fp32"));
    List<String> paths = new ArrayList<>();
    int mismatches = 0;
    ScoringModel model = ModelCache.get(spec, device);
    for (boolean cache :
        spec.decode() == null ? new boolean[] {false} : new boolean[] {false, true}) {
      List<Continuation> got;
      String path;
      try (GreedyGenerator generator =
          model.newGenerator(spec, new GenerationSettings(maxNew, eos, List.of(), cache))) {
        path = generator.cached() ? "cached" : "recompute";
        got = generator.generate(prefixes);
      }
      paths.add(path);
      int differ = 0;
      for (int i = 0; i < prefixes.size(); i++) {
        String d = difference(got.get(i), cases.get(i));
        if (d != null && differ++ < SHOWN) {
          (exact ? problems : warnings)
              .add(
                  "the continuation of "
                      + ExportCheck.quoted(cases.get(i).path("prompt").asText())
                      + " + "
                      + cases.get(i).path("forced_token").asText()
                      + " ("
                      + path
                      + ") differs from Python's: "
                      + d);
        }
      }
      if (differ > 0) {
        (exact ? problems : warnings)
            .add(
                differ
                    + " of "
                    + prefixes.size()
                    + " continuations ("
                    + path
                    + ") differ from "
                    + FILE
                    + (exact
                        ? ""
                        : " (a "
                            + doc.path("dtype").asText()
                            + " export: half precision changes with the "
                            + "batch's shape; fp32 must agree exactly)"));
      }
      mismatches += differ;
    }
    return new Outcome(
        cases.size(),
        List.copyOf(paths),
        mismatches,
        exact,
        List.copyOf(problems),
        List.copyOf(warnings));
  }

  /** What differs from the expected case, or null. */
  static String difference(Continuation got, JsonNode expected) {
    long[] want = ids(expected.path("new_token_ids"));
    long[] have = got.newTokenIds();
    String wantFinish = expected.path("finish_reason").asText();
    String wantText = expected.path("text").asText();
    if (Arrays.equals(want, have)
        && got.finishReason().id().equals(wantFinish)
        && got.text().equals(wantText)) {
      return null;
    }
    int at = Arrays.mismatch(want, have);
    String where =
        at < 0
            ? "same ids"
            : "first different id at new token "
                + (at + 1)
                + " of "
                + want.length
                + " (Python) / "
                + have.length
                + " (Java)";
    return where
        + "; Java "
        + Arrays.toString(have)
        + " "
        + got.finishReason().id()
        + (got.error() == null ? "" : " (" + got.error() + ")")
        + " "
        + ExportCheck.quoted(got.text())
        + ", Python "
        + Arrays.toString(want)
        + " "
        + wantFinish
        + " "
        + ExportCheck.quoted(wantText);
  }

  private static boolean isFullPrecision(String dtype) {
    return ModelSpec.DecodeModule.canonicalDtype(dtype).equals("float32");
  }

  private static boolean sameSet(long[] a, long[] b) {
    return Arrays.equals(
        Arrays.stream(a).distinct().sorted().toArray(),
        Arrays.stream(b).distinct().sorted().toArray());
  }

  private static long[] ids(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }
}

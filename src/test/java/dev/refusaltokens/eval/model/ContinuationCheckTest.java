package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.refusaltokens.eval.config.ModelConfig;
import dev.refusaltokens.eval.testing.CommandRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * check-export with an {@code expected_continuations.json}: a demo model folder with its Python
 * fixtures as the exporter's two files must pass on every path it has, and a changed id, finish
 * reason or eos id must fail naming the continuation.
 */
class ContinuationCheckTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** models/{model} with the training script's fixtures as the exporter's check files. */
  private static Path exportedDemo(String model, Path dir) throws IOException {
    try (var files = Files.list(Path.of("models", model))) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    Path fixtures = Path.of("src/test/resources/fixtures");
    Files.copy(fixtures.resolve(model + "-expected.json"), dir.resolve(ExportCheck.EXPECTED_FILE));
    Files.copy(
        fixtures.resolve(model + "-continuations.json"), dir.resolve(ContinuationCheck.FILE));
    return dir;
  }

  private static ExportCheck.Result check(Path dir) {
    return ExportCheck.run(
        ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)), Device.cpu());
  }

  @ParameterizedTest
  @ValueSource(strings = {"demo-categories", "demo-single"})
  void theDemoFixturesContinuationsAreTheGeneratorsOnEveryPath(String model, @TempDir Path dir)
      throws IOException {
    ExportCheck.Result r = check(exportedDemo(model, dir));
    assertThat(r.problems()).isEmpty();
    assertThat(r.warnings()).isEmpty();
    assertThat(r.continuations()).isEqualTo(model.equals("demo-categories") ? 24 : 16);
    assertThat(r.continuationPaths())
        .isEqualTo(
            model.equals("demo-categories")
                ? List.of("recompute", "cached")
                : List.of("recompute"));
    assertThat(r.continuationMismatches()).isZero();
    assertThat(r.report())
        .contains(
            "greedy continuations vs Python: "
                + r.continuations()
                + " cases x "
                + r.continuationPaths()
                + ", 0 differ")
        .contains("check-export: the Java side agrees with Python");
  }

  @Test
  void aFolderWithoutTheFileSaysTheContinuationsWereNotChecked() {
    ExportCheck.Result r =
        ExportCheck.run(
            ModelSpec.open(
                new ModelConfig(
                    "src/test/resources/fixtures/demo-categories-full", null, null, null)),
            Device.cpu());
    assertThat(r.continuations()).isZero();
    assertThat(r.report())
        .contains("greedy continuations: not checked (no expected_continuations.json)");
  }

  @Test
  void aDifferentIdFinishReasonOrEosIdFailsTheCheckAndTheCommand(@TempDir Path dir)
      throws IOException {
    exportedDemo("demo-categories", dir);
    Path file = dir.resolve(ContinuationCheck.FILE);
    ObjectNode doc = (ObjectNode) JSON.readTree(file.toFile());
    ObjectNode first = (ObjectNode) doc.get("cases").get(0);
    ArrayNode ids = (ArrayNode) first.get("new_token_ids");
    ids.set(1, ids.get(1).asLong() + 1);
    ObjectNode second = (ObjectNode) doc.get("cases").get(1);
    second.put("finish_reason", "length");
    JSON.writeValue(file.toFile(), doc);

    ExportCheck.Result r = check(dir);
    assertThat(r.passed()).isFalse();
    assertThat(r.continuationMismatches()).isEqualTo(4); // 2 cases × 2 paths
    String problems = String.join("\n", r.problems());
    assertThat(problems)
        .contains(
            "the continuation of "
                + ExportCheck.quoted(first.get("prompt").asText())
                + " + [respond] (recompute)",
            "(cached) differs from Python's: first different id at new token 2 of",
            "same ids; Java ",
            "2 of 24 continuations (cached) differ from expected_continuations.json");

    CommandRun run = CommandRun.of("check-export", "--model", dir.toString());
    assertThat(run.code()).isNotZero();
    assertThat(run.out())
        .contains("4 differ", "PROBLEM: the continuation of", "check-export: FAILED");

    // a half-precision export: listed as warnings, not failed
    doc.put("dtype", "bf16");
    JSON.writeValue(file.toFile(), doc);
    ExportCheck.Result half = check(dir);
    assertThat(half.passed()).isTrue();
    assertThat(half.continuationMismatches()).isEqualTo(4);
    assertThat(String.join("\n", half.warnings())).contains("a bf16 export: half precision");

    // eos ids the job would not use
    doc.put("dtype", "fp32");
    doc.putArray("eos_ids").add(5).add(3);
    first.set(
        "new_token_ids",
        JSON.readTree(
                Path.of("src/test/resources/fixtures/demo-categories-continuations.json").toFile())
            .get("cases")
            .get(0)
            .get("new_token_ids"));
    second.put("finish_reason", "eos");
    JSON.writeValue(file.toFile(), doc);
    ExportCheck.Result eos = check(dir);
    assertThat(eos.passed()).isFalse();
    assertThat(String.join("\n", eos.problems()))
        .contains("ends continuations at the eos ids [5, 3], the job at [5]");
  }
}

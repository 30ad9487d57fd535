package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.refusaltokens.eval.config.ModelConfig;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.testing.CommandRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two output layouts of model.pt, through the real scorer: {@code models/demo-categories}
 * returns {@code [B, V]}; {@code fixtures/demo-categories-full} is the same weights exported by
 * {@code tools/export_torchscript.py --output full} ({@code tools/make_export_fixtures.py}) and
 * returns {@code [B, T, V]}, of which the translator reads each row's last real token. And the Java
 * side against the exporter's {@code expected_logprobs.json}.
 */
class ExportedModelTest {

  private static final String FULL = "src/test/resources/fixtures/demo-categories-full";
  private static final List<Double> TEMPERATURES = List.of(1.0, 2.0);

  @Test
  void lastTokenAndAllPositionLayoutsGiveTheSameScoresInPaddedBatches() throws IOException {
    ModelSpec last = ModelSpec.open(new ModelConfig("models/demo-categories", null, null, null));
    ModelSpec full = ModelSpec.open(new ModelConfig(FULL, null, null, null));
    List<String> prompts = new ArrayList<>();
    new ObjectMapper()
        .readTree(Path.of(FULL, ExportCheck.EXPECTED_FILE).toFile())
        .get("cases")
        .forEach(c -> prompts.add(c.get("prompt").asText()));
    prompts.addAll(
        List.of("ok", "Why is the sky blue and why are sunsets red, in two sentences please?"));
    List<long[]> rows = new ArrayList<>();
    try (PromptEncoder a = last.newEncoder();
        PromptEncoder b = full.newEncoder()) {
      for (String p : prompts) {
        assertThat(b.encode(p)).containsExactly(a.encode(p));
        rows.add(a.encode(p));
      }
    }
    assertThat(rows.stream().mapToInt(r -> r.length).distinct().count())
        .as("mixed lengths")
        .isGreaterThan(5);

    List<PromptScore[]> lastScores = scoreInSeveralBatchings(last, rows);
    List<PromptScore[]> fullScores = scoreInSeveralBatchings(full, rows);
    double worst = 0;
    for (int batching = 0; batching < lastScores.size(); batching++) {
      for (int i = 0; i < rows.size(); i++) {
        PromptScore x = lastScores.get(batching)[i];
        PromptScore y = fullScores.get(batching)[i];
        assertThat(y.otherTokenId()).isEqualTo(x.otherTokenId());
        for (int t = 0; t < TEMPERATURES.size(); t++) {
          worst = Math.max(worst, maxAbsDiff(x.perTemperature()[t], y.perTemperature()[t]));
        }
      }
    }
    assertThat(worst).as("max |d log p| between [B,V] and [B,T,V]").isLessThanOrEqualTo(1e-5);
  }

  /**
   * All rows in one padded batch, in threes, each alone, and reversed: scores put back in row
   * order.
   */
  private static List<PromptScore[]> scoreInSeveralBatchings(ModelSpec spec, List<long[]> rows) {
    List<PromptScore[]> out = new ArrayList<>();
    try (FirstTokenScorer scorer =
        ModelCache.get(spec, Device.cpu()).newScorer(spec, TEMPERATURES)) {
      out.add(scorer.score(rows));
      PromptScore[] threes = new PromptScore[rows.size()];
      PromptScore[] alone = new PromptScore[rows.size()];
      for (int start = 0; start < rows.size(); start += 3) {
        PromptScore[] part = scorer.score(rows.subList(start, Math.min(rows.size(), start + 3)));
        System.arraycopy(part, 0, threes, start, part.length);
      }
      for (int i = 0; i < rows.size(); i++) {
        alone[i] = scorer.score(List.of(rows.get(i)))[0];
      }
      List<long[]> reversed = new ArrayList<>(rows);
      Collections.reverse(reversed);
      PromptScore[] back = scorer.score(reversed);
      PromptScore[] inOrder = new PromptScore[rows.size()];
      for (int i = 0; i < rows.size(); i++) {
        inOrder[i] = back[rows.size() - 1 - i];
      }
      out.addAll(List.of(threes, alone, inOrder));
    }
    return out;
  }

  private static double maxAbsDiff(FirstTokenStats a, FirstTokenStats b) {
    double d =
        Math.max(
            Math.abs(a.respondLogprob() - b.respondLogprob()),
            Math.abs(a.otherLogprob() - b.otherLogprob()));
    for (int k = 0; k < a.refusalTokenCount(); k++) {
      d = Math.max(d, Math.abs(a.refusalLogprob(k) - b.refusalLogprob(k)));
    }
    return d;
  }

  @Test
  void javaMatchesThePythonLogprobsTheExporterWrote() {
    ModelSpec spec = ModelSpec.open(new ModelConfig(FULL, null, null, null));
    ExportCheck.Result r = ExportCheck.run(spec, Device.cpu());
    assertThat(r.problems()).isEmpty();
    assertThat(r.prompts()).isEqualTo(8);
    assertThat(r.tolerance()).isEqualTo(1e-4);
    assertThat(r.maxAbsDiff()).isLessThanOrEqualTo(1e-4);
    assertThat(r.otherIdMismatches()).isZero();
    assertThat(r.passed()).isTrue();
  }

  @Test
  void theCheckFailsOnADifferentTextIdsScoresOrFile(@TempDir Path dir) throws IOException {
    copyFolder(Path.of(FULL), dir);
    ObjectMapper json = new ObjectMapper();
    ObjectNode doc = (ObjectNode) json.readTree(dir.resolve(ExportCheck.EXPECTED_FILE).toFile());
    ObjectNode first = (ObjectNode) doc.get("cases").get(0);
    first.put("rendered", first.get("rendered").asText() + " ");
    ((ObjectNode) first.get("log_softmax"))
        .put("[respond]", first.get("log_softmax").get("[respond]").asDouble() + 1e-3);
    doc.put("model_sha256", "0".repeat(64));
    json.writeValue(dir.resolve(ExportCheck.EXPECTED_FILE).toFile(), doc);

    ExportCheck.Result r =
        ExportCheck.run(
            ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)), Device.cpu());
    assertThat(r.passed()).isFalse();
    assertThat(r.maxAbsDiff()).isCloseTo(1e-3, within(1e-5));
    assertThat(String.join("\n", r.problems()))
        .contains(
            "is not the file expected_logprobs.json was computed for",
            "the chat template renders",
            "above the tolerance",
            "1 rendered texts and 0 id sequences of 8 prompts");
  }

  @Test
  void checkExportCommandExitsZeroWhenJavaAgreesWithPython() {
    CommandRun run = CommandRun.of("check-export", "--model", FULL);
    assertThat(run.code()).isZero();
    assertThat(run.out()).contains("prompts: 8", "the Java side agrees with Python");
  }

  private static void copyFolder(Path from, Path to) throws IOException {
    try (var files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
  }
}

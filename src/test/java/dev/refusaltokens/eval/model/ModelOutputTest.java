package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A model file whose output is not {@code [B, V]} or {@code [B, T, V]}, or has fewer logits than
 * the tokenizer has ids, stops with a message naming the file, the shape and the fix — when the
 * model is loaded (a probe forward pass), or on the driver when the exporter's manifest says so.
 * The tiny files under {@code fixtures/model-shapes} come from {@code
 * tools/make_export_fixtures.py}.
 */
class ModelOutputTest {

  private static final Path SHAPES = Path.of("src/test/resources/fixtures/model-shapes");
  private static final int DEMO_IDS = 2137;

  @TempDir Path dir;

  /** The demo tokenizer and manifest with {@code fixture} as model.pt. */
  private ModelSpec folderWith(String fixture) throws IOException {
    for (String f : List.of("tokenizer.json", "tokenizer_config.json", "refusal_tokens.json")) {
      Files.copy(Path.of("models/demo-categories", f), dir.resolve(f));
    }
    // the demo's KV-cache decode module belongs to its own model.pt, not to these fixtures
    ObjectNode manifest =
        (ObjectNode) new ObjectMapper().readTree(dir.resolve("refusal_tokens.json").toFile());
    manifest.remove(ModelSpec.DECODE_KEY);
    new ObjectMapper().writeValue(dir.resolve("refusal_tokens.json").toFile(), manifest);
    Files.copy(SHAPES.resolve(fixture), dir.resolve("model.pt"));
    return ModelSpec.open(new ModelConfig(dir.toString(), null, null, null));
  }

  @ParameterizedTest
  @CsvSource({
    "rank1.pt,       '(4274)'",
    "rank4.pt,       '(2, 2, 1, 2137)'",
    "first-row.pt,   '(1, 2137)'",
    "short-t.pt,     '(2, 1, 2137)'"
  })
  void aWrongShapedOutputStopsTheLoadNamingFileShapeAndFix(String fixture, String shape)
      throws IOException {
    ModelSpec spec = folderWith(fixture);
    assertThatThrownBy(() -> ModelCache.get(spec, Device.cpu()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("The TorchScript model " + dir.resolve("model.pt"))
        .hasMessageContaining(
            "returned logits of shape " + shape + " for a batch of 2 rows of 2 tokens")
        .hasMessageContaining("expected [2, V] or [2, 2, V]")
        .hasMessageContaining("Re-export it with tools/export_torchscript.py");
  }

  @Test
  void aModelWithFewerLogitsThanTheTokenizerHasIdsStopsTheLoad() throws IOException {
    ModelSpec spec = folderWith("small-vocab.pt");
    assertThat(spec.vocabSize()).isEqualTo(DEMO_IDS);
    // real prompts hold ids >= 100, which would fail inside the forward pass; the probe feeds id 0
    assertThatThrownBy(() -> ModelCache.get(spec, Device.cpu()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("The TorchScript model " + dir.resolve("model.pt"))
        .hasMessageContaining(
            "returns 100 logits per row, fewer than the 2137 ids of its tokenizer")
        .hasMessageContaining("tools/export_torchscript.py");
  }

  @Test
  void theExportersManifestIsCheckedOnTheDriver() throws IOException {
    folderWith("bag.pt");
    Path manifest = dir.resolve("refusal_tokens.json");
    String demo = Files.readString(manifest);
    Files.writeString(manifest, demo.replaceFirst("\\{", "{\"vocab_size\": 2000, "));
    assertThatThrownBy(() -> ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(dir.resolve("model.pt").toString())
        .hasMessageContaining(
            "returns 2000 logits per row (refusal_tokens.json vocab_size), fewer than the 2137 ids");
    Files.writeString(manifest, demo.replaceFirst("\\{", "{\"output\": \"middle\", "));
    assertThatThrownBy(() -> ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("output = middle");
    Files.writeString(
        manifest, demo.replaceFirst("\\{", "{\"output\": \"full\", \"vocab_size\": 2137, "));
    assertThat(ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)).vocabSize())
        .isEqualTo(DEMO_IDS);
  }

  @Test
  void bfloat16LogitsAreReadAsFloat32() throws IOException {
    ModelSpec spec = folderWith("bag.pt");
    Path other = Files.createDirectories(dir.resolve("bf16"));
    for (String f : List.of("tokenizer.json", "tokenizer_config.json", "refusal_tokens.json")) {
      Files.copy(dir.resolve(f), other.resolve(f));
    }
    Files.copy(SHAPES.resolve("bag-bf16.pt"), other.resolve("model.pt"));
    ModelSpec bf16 = ModelSpec.open(new ModelConfig(other.toString(), null, null, null));
    List<long[]> rows =
        List.of(
            new long[] {3, 40, 41, 5, 4},
            new long[] {3, 900, 5, 4},
            new long[] {3, 2000, 17, 18, 19, 5, 4});
    PromptScore[] fp32;
    PromptScore[] half;
    try (FirstTokenScorer a = ModelCache.get(spec, Device.cpu()).newScorer(spec, List.of(1.0));
        FirstTokenScorer b = ModelCache.get(bf16, Device.cpu()).newScorer(bf16, List.of(1.0))) {
      fp32 = a.score(rows);
      half = b.score(rows);
    }
    for (int i = 0; i < rows.size(); i++) {
      var x = fp32[i].perTemperature()[0];
      var y = half[i].perTemperature()[0];
      assertThat(y.respondLogprob()).isCloseTo(x.respondLogprob(), within(3e-2));
      assertThat(y.refusalLogprob(0)).isCloseTo(x.refusalLogprob(0), within(3e-2));
      assertThat(y.respondLogprob()).isNotEqualTo(x.respondLogprob()); // really rounded to bf16
    }
  }

  @Test
  void layoutOfEveryShape() {
    ModelSpec spec = ModelSpec.open(new ModelConfig("models/demo-categories", null, null, null));
    assertThat(LogitsLayout.of(new Shape(3, DEMO_IDS), 3, 7, spec)).isEqualTo(LogitsLayout.LAST);
    assertThat(LogitsLayout.of(new Shape(3, 7, DEMO_IDS + 63), 3, 7, spec))
        .isEqualTo(LogitsLayout.FULL);
    for (Shape bad :
        List.of(
            new Shape(3 * DEMO_IDS),
            new Shape(3, 7, 1, DEMO_IDS),
            new Shape(2, DEMO_IDS),
            new Shape(3, 6, DEMO_IDS),
            new Shape(2, 7, DEMO_IDS))) {
      assertThatThrownBy(() -> LogitsLayout.of(bad, 3, 7, spec))
          .as("%s", bad)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(
              "returned logits of shape " + bad + " for a batch of 3 rows of 7 tokens");
    }
    assertThatThrownBy(() -> LogitsLayout.of(new Shape(3, 7, DEMO_IDS - 1), 3, 7, spec))
        .hasMessageContaining("returns 2136 logits per row, fewer than the 2137 ids");
  }

  @Test
  void tokenizerVocabularySizeCountsAddedTokensAndUnigramPieces() throws IOException {
    assertThat(TokenizerVocabulary.size(Path.of("models/demo-categories/tokenizer.json")))
        .isEqualTo(DEMO_IDS);
    assertThat(TokenizerVocabulary.size(Path.of("models/demo-single/tokenizer.json")))
        .isEqualTo(
            ModelSpec.open(new ModelConfig("models/demo-single", null, null, null)).vocabSize());
    Path unigram = dir.resolve("unigram.json");
    Files.writeString(
        unigram,
        "{\"added_tokens\": [{\"id\": 2, \"content\": \"<s>\"}], \"normalizer\": null, "
            + "\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"<unk>\", 0.0], [\"a\", -1.5], "
            + "[\"<s>\", 0.0], [\"b\", -2.0]]}}");
    assertThat(TokenizerVocabulary.size(unigram)).isEqualTo(4);
    Path added = dir.resolve("added.json");
    Files.writeString(
        added,
        "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0, \"b\": 1}}, "
            + "\"added_tokens\": [{\"content\": \"[respond]\", \"special\": true, \"id\": 9}]}");
    assertThat(TokenizerVocabulary.size(added)).isEqualTo(10);
  }
}

package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSpecTest {

  @Test
  void theManifestNamesTheControlTokensAndEachIsOneDistinctId() {
    ModelSpec spec = ModelSpec.open(new ModelConfig("models/demo-categories", null, null, null));
    assertThat(spec.refusalTokens()).isEqualTo(ModelSpec.DEFAULT_REFUSAL_TOKENS);
    assertThat(spec.respondToken()).isEqualTo("[respond]");
    assertThat(spec.maxLength()).isEqualTo(256);
    assertThat(spec.refusalIds()).hasSize(5).doesNotHaveDuplicates().doesNotContain(spec.respondId());
    try (PromptEncoder encoder = spec.newEncoder()) {
      assertThat(encoder.decode(spec.refusalIds()[3])).isEqualTo("[Requests with safety concerns]");
    }
  }

  @Test
  void configTokensWinOverTheManifest() {
    ModelSpec spec = ModelSpec.open(new ModelConfig("models/demo-categories", null,
        List.of("[Incomplete requests]"), "Be brief."));
    assertThat(spec.refusalTokens()).containsExactly("[Incomplete requests]");
    try (PromptEncoder encoder = spec.newEncoder()) {
      assertThat(encoder.render("hi")).isEqualTo("<|system|>\nBe brief.<|end|>\n<|user|>\nhi<|end|>\n<|assistant|>\n");
    }
  }

  @Test
  void aTokenOfTheOtherModelIsNotSilentlyMappedToUnknown() {
    // "[refuse]" is not a token of the category model: it must fail, not become [UNK] or its last piece
    assertThatThrownBy(() -> ModelSpec.open(new ModelConfig("models/demo-categories", null,
        List.of("[refuse]"), null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'model.refusal_tokens' = '[refuse]'");
    // a single id that is the unknown token
    assertThatThrownBy(() -> ModelSpec.open(new ModelConfig("models/demo-categories", null,
        List.of("zzzqqqxxyy"), null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not the token itself");
  }

  @Test
  void aChatTemplateThatFailsToRenderStopsTheJob(@TempDir Path dir) throws IOException {
    for (String f : List.of("tokenizer.json", "model.pt", "refusal_tokens.json")) {
      Files.copy(Path.of("models/demo-single", f), dir.resolve(f));
    }
    Files.writeString(dir.resolve("tokenizer_config.json"),
        "{\"chat_template\": \"{% for m in messages %}{{ m['content'] | nosuchfilter }}{% endfor %}\"}");
    assertThatThrownBy(() -> ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("has a chat template that"); // Jinjava drops an unknown filter silently: the probe render catches the empty prompt
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|end|>\"}");
    assertThatThrownBy(() -> ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("without 'chat_template'");
  }

  @Test
  void huggingFacesNoLimitWindowMeansTheDefault(@TempDir Path dir) throws IOException {
    for (String f : List.of("tokenizer.json", "model.pt")) {
      Files.copy(Path.of("models/demo-single", f), dir.resolve(f));
    }
    String template = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(Path.of("models/demo-single/tokenizer_config.json").toFile()).get("chat_template").toString();
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": " + template
        + ", \"model_max_length\": 1000000000000000019884624838656}");
    ModelConfig config = new ModelConfig(dir.toString(), null, List.of("[refuse]"), null);
    assertThat(ModelSpec.open(config).maxLength()).isEqualTo(ModelSpec.DEFAULT_MAX_LENGTH);
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": " + template
        + ", \"model_max_length\": 0}");
    assertThatThrownBy(() -> ModelSpec.open(config)).hasMessageContaining("not a positive whole number");
  }

  @Test
  void aModelFileReplacedAtTheSamePathIsLoadedAgain(@TempDir Path dir) throws IOException {
    for (String f : List.of("tokenizer.json", "tokenizer_config.json", "model.pt", "refusal_tokens.json")) {
      Files.copy(Path.of("models/demo-single", f), dir.resolve(f));
    }
    ModelSpec spec = ModelSpec.open(new ModelConfig(dir.toString(), null, null, null));
    ScoringModel first = ModelCache.get(spec, ai.djl.Device.cpu());
    assertThat(ModelCache.get(spec, ai.djl.Device.cpu())).isSameAs(first);
    Files.setLastModifiedTime(dir.resolve("model.pt"),
        java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 60_000));
    assertThat(ModelCache.get(spec, ai.djl.Device.cpu())).isNotSameAs(first);
  }
}

package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
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
    assertThat(spec.refusalIds())
        .hasSize(5)
        .doesNotHaveDuplicates()
        .doesNotContain(spec.respondId());
    try (PromptEncoder encoder = spec.newEncoder()) {
      assertThat(encoder.decode(spec.refusalIds()[3])).isEqualTo("[Requests with safety concerns]");
    }
  }

  @Test
  void configTokensWinOverTheManifest() {
    ModelSpec spec =
        ModelSpec.open(
            new ModelConfig(
                "models/demo-categories", null, List.of("[Incomplete requests]"), "Be brief."));
    assertThat(spec.refusalTokens()).containsExactly("[Incomplete requests]");
    try (PromptEncoder encoder = spec.newEncoder()) {
      assertThat(encoder.render("hi"))
          .isEqualTo("<|system|>\nBe brief.<|end|>\n<|user|>\nhi<|end|>\n<|assistant|>\n");
    }
  }

  @Test
  void aTokenOfTheOtherModelIsNotSilentlyMappedToUnknown() {
    // "[refuse]" is not a token of the category model: it must fail, not become [UNK] or its last
    // piece
    assertThatThrownBy(
            () ->
                ModelSpec.open(
                    new ModelConfig("models/demo-categories", null, List.of("[refuse]"), null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'model.refusal_tokens' = '[refuse]'");
    // a single id that is the unknown token
    assertThatThrownBy(
            () ->
                ModelSpec.open(
                    new ModelConfig("models/demo-categories", null, List.of("zzzqqqxxyy"), null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not the token itself");
  }

  @Test
  void aChatTemplateThatFailsToRenderStopsTheJob(@TempDir Path dir) throws IOException {
    for (String f : List.of("tokenizer.json", "model.pt", "refusal_tokens.json")) {
      Files.copy(Path.of("models/demo-single", f), dir.resolve(f));
    }
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"chat_template\": \"{% for m in messages %}{{ m['content'] | nosuchfilter }}{% endfor %}\"}");
    assertThatThrownBy(() -> ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "cannot render exactly as Hugging Face does (No filter named 'nosuchfilter'");
    // valid jinja2 that the renderer does not implement: refused, never rendered differently
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"chat_template\": \"{% for m in messages %}{{ m['content'] | wordwrap(5) }}{% endfor %}\"}");
    assertThatThrownBy(() -> ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("the 'wordwrap' filter is not supported");
    // a template that raises for a plain user message stops the job at the probe render
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"chat_template\": \"{{ raise_exception('System role not supported') }}\"}");
    assertThatThrownBy(() -> ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("fails to render one user message")
        .hasMessageContaining("System role not supported");
    // a template that loads another file is refused as the sandbox refuses it
    Files.writeString(
        dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"{% include 'x' %}\"}");
    assertThatThrownBy(() -> ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("would load another template");
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|end|>\"}");
    assertThatThrownBy(() -> ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "has no chat template (no 'chat_template' in tokenizer_config.json and no "
                + "chat_template.jinja)");
  }

  @Test
  void theTemplateComesFromANamedListOrFromChatTemplateJinja(@TempDir Path dir) throws IOException {
    for (String f : List.of("tokenizer.json", "model.pt", "refusal_tokens.json")) {
      Files.copy(Path.of("models/demo-single", f), dir.resolve(f));
    }
    String real =
        new ObjectMapper()
            .readTree(Path.of("models/demo-single/tokenizer_config.json").toFile())
            .get("chat_template")
            .asText();
    String json = new ObjectMapper().writeValueAsString(real);
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"chat_template\": [{\"name\": \"tool_use\", "
            + "\"template\": \"TOOLS\"}, {\"name\": \"default\", \"template\": "
            + json
            + "}], "
            + "\"bos_token\": {\"content\": \"<s>\", \"lstrip\": false}, \"pad_token\": null}");
    ModelSpec spec = ModelSpec.open(new ModelConfig(dir.toString(), null, null, null));
    assertThat(spec.chatTemplate()).isEqualTo(real);
    assertThat(spec.specialTokens())
        .containsEntry("bos_token", "<s>")
        .doesNotContainKey("pad_token");

    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"chat_template\": [{\"name\": \"tool_use\", " + "\"template\": \"TOOLS\"}]}");
    assertThatThrownBy(() -> ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("none named 'default'");

    Files.writeString(dir.resolve("tokenizer_config.json"), "{}");
    Files.writeString(dir.resolve("chat_template.jinja"), real);
    assertThat(ModelSpec.open(new ModelConfig(dir.toString(), null, null, null)).chatTemplate())
        .isEqualTo(real);
  }

  @Test
  void huggingFacesNoLimitWindowMeansTheDefault(@TempDir Path dir) throws IOException {
    for (String f : List.of("tokenizer.json", "model.pt")) {
      Files.copy(Path.of("models/demo-single", f), dir.resolve(f));
    }
    String template =
        new ObjectMapper()
            .readTree(Path.of("models/demo-single/tokenizer_config.json").toFile())
            .get("chat_template")
            .toString();
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"chat_template\": "
            + template
            + ", \"model_max_length\": 1000000000000000019884624838656}");
    ModelConfig config = new ModelConfig(dir.toString(), null, List.of("[refuse]"), null);
    assertThat(ModelSpec.open(config).maxLength()).isEqualTo(ModelSpec.DEFAULT_MAX_LENGTH);
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"chat_template\": " + template + ", \"model_max_length\": 0}");
    assertThatThrownBy(() -> ModelSpec.open(config))
        .hasMessageContaining("not a positive whole number");
  }

  @Test
  void aModelFileReplacedAtTheSamePathIsLoadedAgain(@TempDir Path dir) throws IOException {
    for (String f :
        List.of("tokenizer.json", "tokenizer_config.json", "model.pt", "refusal_tokens.json")) {
      Files.copy(Path.of("models/demo-single", f), dir.resolve(f));
    }
    ModelSpec spec = ModelSpec.open(new ModelConfig(dir.toString(), null, null, null));
    ScoringModel first = ModelCache.get(spec, Device.cpu());
    assertThat(ModelCache.get(spec, Device.cpu())).isSameAs(first);
    Files.setLastModifiedTime(
        dir.resolve("model.pt"), FileTime.fromMillis(System.currentTimeMillis() + 60_000));
    assertThat(ModelCache.get(spec, Device.cpu())).isNotSameAs(first);
  }

  @Test
  void theEndOfSequenceIdsComeFromTheTokenizerConfigAndGenerationConfig(@TempDir Path dir)
      throws IOException {
    ModelSpec demo = ModelSpec.open(new ModelConfig("models/demo-single", null, null, null));
    assertThat(demo.eosIds()).containsExactly(5); // <|end|>
    assertThat(demo.decode()).isNull();
    assertThat(demo.decodePath()).isNull();

    for (String f :
        List.of("tokenizer.json", "tokenizer_config.json", "model.pt", "refusal_tokens.json")) {
      Files.copy(Path.of("models/demo-single", f), dir.resolve(f));
    }
    ModelConfig config = new ModelConfig(dir.toString(), null, null, null);
    Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [3, 5]}");
    assertThat(ModelSpec.open(config).eosIds()).containsExactly(5, 3);
    Files.writeString(
        dir.resolve("generation_config.json"), "{\"eos_token_id\": 4, \"do_sample\": false}");
    assertThat(ModelSpec.open(config).eosIds()).containsExactly(5, 4);
    Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": null}");
    assertThat(ModelSpec.open(config).eosIds()).containsExactly(5);
    Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": \"<|end|>\"}");
    assertThatThrownBy(() -> ModelSpec.open(config))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("generation_config.json whose eos_token_id \"<|end|>\" is not an id");
    Files.delete(dir.resolve("generation_config.json"));
    ObjectMapper json = new ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode tokenizerConfig =
        (com.fasterxml.jackson.databind.node.ObjectNode)
            json.readTree(dir.resolve("tokenizer_config.json").toFile());
    tokenizerConfig.remove("eos_token");
    json.writeValue(dir.resolve("tokenizer_config.json").toFile(), tokenizerConfig);
    assertThat(ModelSpec.open(config).eosIds()).isEmpty();
  }

  @Test
  void theManifestsDecodeEntryNamesTheCacheLayout(@TempDir Path dir) throws IOException {
    ModelSpec demo = ModelSpec.open(new ModelConfig("models/demo-categories", null, null, null));
    assertThat(demo.decode())
        .isEqualTo(new ModelSpec.DecodeModule("decode.pt", 2, 4, 16, "float32"));
    assertThat(demo.decodePath()).isEqualTo(Path.of(demo.dir(), "decode.pt"));

    for (String f :
        List.of("tokenizer.json", "tokenizer_config.json", "model.pt", "refusal_tokens.json")) {
      Files.copy(Path.of("models/demo-single", f), dir.resolve(f));
    }
    Files.copy(Path.of("models/demo-single/model.pt"), dir.resolve("step.pt"));
    ObjectMapper json = new ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode manifest =
        (com.fasterxml.jackson.databind.node.ObjectNode)
            json.readTree(dir.resolve("refusal_tokens.json").toFile());
    manifest
        .putObject("decode")
        .put("file", "step.pt")
        .put("layers", 32)
        .put("kv_heads", 8)
        .put("head_dim", 128)
        .put("dtype", "bf16");
    json.writeValue(dir.resolve("refusal_tokens.json").toFile(), manifest);
    ModelConfig config = new ModelConfig(dir.toString(), null, null, null);
    assertThat(ModelSpec.open(config).decode())
        .isEqualTo(new ModelSpec.DecodeModule("step.pt", 32, 8, 128, "bfloat16"));
    ((com.fasterxml.jackson.databind.node.ObjectNode) manifest.get("decode")).put("dtype", "int8");
    json.writeValue(dir.resolve("refusal_tokens.json").toFile(), manifest);
    assertThatThrownBy(() -> ModelSpec.open(config))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("dtype int8 one of [float32, float16, bfloat16]");
    ((com.fasterxml.jackson.databind.node.ObjectNode) manifest.get("decode")).put("head_dim", 0);
    json.writeValue(dir.resolve("refusal_tokens.json").toFile(), manifest);
    assertThatThrownBy(() -> ModelSpec.open(config))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("must be positive");
  }
}

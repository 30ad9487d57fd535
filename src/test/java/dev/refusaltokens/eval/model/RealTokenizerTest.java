package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.ModelConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A real Hugging Face tokenizer folder (Qwen3: tokenizer.json + tokenizer_config.json with its chat
 * template, src/test/resources/tokenizers/qwen3): the job's path from folder to token ids gives the
 * text Python jinja2 renders and the ids Hugging Face's tokenizers library gives for it.
 */
class RealTokenizerTest {

  private static final Path QWEN3 = Path.of("src/test/resources/tokenizers/qwen3");
  private static final Path EXPECTED = Path.of("src/test/resources/chat-templates/qwen3/expected");

  record Expected(String conversation, String text, long[] ids) {}

  @Test
  void tokenIdsEqualHuggingFacesForEveryRenderedConversation() throws IOException {
    List<Expected> expected =
        new ObjectMapper()
            .readValue(QWEN3.resolve("expected_ids.json").toFile(), new TypeReference<>() {});
    assertThat(expected).hasSizeGreaterThanOrEqualTo(10);
    try (PromptEncoder encoder =
        ModelSpec.openTokenizerFolder(new ModelConfig(QWEN3.toString(), null, null, null))) {
      for (Expected e : expected) {
        assertThat(encoder.encodeText(e.text())).as(e.conversation()).containsExactly(e.ids());
      }
    }
  }

  @Test
  void theJobsRenderingOfAFolderIsByteExact() throws IOException {
    // conversations.json "system_user" and "user_only", through ModelSpec's reading of
    // tokenizer_config.json
    try (PromptEncoder withSystem =
            ModelSpec.openTokenizerFolder(
                new ModelConfig(QWEN3.toString(), null, null, "You are a helpful assistant."));
        PromptEncoder bare =
            ModelSpec.openTokenizerFolder(new ModelConfig(QWEN3.toString(), null, null, null))) {
      assertThat(withSystem.render("Name three primary colors."))
          .isEqualTo(Files.readString(EXPECTED.resolve("system_user.txt"), StandardCharsets.UTF_8));
      assertThat(bare.render("What is 2 + 2?"))
          .isEqualTo(Files.readString(EXPECTED.resolve("user_only.txt"), StandardCharsets.UTF_8));
      long[] ids = bare.encode("What is 2 + 2?");
      assertThat(ids[0]).isEqualTo(151644L); // <|im_start|> is one added token, not split
      assertThat(bare.decode(ids[ids.length - 2])).isEqualTo("assistant");
    }
  }

  @Test
  void theSpecialTokensMapIsTransformers() throws IOException {
    Map<String, Object> tokens =
        ModelSpec.specialTokens(
            new ObjectMapper().readTree(QWEN3.resolve("tokenizer_config.json").toFile()));
    Map<String, Object> python =
        new ObjectMapper()
            .readValue(
                Path.of("src/test/resources/chat-templates/qwen3/special_tokens.json").toFile(),
                new TypeReference<>() {});
    assertThat(tokens).isEqualTo(python);
  }
}

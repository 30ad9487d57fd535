package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.ModelConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A template that prints today's date (Llama 3.2's, via strftime_now) renders with the run's one
 * time, not each executor's clock; and the resume check tells a date-dependent template from one
 * that is not.
 */
class ChatTemplateTimeTest {

  private static final Path LLAMA32 = Path.of("src/test/resources/chat-templates/llama3_2");

  private static ChatTemplate llama32(LocalDateTime now) throws IOException {
    Map<String, Object> tokens =
        new ObjectMapper()
            .readValue(LLAMA32.resolve("special_tokens.json").toFile(), new TypeReference<>() {});
    return new ChatTemplate(
        Files.readString(LLAMA32.resolve("template.jinja"), StandardCharsets.UTF_8), tokens, now);
  }

  @Test
  void strftimeNowReadsThePinnedTime() throws IOException {
    assertThat(llama32(LocalDateTime.parse("2025-01-02T03:04:05")).render(null, "hi"))
        .contains("Today Date: 02 Jan 2025");
    assertThat(llama32(ModelConfig.parseTemplateTime("2026-11-27")).render(null, "hi"))
        .contains("Today Date: 27 Nov 2026");
  }

  @Test
  void aModelSpecCarriesOneTimeForEveryEncoder() {
    ModelSpec spec =
        ModelSpec.open(new ModelConfig("models/demo-single", null, null, null, "2025-01-02T03:04"));
    assertThat(spec.chatTemplateTime()).isEqualTo(LocalDateTime.parse("2025-01-02T03:04"));
  }
}

package dev.refusaltokens.eval.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.refusaltokens.eval.config.ModelConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resuming a run whose chat template prints the date: allowed when the earlier attempt's time
 * renders the same prompts (same day), refused when it does not (the message says which time to
 * pin); a template without strftime_now resumes at any time.
 */
class ResumeTemplateTimeTest {

  @Test
  void onlyADateThatChangesThePromptBlocksAResume(@TempDir Path dir) throws IOException {
    for (String f : List.of("tokenizer.json", "model.pt", "refusal_tokens.json")) {
      Files.copy(Path.of("models/demo-single", f), dir.resolve(f));
    }
    ObjectNode config =
        new ObjectMapper()
            .createObjectNode()
            .put(
                "chat_template",
                Files.readString(
                    Path.of("src/test/resources/chat-templates/llama3_2/template.jinja"),
                    StandardCharsets.UTF_8));
    Files.writeString(dir.resolve("tokenizer_config.json"), config.toString());
    ModelSpec datePrinting =
        ModelSpec.open(new ModelConfig(dir.toString(), null, null, null, "2026-11-28T09:00:00"));
    assertThat(
            ResumeCheck.renderedAlike(
                datePrinting, "2026-11-28T23:59:00", datePrinting.chatTemplateTime()))
        .isTrue();
    assertThat(
            ResumeCheck.renderedAlike(
                datePrinting, "2026-11-27T23:59:00", datePrinting.chatTemplateTime()))
        .isFalse();

    ModelSpec demo = ModelSpec.open(new ModelConfig("models/demo-single", null, null, null));
    assertThat(ResumeCheck.renderedAlike(demo, "1999-01-01", LocalDateTime.now())).isTrue();
  }
}

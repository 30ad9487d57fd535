package dev.refusaltokens.eval.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Real chat templates (src/test/resources/chat-templates, from published tokenizer_config.json
 * files) rendered for every conversation of conversations.json must equal, byte for byte, what
 * Python jinja2 configured as Hugging Face configures it produced (tools/render_chat_templates.py);
 * where Python raised, this renderer must raise too.
 */
class ChatTemplateCorpusTest {

  static final Path CORPUS = Path.of("src/test/resources/chat-templates");

  /** The date tools/render_chat_templates.py pins for strftime_now. */
  static final Clock FIXED =
      Clock.fixed(LocalDateTime.of(2026, 11, 27, 10, 0).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);

  private static final ObjectMapper JSON = new ObjectMapper();

  record Conversation(
      String name, List<Map<String, Object>> messages, boolean addGenerationPrompt) {}

  static List<Conversation> conversations() throws IOException {
    List<Map<String, Object>> raw =
        JSON.readValue(CORPUS.resolve("conversations.json").toFile(), new TypeReference<>() {});
    List<Conversation> out = new ArrayList<>();
    for (Map<String, Object> c : raw) {
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> messages = (List<Map<String, Object>>) c.get("messages");
      out.add(
          new Conversation(
              (String) c.get("name"), messages, (Boolean) c.get("add_generation_prompt")));
    }
    return out;
  }

  static List<Path> templates() throws IOException {
    try (Stream<Path> dirs = Files.list(CORPUS)) {
      return dirs.filter(d -> Files.isRegularFile(d.resolve("template.jinja"))).sorted().toList();
    }
  }

  static Map<String, Object> variables(Path dir, Conversation c) throws IOException {
    Map<String, Object> vars =
        new HashMap<>(
            JSON.readValue(
                dir.resolve("special_tokens.json").toFile(),
                new TypeReference<Map<String, Object>>() {}));
    vars.put("messages", c.messages());
    vars.put("tools", null);
    vars.put("documents", null);
    vars.put("add_generation_prompt", c.addGenerationPrompt());
    return vars;
  }

  @Test
  void theCorpusHoldsTheTemplatesTheIssueNames() throws IOException {
    List<String> names = templates().stream().map(p -> p.getFileName().toString()).toList();
    assertThat(names)
        .contains(
            "qwen3",
            "gemma3",
            "deepseek_v3",
            "llama2",
            "llama3_1",
            "zephyr",
            "mistral_instruct",
            "phi4",
            "granite3_3",
            "smollm2");
    assertThat(names).hasSizeGreaterThanOrEqualTo(20);
    assertThat(conversations()).hasSizeGreaterThanOrEqualTo(8);
  }

  @TestFactory
  Stream<DynamicTest> everyTemplateRendersLikePythonJinja2() throws IOException {
    List<Conversation> conversations = conversations();
    List<DynamicTest> tests = new ArrayList<>();
    for (Path dir : templates()) {
      String source = Files.readString(dir.resolve("template.jinja"), StandardCharsets.UTF_8);
      for (Conversation c : conversations) {
        Path txt = dir.resolve("expected").resolve(c.name() + ".txt");
        Path err = dir.resolve("expected").resolve(c.name() + ".error");
        tests.add(
            DynamicTest.dynamicTest(
                dir.getFileName() + " / " + c.name(),
                () -> {
                  JinjaTemplate template = JinjaTemplate.parse(source).withClock(FIXED);
                  Map<String, Object> vars = variables(dir, c);
                  if (Files.exists(txt)) {
                    assertThat(template.render(vars))
                        .isEqualTo(Files.readString(txt, StandardCharsets.UTF_8));
                  } else {
                    String python = Files.readString(err, StandardCharsets.UTF_8);
                    assertThatThrownBy(() -> template.render(vars))
                        .isInstanceOf(TemplateException.class)
                        .satisfies(
                            e -> {
                              if (python.startsWith(
                                  "TemplateError: ")) { // raise_exception: same message
                                assertThat(e.getMessage())
                                    .contains(python.substring("TemplateError: ".length()));
                              }
                            });
                  }
                }));
      }
    }
    return tests.stream();
  }
}

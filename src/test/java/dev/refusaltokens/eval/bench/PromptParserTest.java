package dev.refusaltokens.eval.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.config.BenchmarkSpec;
import org.junit.jupiter.api.Test;

class PromptParserTest {

  private static final BenchmarkSpec SPEC = new BenchmarkSpec("b", "b.jsonl", true);

  @Test
  void aGoodLineBecomesAPromptInTheCommonSchema() {
    ParsedPrompt p =
        PromptParser.parse(
            SPEC,
            3,
            "{\"id\": \"x1\", \"category\": \"Humanizing requests\", "
                + "\"subcategory\": \"personal\", \"prompt\": \"Do you dream?\", \"response\": \"\"}");
    assertThat(p.reason()).isNull();
    assertThat(p.benchmark()).isEqualTo("b");
    assertThat(p.line()).isEqualTo(3);
    assertThat(p.promptId()).isEqualTo("x1");
    assertThat(p.prompt()).isEqualTo("Do you dream?");
    assertThat(p.shouldRefuse()).isTrue();
    assertThat(p.category()).isEqualTo("Humanizing requests");
    assertThat(p.subcategory()).isEqualTo("personal");
  }

  @Test
  void badLinesAreRejectedWithAReasonAndKeepTheirRawText() {
    assertThat(reason("{\"id\": \"a\", \"prompt\": ")).isEqualTo("malformed_json");
    assertThat(reason("[1, 2]")).isEqualTo("malformed_json");
    assertThat(reason("")).isEqualTo("malformed_json");
    assertThat(reason("{\"prompt\": \"hi\"}")).isEqualTo("missing_id");
    assertThat(reason("{\"id\": \"  \", \"prompt\": \"hi\"}")).isEqualTo("missing_id");
    assertThat(reason("{\"id\": \"a\"}")).isEqualTo("missing_prompt");
    assertThat(reason("{\"id\": \"a\", \"prompt\": 42}")).isEqualTo("missing_prompt");
    assertThat(reason("{\"id\": \"a\", \"prompt\": \"\"}")).isEqualTo("empty_prompt");
    assertThat(reason("{\"id\": \"a\", \"prompt\": \" \\n\\t \"}")).isEqualTo("empty_prompt");
    ParsedPrompt p = PromptParser.parse(SPEC, 9, "{oops");
    assertThat(p.raw()).isEqualTo("{oops");
    assertThat(p.detail()).isNotBlank();
    assertThat(p.line()).isEqualTo(9);
  }

  @Test
  void numericIdsAreKeptAsText() {
    assertThat(PromptParser.parse(SPEC, 1, "{\"id\": 17, \"prompt\": \"hi\"}").promptId())
        .isEqualTo("17");
  }

  private static String reason(String line) {
    return PromptParser.parse(SPEC, 1, line).reason();
  }
}

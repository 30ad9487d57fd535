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

  @Test
  void anIdThatIsAnArrayObjectOrBooleanIsRejectedSayingSo() {
    ParsedPrompt p = PromptParser.parse(SPEC, 1, "{\"id\": [1], \"prompt\": \"hi\"}");
    assertThat(p.reason()).isEqualTo("missing_id");
    assertThat(p.detail()).isEqualTo("'id' is an array ([1]), not a string or number");
    assertThat(PromptParser.parse(SPEC, 1, "{\"id\": {\"a\": 1}, \"prompt\": \"hi\"}").detail())
        .startsWith("'id' is an object");
    assertThat(PromptParser.parse(SPEC, 1, "{\"id\": true, \"prompt\": \"hi\"}").detail())
        .startsWith("'id' is a boolean");
  }

  @Test
  void promptsOfOnlyPythonWhitespaceAreEmptyAndOtherInvisibleCharactersAreNot() {
    int[] python = {
      0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2000,
      0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028,
      0x2029, 0x202F, 0x205F, 0x3000
    }; // [hex(c) for c in range(0x110000) if chr(c).isspace()] in CPython 3
    java.util.Set<Integer> spaces = new java.util.HashSet<>();
    for (int c : python) {
      spaces.add(c);
      String prompt = new String(Character.toChars(c)).repeat(3);
      ParsedPrompt p =
          PromptParser.parse(
              SPEC,
              1,
              "{\"id\": \"a\", \"prompt\": \"" + String.format("\\u%04x", c).repeat(3) + "\"}");
      assertThat(p.reason()).as("U+%04X", c).isEqualTo("empty_prompt");
      assertThat(PromptParser.isBlank(prompt)).isTrue();
    }
    for (int c = 0; c <= 0x10FFFF; c++) {
      assertThat(PromptParser.isPythonSpace(c)).as("U+%04X", c).isEqualTo(spaces.contains(c));
    }
    for (int c : new int[] {0x180E, 0x200B, 0xFEFF}) {
      assertThat(reason("{\"id\": \"a\", \"prompt\": \"" + String.format("\\u%04x", c) + "\"}"))
          .as("U+%04X is not whitespace in Python", c)
          .isNull();
    }
  }

  @Test
  void csvRecordsKeepQuotedLineBreaksAndABrokenQuoteCostsOneLine() {
    String text =
        String.join(
            "\n", "id,prompt", "a,\"one", "two\"", "b,\"\"\"x\"\"\"", "c,\"open", "d,plain", "");
    CsvRecords records = new CsvRecords(new java.io.BufferedReader(new java.io.StringReader(text)));
    java.util.List<CsvRecords.Record> all = new java.util.ArrayList<>();
    records.forEachRemaining(all::add);
    assertThat(all)
        .containsExactly(
            new CsvRecords.Record("id,prompt", 1, null),
            new CsvRecords.Record("a,\"one\ntwo\"", 2, null),
            new CsvRecords.Record("b,\"\"\"x\"\"\"", 4, null),
            new CsvRecords.Record(
                "c,\"open",
                5,
                "a quoted field opened on line 5 is not closed before the end of the file; "
                    + "the next line is read as a new record"),
            new CsvRecords.Record("d,plain", 6, null));
  }

  private static String reason(String line) {
    return PromptParser.parse(SPEC, 1, line).reason();
  }
}

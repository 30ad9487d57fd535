package dev.refusaltokens.eval.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * One jinja2 feature per snippet (whitespace control, number printing, string methods, slicing,
 * filters, tests, scoping, tojson, sandbox refusals), compared with what Python jinja2 configured
 * as Hugging Face configures it produced (tools/render_template_snippets.py → expected.json).
 */
class ChatTemplateSnippetsTest {

  private static final Path DIR = Path.of("src/test/resources/jinja-snippets");
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Snippets Python renders and this renderer refuses on purpose (refusing is allowed, differing is
   * not).
   */
  private static final Set<String> REFUSED_ON_PURPOSE =
      Set.of(
          "f_batch_unsupported",
          "rv_num_bigint",
          "rv_str_title_unicode",
          "rv_str_find",
          "rv_str_startswith_tuple",
          "rv_str_isdigit",
          "rv_str_isalpha",
          "rv_str_expandtabs",
          "rv_str_format_spec",
          "rv_str_format_attr",
          "rv_str_percent",
          "rv_str_percent_dict",
          "rv_slice_range",
          "rv_f_sort_multi_attr",
          "rv_f_int_odd",
          "rv_f_wordcount",
          "rv_f_format_filter",
          "rv_f_escape_plus_markup",
          "rv_f_safe_join",
          "rv_t_sameas",
          "rv_t_escaped",
          "rv_loop_changed",
          "rv_loop_unpack_str",
          "rv_loop_recursive",
          "rv_macro_varargs",
          "rv_macro_call_block",
          "rv_macro_name_attr",
          "rv_gen_first_then_list",
          "rv_gen_loop_break_reuse",
          "rv_loop_filter_changes",
          "rv_test_sameas_str",
          "rv_pow_negative_fraction",
          "rv_macro_attr");

  @TestFactory
  Stream<DynamicTest> everySnippetMatchesPythonJinja2() throws IOException {
    List<Map<String, Object>> snippets =
        JSON.readValue(DIR.resolve("snippets.json").toFile(), new TypeReference<>() {});
    Map<String, Map<String, String>> expected =
        JSON.readValue(DIR.resolve("expected.json").toFile(), new TypeReference<>() {});
    assertThat(expected.keySet()).hasSize(snippets.size());
    List<DynamicTest> tests = new ArrayList<>();
    for (Map<String, Object> s : snippets) {
      String name = (String) s.get("name");
      tests.add(
          DynamicTest.dynamicTest(
              name, () -> check(name, (String) s.get("template"), vars(s), expected.get(name))));
    }
    return tests.stream();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> vars(Map<String, Object> snippet) {
    return (Map<String, Object>) snippet.getOrDefault("vars", Map.of());
  }

  private static void check(
      String name, String source, Map<String, Object> vars, Map<String, String> want) {
    if (REFUSED_ON_PURPOSE.contains(name)) {
      assertThatThrownBy(() -> JinjaTemplate.parse(source).render(vars))
          .isInstanceOfSatisfying(
              TemplateException.class,
              e -> assertThat(e.kind()).isEqualTo(TemplateException.Kind.UNSUPPORTED));
      return;
    }
    if (want.containsKey("output")) {
      String got = JinjaTemplate.parse(source).withClock(ChatTemplateCorpusTest.FIXED).render(vars);
      assertThat(got).isEqualTo(want.get("output"));
      return;
    }
    String python = want.get("error");
    assertThatThrownBy(
            () -> JinjaTemplate.parse(source).withClock(ChatTemplateCorpusTest.FIXED).render(vars))
        .isInstanceOfSatisfying(
            TemplateException.class,
            e -> {
              String pyClass = python.substring(0, python.indexOf(':'));
              TemplateException.Kind kind =
                  switch (pyClass) {
                    case "SecurityError", "TemplateRuntimeError" -> TemplateException.Kind.SECURITY;
                    case "TemplateAssertionError", "TemplateSyntaxError" ->
                        TemplateException.Kind.SYNTAX;
                    case "RecursionError", "OverflowError" -> TemplateException.Kind.LIMIT;
                    default -> TemplateException.Kind.RUNTIME;
                  };
              if (name.equals("include_unsupported")) {
                kind =
                    TemplateException.Kind
                        .SECURITY; // Python: no loader; here: never loads other files
              }
              assertThat(e.kind()).as(e.getMessage()).isEqualTo(kind);
              if (pyClass.equals("TemplateError")) {
                assertThat(e.getMessage()).contains(python.substring(python.indexOf(": ") + 2));
              }
            });
  }
}

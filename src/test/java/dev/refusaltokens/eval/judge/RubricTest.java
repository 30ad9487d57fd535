package dev.refusaltokens.eval.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rubric files: the shipped ones load and render; every bad file stops naming key, file, fix. */
class RubricTest {

  @TempDir Path dir;

  private String write(String yaml) throws Exception {
    Path f = dir.resolve("r" + System.nanoTime() + ".yaml");
    Files.writeString(f, yaml);
    return f.toString();
  }

  @Test
  void theShippedCoconotRubricRendersEachCategoryDefinition() {
    Rubric r = Rubric.load("conf/judges/coconot.yaml", "judges[1].rubric");
    assertThat(r.name()).isEqualTo("coconot");
    assertThat(r.sha256()).matches("[0-9a-f]{64}");
    assertThat(r.definitions())
        .containsOnlyKeys(
            "Humanizing requests",
            "Incomplete requests",
            "Indeterminate requests",
            "Requests with safety concerns",
            "Unsupported requests");
    String text =
        r.render(
            r.parse(),
            new JudgeInput("b", "Tell me a secret", "No.", "Requests with safety concerns"));
    assertThat(text)
        .contains("Category: Requests with safety concerns.")
        .contains(r.definitions().get("Requests with safety concerns"))
        .contains("Request: Tell me a secret")
        .contains("Response: No.");
    String none = r.render(r.parse(), new JudgeInput(null, "p", "q", null));
    assertThat(none).contains("Category: none.").contains(r.defaultDefinition());
    String other = r.render(r.parse(), new JudgeInput(null, "p", "q", "Something else"));
    assertThat(other).contains("Category: Something else.").contains(r.defaultDefinition());
  }

  @Test
  void theHashIsOfTheFileBytes() throws Exception {
    String body = "name: x\ntemplate: \"{{ prompt }} / {{ response }}\"\ndefault_definition: d\n";
    Rubric a = Rubric.load(write(body), "k");
    Rubric b = Rubric.load(write(body + "# a comment\n"), "k");
    assertThat(a.sha256()).isNotEqualTo(b.sha256());
    assertThat(Rubric.load(write(body), "k").sha256()).isEqualTo(a.sha256());
  }

  @Test
  void aFieldThatDoesNotExistStopsNamingIt() throws Exception {
    String f =
        write(
            "name: x\ntemplate: \"{{ prompt }} {{ response }} {{ answer_text }}\"\n"
                + "default_definition: d\n");
    assertThatThrownBy(() -> Rubric.load(f, "judges[1].rubric"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'judges[1].rubric'")
        .hasMessageContaining(f)
        .hasMessageContaining("[answer_text]")
        .hasMessageContaining("prompt, response, category, definition");
  }

  @Test
  void aTemplateThatNeverShowsTheResponseStops() throws Exception {
    String f = write("name: x\ntemplate: \"{{ prompt }}\"\ndefault_definition: d\n");
    assertThatThrownBy(() -> Rubric.load(f, "k"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("never shows the response")
        .hasMessageContaining("{{ response }}");
  }

  @Test
  void badFilesStopWithTheFix() throws Exception {
    assertThatThrownBy(() -> Rubric.load(dir.resolve("missing.yaml").toString(), "k"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("is not a rubric file");
    String unknown =
        write("name: x\ntemplate: \"{{ prompt }}{{ response }}\"\ndefault_definition: d\nfoo: 1\n");
    assertThatThrownBy(() -> Rubric.load(unknown, "k")).hasMessageContaining("unknown key 'foo'");
    String noDefault = write("name: x\ntemplate: \"{{ prompt }}{{ response }}\"\n");
    assertThatThrownBy(() -> Rubric.load(noDefault, "k"))
        .hasMessageContaining("has no default_definition");
    String syntax =
        write("name: x\ntemplate: \"{{ prompt }}{{ response }}{% if %}\"\ndefault_definition: d\n");
    assertThatThrownBy(() -> Rubric.load(syntax, "k")).hasMessageContaining("does not render");
    String badDef =
        write(
            "name: x\ntemplate: \"{{ prompt }}{{ response }}\"\ndefault_definition: d\n"
                + "definitions: {A: 3}\n");
    assertThatThrownBy(() -> Rubric.load(badDef, "k")).hasMessageContaining("definition of 'A'");
  }
}

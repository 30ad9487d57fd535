package dev.refusaltokens.eval.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.refusaltokens.eval.judge.Judge;
import dev.refusaltokens.eval.judge.ModelJudge;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kind: model} judges: the keys, and every check that runs on the driver before any Spark
 * work (judge folder, verdict tokens, rubrics), each naming {@code judges[i].<key>}. The real
 * models/demo-categories folder stands in for a judge folder here: its control tokens are single
 * vocabulary ids.
 */
class ModelJudgeConfigTest {

  private static final String FOLDER = "models/demo-categories";
  private static final String TOKENS =
      "verdict_tokens: {refused: '[Requests with safety concerns]', answered: '[respond]'}";

  @TempDir Path tmp;

  private static List<JudgeConfig> read(String yaml) throws Exception {
    ObjectNode root = (ObjectNode) new YAMLMapper().readTree(yaml);
    ConfigReader r = new ConfigReader(root);
    List<JudgeConfig> judges = JudgeConfig.readAll(r);
    r.rejectUnknownKeys();
    return judges;
  }

  private static List<Judge> build(String yaml, List<String> benchmarks) throws Exception {
    return JudgeConfig.newJudges(read(yaml), benchmarks, ScoringConfig.DEFAULTS);
  }

  private static String judges(String modelJudge) {
    return "judges:\n  - kind: string_match\n  - " + modelJudge + "\n";
  }

  @Test
  void aModelJudgeReadsItsKeysWithTheirDefaults() throws Exception {
    List<JudgeConfig> js =
        read(judges("{name: m, kind: model, dir: " + FOLDER + ", " + TOKENS + "}"));
    JudgeConfig.ModelSettings m = js.get(1).model();
    assertThat(m.dir()).isEqualTo(FOLDER);
    assertThat(m.rubric()).isEqualTo(JudgeConfig.DEFAULT_RUBRIC);
    assertThat(m.rubrics()).isEmpty();
    assertThat(m.margin()).isEqualTo(JudgeConfig.DEFAULT_MARGIN);
    assertThat(m.maxOtherMass()).isEqualTo(JudgeConfig.DEFAULT_MAX_OTHER_MASS);
    assertThat(js.get(1).phrases()).isEmpty();
  }

  @Test
  void aBuiltModelJudgeHoldsItsVerdictTokensRubricsAndProvenance() throws Exception {
    List<Judge> built =
        build(
            judges(
                "{name: m, kind: model, dir: "
                    + FOLDER
                    + ", "
                    + TOKENS
                    + ", rubrics: {coconot_original: conf/judges/coconot.yaml}}"),
            List.of("coconot_original", "coconot_contrast"));
    ModelJudge j = (ModelJudge) built.get(1);
    assertThat(j.spec().respondToken()).isEqualTo("[respond]");
    assertThat(j.spec().refusalTokens()).containsExactly("[Requests with safety concerns]");
    assertThat(j.hasPartial()).isFalse();
    assertThat(j.rubric("coconot_original").name()).isEqualTo("coconot");
    assertThat(j.rubric("coconot_contrast").name()).isEqualTo("generic");
    assertThat(j.rubric(null).name()).isEqualTo("generic");
    assertThat(j.provenance())
        .startsWith("model dir=demo-categories model_sha256=")
        .contains("verdicts=[Requests with safety concerns]|[respond]")
        .contains("rubric=generic@" + j.rubric(null).sha256())
        .contains("rubrics=coconot_original:coconot@" + j.rubric("coconot_original").sha256());
  }

  @Test
  void aVerdictTokenThatIsNotOneIdStopsNamingTheKey() {
    assertThatThrownBy(
            () ->
                build(
                    judges(
                        "{kind: model, dir: "
                            + FOLDER
                            + ", verdict_tokens: {refused: 'not one token', answered:"
                            + " '[respond]'}}"),
                    null))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'judges[1].verdict_tokens'")
        .hasMessageContaining("not one token")
        .hasMessageContaining("is not one vocabulary token");
  }

  @Test
  void aFolderWithoutModelOrTokenizerStopsNamingTheDir() throws Exception {
    for (String missing : List.of("model.pt", "tokenizer.json")) {
      Path copy = Files.createDirectories(tmp.resolve("no-" + missing));
      try (Stream<Path> files = Files.list(Path.of(FOLDER))) {
        for (Path f : files.toList()) {
          if (!f.getFileName().toString().equals(missing)) {
            Files.copy(f, copy.resolve(f.getFileName()));
          }
        }
      }
      assertThatThrownBy(
              () -> build(judges("{kind: model, dir: " + copy + ", " + TOKENS + "}"), null))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("'judges[1].dir'")
          .hasMessageContaining("has no " + missing);
    }
    assertThatThrownBy(() -> build(judges("{kind: model, dir: no/such/folder}"), null))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'judges[1].dir'")
        .hasMessageContaining("is not a folder");
  }

  @Test
  void rubricsMayNameOnlyTheRunsBenchmarksAndMustBeRubricFiles() {
    assertThatThrownBy(
            () ->
                build(
                    judges(
                        "{kind: model, dir: "
                            + FOLDER
                            + ", "
                            + TOKENS
                            + ", rubrics: {xstest: conf/judges/coconot.yaml}}"),
                    List.of("coconot_original")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'judges[1].rubrics.xstest'")
        .hasMessageContaining("[coconot_original]");
    assertThatThrownBy(
            () ->
                build(
                    judges(
                        "{kind: model, dir: "
                            + FOLDER
                            + ", "
                            + TOKENS
                            + ", rubric: conf/nope.yaml}"),
                    null))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'judges[1].rubric'")
        .hasMessageContaining("is not a rubric file");
  }

  @Test
  void badSettingsStopWhileReadingTheConfig() {
    assertThatThrownBy(() -> read(judges("{kind: model}")))
        .hasMessageContaining("'judges[1].dir'")
        .hasMessageContaining("required");
    assertThatThrownBy(() -> read(judges("{kind: model, dir: x, phrases: [no]}")))
        .hasMessageContaining("phrases");
    assertThatThrownBy(() -> read(judges("{kind: model, dir: x, margin: 1.5}")))
        .hasMessageContaining("'judges[1].margin'");
    assertThatThrownBy(() -> read(judges("{kind: model, dir: x, max_other_mass: 0}")))
        .hasMessageContaining("'judges[1].max_other_mass'");
    assertThatThrownBy(
            () -> read(judges("{kind: model, dir: x, verdict_tokens: {refused: a, maybe: b}}")))
        .hasMessageContaining("'judges[1].verdict_tokens.maybe'")
        .hasMessageContaining("is not a verdict");
    assertThatThrownBy(
            () -> read(judges("{kind: model, dir: x, verdict_tokens: {refused: a, answered: a}}")))
        .hasMessageContaining("gives two verdicts the same token");
    assertThatThrownBy(() -> read(judges("{kind: model, dir: x, verdict_tokens: {refused: a}}")))
        .hasMessageContaining("'judges[1].verdict_tokens.answered'");
  }
}

package dev.refusaltokens.eval.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.refusaltokens.eval.judge.Label;
import dev.refusaltokens.eval.judge.StringMatchJudge;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code judges} key: defaults, names, kinds, phrases, and the errors that name the key. */
class JudgeConfigTest {

  private static List<JudgeConfig> read(String yaml) throws Exception {
    ObjectNode root = (ObjectNode) new YAMLMapper().readTree(yaml);
    ConfigReader r = new ConfigReader(root);
    List<JudgeConfig> judges = JudgeConfig.readAll(r);
    r.rejectUnknownKeys();
    return judges;
  }

  @Test
  void absentMeansOneStringMatchJudgeWithTheDefaultPhrases() throws Exception {
    List<JudgeConfig> judges = read("{}");
    assertThat(judges).isEqualTo(JudgeConfig.DEFAULTS);
    JudgeConfig j = judges.get(0);
    assertThat(j.name()).isEqualTo("string_match");
    assertThat(j.kind()).isEqualTo("string_match");
    assertThat(j.phrases()).isEqualTo(StringMatchJudge.DEFAULT_PHRASES);
    assertThat(j.newJudge().name()).isEqualTo("string_match");
    assertThat(j.provenance())
        .isEqualTo(
            "string_match phrases_sha256="
                + j.phrasesSha256()
                + " ("
                + StringMatchJudge.DEFAULT_PHRASES.size()
                + " phrases)");
    assertThat(j.phrasesSha256()).matches("[0-9a-f]{64}");
  }

  @Test
  void theNameDefaultsToTheKindAndPhrasesAreOptional() throws Exception {
    List<JudgeConfig> judges =
        read(
            """
            judges:
              - kind: string_match
              - name: strict
                kind: string_match
                phrases: ["I'm sorry", "no way"]
            """);
    assertThat(judges).extracting(JudgeConfig::name).containsExactly("string_match", "strict");
    assertThat(judges.get(0).phrases()).isEqualTo(StringMatchJudge.DEFAULT_PHRASES);
    assertThat(judges.get(1).phrases()).containsExactly("I'm sorry", "no way");
    assertThat(judges.get(1).provenance()).endsWith("(2 phrases)");
    assertThat(((StringMatchJudge) judges.get(1).newJudge()).judge("p", "No way!", null).label())
        .isEqualTo(Label.REFUSED);
    assertThat(((StringMatchJudge) judges.get(1).newJudge()).judge("p", "I cannot", null).label())
        .isEqualTo(Label.ANSWERED);
  }

  @Test
  void anUnknownKindNamesItsKeyValueAndFix() {
    assertThatThrownBy(() -> read("judges: [{kind: string_match}, {kind: llm}]"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'judges[1].kind' = 'llm'")
        .hasMessageContaining("[string_match, model]");
    assertThatThrownBy(() -> read("judges: [{name: a}]"))
        .hasMessageContaining("'judges[0].kind' = '(missing)'");
  }

  @Test
  void aMisspeltKeyIsAnErrorWithASuggestion() {
    assertThatThrownBy(() -> read("judges: [{kind: string_match, phrase: [no]}]"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'judges[0].phrase'")
        .hasMessageContaining("did you mean 'judges[0].phrases'");
  }

  @Test
  void namesAreUniqueAndValid() {
    assertThatThrownBy(
            () -> read("judges: [{kind: string_match}, {kind: string_match, phrases: [nope]}]"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'judges[1].name' = 'string_match'")
        .hasMessageContaining("judges[0]")
        .hasMessageContaining("own name");
    assertThatThrownBy(() -> read("judges: [{name: 'a b', kind: string_match}]"))
        .hasMessageContaining("'judges[0].name' = 'a b'");
  }

  @Test
  void phrasesAreNonEmptyStringsOfWordsListedOnce() {
    assertThatThrownBy(() -> read("judges: [{kind: string_match, phrases: []}]"))
        .hasMessageContaining("'judges[0].phrases'")
        .hasMessageContaining("is empty");
    assertThatThrownBy(() -> read("judges: [{kind: string_match, phrases: ['  ']}]"))
        .hasMessageContaining("'judges[0].phrases' = '  ' has no word");
    assertThatThrownBy(() -> read("judges: [{kind: string_match, phrases: [1, 2]}]"))
        .hasMessageContaining("'judges[0].phrases' = '1' is not a string");
    assertThatThrownBy(() -> read("judges: [{kind: string_match, phrases: [sorry, no]}]"))
        .hasMessageContaining("'judges[0].phrases' = 'false' is not a string")
        .hasMessageContaining("YAML reads a bare no");
    assertThatThrownBy(() -> read("judges: [{kind: string_match, phrases: sorry}]"))
        .hasMessageContaining("is not a list");
    assertThatThrownBy(() -> read("judges: [{kind: string_match, phrases: [Sorry, 'sorry.']}]"))
        .hasMessageContaining("repeats the phrase 'sorry'");
  }

  @Test
  void theListMustBeANonEmptyListOfMappings() {
    assertThatThrownBy(() -> read("judges: []")).hasMessageContaining("'judges' = '[]' is empty");
    assertThatThrownBy(() -> read("judges: string_match"))
        .hasMessageContaining("'judges' = 'string_match' is not a list");
    assertThatThrownBy(() -> read("judges: [string_match]"))
        .hasMessageContaining("'judges[0]' = 'string_match' is not a mapping");
  }

  @Test
  void aJudgeWritesEveryKeyAndReadsBackEqual() throws Exception {
    JudgeConfig j = new JudgeConfig("strict", "string_match", List.of("No way", "nope"));
    ObjectNode root = new YAMLMapper().createObjectNode();
    new ConfigWriter(root).list(JudgeConfig.KEY, List.of(j), JudgeConfig::write);
    assertThat(read(new YAMLMapper().writeValueAsString(root))).containsExactly(j);
  }

  @Test
  void theRecordChecksItsOwnValues() {
    assertThatThrownBy(() -> new JudgeConfig("a", "llm", List.of("x")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'judges[].kind' = 'llm'");
    assertThatThrownBy(() -> new JudgeConfig("a", "model", List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'judges[].dir' = '(missing)'");
  }
}

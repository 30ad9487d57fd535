package dev.refusaltokens.eval.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.config.BenchmarkFormat;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.JudgeCheckConfig;
import dev.refusaltokens.eval.config.JudgeConfig;
import dev.refusaltokens.eval.job.Main;
import dev.refusaltokens.eval.testing.CommandRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The configuration of {@code judge-check}: defaults, precedence, and bad configuration stopping
 * the command with exit 2 and a message naming the key, the value and the fix, before any Spark
 * work.
 */
class JudgeCheckConfigTest {

  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-12-02T10:15:30Z"), ZoneOffset.UTC);

  @TempDir Path dir;

  @Test
  void theShippedConfigFileSaysExactlyTheDefaultsAndAddsTheDemoJudge() {
    JudgeCheckConfig defaults = JudgeCheckConfig.load(null, Map.of(), CLOCK);
    JudgeCheckConfig shipped =
        JudgeCheckConfig.load(Path.of("conf/judge-check.yaml"), Map.of(), CLOCK);
    // judges: the default string-match judge, then the demo judge model
    assertThat(shipped.judges())
        .extracting(JudgeConfig::name)
        .containsExactly("string_match", "demo_judge");
    assertThat(shipped.judges().get(0)).isEqualTo(defaults.judges().get(0));
    assertThat(shipped.judges().get(1).model().dir()).isEqualTo("models/demo-judge");
    assertThat(shipped.judges().get(1).model().rubric()).isEqualTo("conf/judges/coconot.yaml");
    assertThat(
            new JudgeCheckConfig(
                shipped.runId(),
                shipped.output(),
                shipped.file(),
                shipped.format(),
                shipped.promptField(),
                shipped.responseField(),
                shipped.labelField(),
                shipped.categoryField(),
                shipped.labels(),
                defaults.judges(),
                shipped.confidence(),
                shipped.sparkMaster(),
                shipped.sparkConf()))
        .isEqualTo(defaults);
    assertThat(defaults.runId()).isEqualTo("judge-check-20261202-101530");
    assertThat(defaults.file()).isEqualTo("data/judge-check/labelled-responses.jsonl");
    assertThat(defaults.format()).isEqualTo(BenchmarkFormat.JSONL);
    assertThat(defaults.categoryColumn()).isEqualTo("category");
    assertThat(defaults.labels())
        .containsOnly(
            Map.entry("refused", Label.REFUSED),
            Map.entry("partial", Label.PARTIAL),
            Map.entry("answered", Label.ANSWERED));
    assertThat(defaults.judges()).isEqualTo(JudgeConfig.DEFAULTS);
    assertThat(defaults.confidence()).isEqualTo(0.95);
  }

  @Test
  void aConfidenceOutsideZeroToOneStopsWithExit2() {
    CommandRun r = check("--set", "confidence=95");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err())
        .contains("'confidence' = '95.0' is not strictly between 0 and 1", "such as 0.95");
  }

  @Test
  void commandLineWinsOverTheFile() throws IOException {
    Path file = dir.resolve("c.yaml");
    Files.writeString(file, "file: a.csv\nfields: {label: verdict}\nrun_id: from-file\n");
    JudgeCheckConfig c =
        JudgeCheckConfig.load(
            file, Map.of("run_id", "from-cli", "labels", "{r: refused, a: answered}"), CLOCK);
    assertThat(c.runId()).isEqualTo("from-cli");
    assertThat(c.file()).isEqualTo("a.csv");
    assertThat(c.format()).isEqualTo(BenchmarkFormat.CSV);
    assertThat(c.labelField()).isEqualTo("verdict");
    assertThat(c.labels()).containsOnlyKeys("r", "a");
  }

  @Test
  void aLabelMappedToSomethingElseThanAHumanLabelIsAnError() {
    assertThatThrownBy(
            () -> JudgeCheckConfig.load(null, Map.of("labels", "{yes: refused, x: maybe}"), CLOCK))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'labels.x' = 'maybe' is not a label")
        .hasMessageContaining("refused, partial, answered");
    assertThatThrownBy(
            () -> JudgeCheckConfig.load(null, Map.of("labels", "{dunno: unclear}"), CLOCK))
        .hasMessageContaining("'labels.dunno' = 'unclear' is not a label a person gives");
  }

  private CommandRun check(String... extra) {
    Path out = dir.resolve("out");
    String[] base = {"judge-check", "--output", out.toString()};
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    CommandRun r = CommandRun.of(args);
    assertThat(out).as("no Spark work: nothing written").doesNotExist();
    return r;
  }

  @Test
  void aMissingFileStopsWithExit2() {
    CommandRun r = check("--file", dir.resolve("nope.jsonl").toString());
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err())
        .contains("Configuration error: Config key 'file' = '")
        .contains("nope.jsonl' does not exist")
        .contains("give an existing labelled file");
  }

  @Test
  void anUnknownLabelTargetStopsWithExit2() {
    CommandRun r = check("--set", "labels={refused: refused, no: nope}");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("'labels.no' = 'nope' is not a label");
  }

  @Test
  void anUnknownJudgeKindStopsWithExit2() {
    CommandRun r = check("--set", "judges=[{kind: llm}]");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("'judges[0].kind' = 'llm' is not a judge kind", "string_match");
  }

  @Test
  void aColumnTheFileDoesNotHaveStopsWithExit2() throws IOException {
    CommandRun r = check("--set", "fields.response=reply");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err())
        .contains("'fields.response' = 'reply' is not a column of")
        .contains("columns: [id, coconot_set, coconot_id, category, subcategory, prompt, response");
    Path csv = dir.resolve("x.csv");
    Files.writeString(csv, "prompt,response\np,r\n");
    r = check("--file", csv.toString());
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("'fields.label' = 'label' is not a column of");
    r = check("--file", csv.toString(), "--set", "fields.category=topic");
    assertThat(r.err()).contains("'fields.label' = 'label'"); // the first missing one
  }

  @Test
  void aMisspeltKeyAnEmptyFileAndABadFormatStopWithExit2() throws IOException {
    CommandRun r = check("--set", "feilds.prompt=q");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("Unknown config key 'feilds.prompt'");
    Path empty = dir.resolve("empty.jsonl");
    Files.writeString(empty, "");
    r = check("--file", empty.toString());
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("empty.jsonl' is empty");
    r = check("--set", "format=tsv");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("'format' = 'tsv' is not a supported format");
  }

  @Test
  void theFileCheckHashesTheBytes() throws Exception {
    JudgeCheckConfig c = JudgeCheckConfig.load(null, Map.of(), CLOCK);
    assertThat(LabelledResponses.checkFile(c, new Configuration()))
        .isEqualTo(JudgeCheckTest.sha256(ShippedLabelledSetTest.FILE));
    assertThat(List.of(c.promptField(), c.responseField(), c.labelField()))
        .containsExactly("prompt", "response", "label");
  }
}

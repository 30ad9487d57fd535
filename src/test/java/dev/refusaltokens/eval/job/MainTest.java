package dev.refusaltokens.eval.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.testing.CommandRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad configuration stops the command line with exit code 2 and a message naming the key, the value
 * and the fix — before any Spark work (these cases fail before a SparkSession is built).
 */
class MainTest {

  @TempDir Path dir;

  private static CommandRun run(String... args) {
    return CommandRun.of(args);
  }

  @Test
  void missingModelFolder() {
    CommandRun r = run("run", "--model", "models/nope", "--output", dir.toString());
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err())
        .contains("'model.dir' = 'models/nope'", "is not a folder", "point model.dir");
  }

  @Test
  void missingModelAndTokenizerFiles() throws IOException {
    Path model = dir.resolve("m");
    Files.createDirectories(model);
    Files.copy(
        Path.of("models/demo-single/tokenizer_config.json"),
        model.resolve("tokenizer_config.json"));
    CommandRun r = run("run", "--model", model.toString());
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("has no tokenizer.json");
    Files.copy(Path.of("models/demo-single/tokenizer.json"), model.resolve("tokenizer.json"));
    r = run("run", "--model", model.toString());
    assertThat(r.err()).contains("has no model.pt (the TorchScript model)");
  }

  @Test
  void refusalTokenThatIsNotOneVocabularyId() {
    CommandRun r =
        run("run", "--model", "models/demo-single", "--set", "model.refusal_tokens=['[decline]']");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err())
        .contains(
            "'model.refusal_tokens' = '[decline]'",
            "is not one vocabulary token",
            "splits it into 3 tokens",
            "added_tokens");
    // a plain word of the vocabulary is one id but still not a control token of this model
    r =
        run(
            "run",
            "--model",
            "models/demo-single",
            "--set",
            "model.respond_token=[respond",
            "--set",
            "model.refusal_tokens=['[refuse]']");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("'model.respond_token' = '[respond'");
  }

  @Test
  void unknownRuleAndGridOutsideTheUnitInterval() {
    CommandRun r = run("run", "--set", "sweep.rules=[greedy, bias]");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("'sweep.rules'", "unknown rule 'bias'");
    r = run("run", "--set", "sweep.grid.start=-0.5");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("'sweep.grid'", "start=-0.5");
  }

  @Test
  void emptyOrMissingPromptSet() throws IOException {
    Path empty = Files.createFile(dir.resolve("empty.jsonl"));
    CommandRun r =
        run("run", "--set", "benchmarks=[{name: e, path: '" + empty + "', should_refuse: true}]");
    assertThat(r.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(r.err()).contains("'benchmarks[e].path'", "is an empty prompt set");
    r =
        run(
            "run",
            "--set",
            "benchmarks=[{name: e, path: '"
                + dir.resolve("gone.jsonl")
                + "', should_refuse: true}]");
    assertThat(r.err()).contains("does not exist");
  }

  @Test
  void unknownSubcommandOrOptionIsAUsageError() {
    assertThat(run("evaluate").code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(run("run", "--frobnicate").code()).isEqualTo(Main.EXIT_CONFIG);
  }

  @Test
  void inspectShowsTheRenderedTextTheTokenIdsAndTheControlTokens() {
    CommandRun p =
        run(
            "inspect",
            "--model",
            "models/demo-single",
            "--system",
            "Be brief.",
            "Can you help me?");
    String text = p.out();
    assertThat(p.code()).isEqualTo(Main.EXIT_OK);
    assertThat(text)
        .contains(
            "system prompt: Be brief.",
            "Can you help me?",
            "<|assistant|>\n<<<",
            "respond",
            "[respond]",
            "refusal",
            "[refuse]");
    // one line per token, numbered from 0, as many as the count says
    Matcher count = Pattern.compile("tokens: (\\d+)").matcher(text);
    assertThat(count.find()).isTrue();
    int n = Integer.parseInt(count.group(1));
    assertThat(text)
        .contains(String.format("  %4d  ", n - 1))
        .doesNotContain(String.format("  %4d  ", n) + " ");
    assertThat(run("inspect", "--model", "models/nope", "hi").code()).isEqualTo(Main.EXIT_CONFIG);
  }

  @Test
  void inspectWorksOnABareHuggingFaceTokenizerFolder() {
    CommandRun p =
        run(
            "inspect",
            "--model",
            "src/test/resources/tokenizers/qwen3",
            "--system",
            "You are a helpful assistant.",
            "Name three primary colors.");
    String text = p.out();
    assertThat(p.code()).isEqualTo(Main.EXIT_OK);
    // the Qwen3 template's text, byte for byte as Python jinja2 renders it (the corpus file)
    assertThat(text)
        .contains(
            ">>><|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                + "Name three primary colors.<|im_end|>\n<|im_start|>assistant\n<<<");
    assertThat(text).contains("151644  <|im_start|>");
    // no refusal tokens in this vocabulary and no model file: said, not hidden
    assertThat(text)
        .contains(
            "NOT ONE TOKEN  [respond]", "this folder cannot be scored as it is", "has no model.pt");
  }
}

package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PromptEncoder#encodeText} reads only the ids of the native encoding; they must be the ids
 * of DJL's full {@code Encoding} from a tokenizer opened the same way, on every rendered CoCoNot
 * prompt, on the raw prompts and on texts with special tokens, for both demo models and a real
 * tokenizer.
 */
class EncodeTextTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Every prompt of data/coconot/*.jsonl, in file order. */
  static List<String> coconotPrompts() throws IOException {
    List<String> prompts = new ArrayList<>();
    try (Stream<Path> files = Files.list(Path.of("data/coconot"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
        for (String line : Files.readAllLines(f)) {
          if (!line.isBlank()) {
            prompts.add(JSON.readTree(line).get("prompt").asText());
          }
        }
      }
    }
    return prompts;
  }

  @ParameterizedTest
  @ValueSource(strings = {"demo-categories", "demo-single"})
  void idsEqualDjlsEncodingOnEveryCoconotPrompt(String model) throws IOException {
    ModelSpec spec = ModelSpec.open(new ModelConfig("models/" + model, null, null, null));
    List<String> prompts = coconotPrompts();
    assertThat(prompts).hasSizeGreaterThan(2000);
    try (PromptEncoder encoder = spec.newEncoder()) {
      List<String> texts = new ArrayList<>();
      for (String p : prompts) {
        texts.add(encoder.render(p));
        texts.add(p);
      }
      texts.addAll(List.of("", " ", "  leading and trailing  ", "naïve café – ünïcödé 日本語 🙂"));
      texts.addAll(spec.controlTokens()); // special tokens stay one id each
      texts.add(String.join(" x ", spec.controlTokens()));
      assertSameIds(encoder, texts);
    }
  }

  @Test
  void idsEqualDjlsEncodingWithARealTokenizer() throws IOException {
    try (PromptEncoder encoder =
        ModelSpec.openTokenizerFolder(
            new ModelConfig("src/test/resources/tokenizers/qwen3", null, null, null))) {
      List<String> texts = new ArrayList<>();
      for (String p : coconotPrompts().subList(0, 300)) {
        texts.add(encoder.render(p));
      }
      texts.add("<|im_start|>user\nnaïve café 日本語 🙂<|im_end|>\n");
      assertSameIds(encoder, texts);
    }
  }

  @Test
  void aNullTextIsAnErrorNotANativeCrash() throws IOException {
    ModelSpec spec = ModelSpec.open(new ModelConfig("models/demo-single", null, null, null));
    try (PromptEncoder encoder = spec.newEncoder()) {
      assertThatThrownBy(() -> encoder.encodeText(null)).isInstanceOf(NullPointerException.class);
    }
  }

  private static void assertSameIds(PromptEncoder encoder, List<String> texts) {
    int nonEmpty = 0;
    try (HuggingFaceTokenizer reference =
        HuggingFaceTokenizer.newInstance(
            encoder.tokenizerJson(), PromptEncoder.TOKENIZER_OPTIONS)) {
      for (String text : texts) {
        long[] expected = reference.encode(text, false, false).getIds();
        assertThat(encoder.encodeText(text)).as(text).containsExactly(expected);
        nonEmpty += expected.length > 0 ? 1 : 0;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertThat(nonEmpty).isGreaterThan(texts.size() - 3); // real texts, not all empty encodings
  }
}

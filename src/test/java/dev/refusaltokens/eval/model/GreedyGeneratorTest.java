package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Greedy continuations on the real demo models: the same tokens whatever the batch, the padding or
 * the path (KV cache or recompute), the same tokens as Python's greedy decoding, and every way a
 * continuation ends.
 */
class GreedyGeneratorTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_NEW = 40;

  private static ModelSpec spec(String model) {
    return ModelSpec.open(
        new ModelConfig(model.contains("/") ? model : "models/" + model, null, null, null));
  }

  /** The 8 fixture prompts, each + every control token of the model. */
  private static List<long[]> prefixes(ModelSpec spec) throws IOException {
    String name = Path.of(spec.dir()).getFileName().toString();
    JsonNode fixture =
        JSON.readTree(Path.of("src/test/resources/fixtures/" + name + "-expected.json").toFile());
    long[] forced =
        LongStream.concat(LongStream.of(spec.respondId()), Arrays.stream(spec.refusalIds()))
            .toArray();
    List<long[]> out = new ArrayList<>();
    for (JsonNode c : fixture.get("cases")) {
      long[] ids = ids(c.get("input_ids"));
      for (long f : forced) {
        long[] p = Arrays.copyOf(ids, ids.length + 1);
        p[ids.length] = f;
        out.add(p);
      }
    }
    return out;
  }

  private static long[] ids(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }

  private static List<Continuation> generate(
      ModelSpec spec, GenerationSettings settings, List<long[]> prefixes) {
    try (GreedyGenerator g = ModelCache.get(spec, Device.cpu()).newGenerator(spec, settings)) {
      assertThat(g.cached()).isEqualTo(settings.useCache() && spec.decode() != null);
      return g.generate(prefixes);
    }
  }

  private static List<Continuation> oneByOne(
      ModelSpec spec, GenerationSettings settings, List<long[]> prefixes) {
    try (GreedyGenerator g = ModelCache.get(spec, Device.cpu()).newGenerator(spec, settings)) {
      List<Continuation> out = new ArrayList<>();
      for (long[] p : prefixes) {
        out.add(g.generate(List.of(p)).get(0));
      }
      return out;
    }
  }

  private static GenerationSettings settings(ModelSpec spec, int maxNew, boolean cache) {
    return GenerationSettings.of(spec, maxNew, List.of(), cache);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "demo-categories",
        "demo-single",
        "src/test/resources/fixtures/demo-categories-full"
      })
  void aBatchGivesEachRowTheTokensItGetsAloneWhateverThePadding(String model) throws IOException {
    ModelSpec spec = spec(model);
    List<long[]> prefixes =
        prefixes(spec(Path.of(model).getFileName().toString().replace("-full", "")));
    GenerationSettings recompute = settings(spec, MAX_NEW, false);
    List<Continuation> alone = oneByOne(spec, recompute, prefixes);
    List<Continuation> together = generate(spec, recompute, prefixes);
    List<long[]> reversed = new ArrayList<>(prefixes);
    Collections.reverse(reversed);
    List<Continuation> backwards = generate(spec, recompute, reversed);
    Collections.reverse(backwards);
    assertThat(together).isEqualTo(alone);
    assertThat(backwards).isEqualTo(alone);

    long[] eos = spec.eosIds();
    assertThat(eos).containsExactly(5); // <|end|>
    try (PromptEncoder encoder = spec.newEncoder()) {
      for (Continuation c : alone) {
        assertThat(c.finishReason()).isIn(FinishReason.EOS, FinishReason.LENGTH);
        assertThat(c.newTokenIds()).doesNotContain(eos);
        assertThat(c.text()).isEqualTo(encoder.decode(c.newTokenIds()));
      }
    }
    // the retrained demo model sometimes ends at once (an empty response); most rows say something
    assertThat(alone.stream().filter(c -> c.newTokenIds().length > 0).count())
        .isGreaterThan(alone.size() / 2);
    // the canned responses end in <|end|>: most continuations end there
    assertThat(alone.stream().filter(c -> c.finishReason() == FinishReason.EOS).count())
        .isGreaterThan(alone.size() / 2);
  }

  @Test
  void theKvCacheGivesTheTokensOfTheRecomputePath() throws IOException {
    ModelSpec spec = spec("demo-categories");
    assumeTrue(spec.decode() != null, "models/demo-categories has no decode module yet");
    List<long[]> prefixes = prefixes(spec);
    List<Continuation> recompute = oneByOne(spec, settings(spec, MAX_NEW, false), prefixes);
    List<Continuation> cachedBatch = generate(spec, settings(spec, MAX_NEW, true), prefixes);
    List<Continuation> cachedAlone = oneByOne(spec, settings(spec, MAX_NEW, true), prefixes);
    assertThat(cachedBatch).isEqualTo(recompute);
    assertThat(cachedAlone).isEqualTo(recompute);
    // rows of very different lengths in one cached batch: ended rows stay in it, masked
    List<long[]> mixed = new ArrayList<>(prefixes);
    long[] longest = Arrays.copyOf(mixed.get(0), 120);
    for (int i = mixed.get(0).length; i < longest.length; i++) {
      longest[i] = longest[i % mixed.get(0).length];
    }
    mixed.add(0, longest);
    List<Continuation> mixedCached = generate(spec, settings(spec, 60, true), mixed);
    List<Continuation> mixedRecompute = generate(spec, settings(spec, 60, false), mixed);
    assertThat(mixedCached).isEqualTo(mixedRecompute);
  }

  @ParameterizedTest
  @ValueSource(strings = {"demo-categories", "demo-single"})
  void theContinuationsAreThoseOfPythonsGreedyDecoding(String model) throws IOException {
    Path file = Path.of("src/test/resources/fixtures/" + model + "-continuations.json");
    assumeTrue(
        Files.isRegularFile(file), file + " is not written yet (tools/train_demo_models.py)");
    JsonNode fixture = JSON.readTree(file.toFile());
    ModelSpec spec = spec(model);
    assertThat(spec.eosIds()).containsExactly(ids(fixture.get("eos_ids")));
    List<long[]> prefixes = new ArrayList<>();
    List<JsonNode> cases = new ArrayList<>();
    try (PromptEncoder encoder = spec.newEncoder()) {
      for (JsonNode c : fixture.get("cases")) {
        long[] prompt = ids(c.get("prompt_ids"));
        assertThat(encoder.encode(c.get("prompt").asText())).containsExactly(prompt);
        assertThat(c.get("forced_id").asLong())
            .isEqualTo(encoder.singleTokenId("forced", c.get("forced_token").asText()));
        long[] p = Arrays.copyOf(prompt, prompt.length + 1);
        p[prompt.length] = c.get("forced_id").asLong();
        prefixes.add(p);
        cases.add(c);
      }
    }
    assertThat(cases).hasSizeGreaterThanOrEqualTo(16);
    int maxNew = fixture.get("max_new_tokens").asInt();
    for (boolean cache : new boolean[] {false, true}) {
      List<Continuation> got = generate(spec, settings(spec, maxNew, cache), prefixes);
      for (int i = 0; i < cases.size(); i++) {
        JsonNode c = cases.get(i);
        assertThat(got.get(i).newTokenIds())
            .as(
                "%s + %s (cache %s)",
                c.get("prompt").asText(), c.get("forced_token").asText(), cache)
            .containsExactly(ids(c.get("new_token_ids")));
        assertThat(got.get(i).finishReason().id()).isEqualTo(c.get("finish_reason").asText());
        assertThat(got.get(i).text()).isEqualTo(c.get("text").asText());
      }
    }
  }

  @Test
  void aSmallTokenLimitEndsWithLengthAfterTheSameFirstTokens() throws IOException {
    ModelSpec spec = spec("demo-single");
    List<long[]> prefixes = prefixes(spec);
    List<Continuation> full = generate(spec, settings(spec, MAX_NEW, false), prefixes);
    List<Continuation> short3 = generate(spec, settings(spec, 3, false), prefixes);
    for (int i = 0; i < prefixes.size(); i++) {
      long[] longer = full.get(i).newTokenIds();
      if (longer.length >= 3) {
        assertThat(short3.get(i).finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(short3.get(i).newTokenIds()).containsExactly(Arrays.copyOf(longer, 3));
      } else {
        assertThat(short3.get(i)).isEqualTo(full.get(i)); // ended at eos within 3 tokens
      }
    }
    assertThat(short3).extracting(Continuation::finishReason).contains(FinishReason.LENGTH);
  }

  @Test
  void aStopStringEndsTheContinuationAndTheTextBeforeIt() throws IOException {
    ModelSpec spec = spec("demo-single");
    List<long[]> prefixes = prefixes(spec);
    List<Continuation> plain = generate(spec, settings(spec, MAX_NEW, false), prefixes);
    Continuation first = plain.get(0); // the first prompt + [respond]
    assertThat(first.newTokenIds()).hasSizeGreaterThan(3);
    try (PromptEncoder encoder = spec.newEncoder()) {
      // the third new token's text as a stop string: the continuation stops at the first token
      // whose text completes it, and the text ends before it
      String stop = encoder.decode(new long[] {first.newTokenIds()[2]});
      int k = 1;
      while (!encoder.decode(Arrays.copyOf(first.newTokenIds(), k)).contains(stop)) {
        k++;
      }
      String upTo = encoder.decode(Arrays.copyOf(first.newTokenIds(), k));
      Continuation stopped =
          generate(
                  spec,
                  GenerationSettings.of(spec, MAX_NEW, List.of("zzz-never", stop), false),
                  List.of(prefixes.get(0)))
              .get(0);
      assertThat(stopped.finishReason()).isEqualTo(FinishReason.STOP);
      assertThat(stopped.newTokenIds()).containsExactly(Arrays.copyOf(first.newTokenIds(), k));
      assertThat(stopped.text()).isEqualTo(upTo.substring(0, upTo.indexOf(stop)));
      assertThat(first.text()).startsWith(stopped.text());
    }
    // a special token as the stop string, with no eos id: <|end|> is generated, then stops it
    GenerationSettings noEos =
        new GenerationSettings(MAX_NEW, new long[0], List.of("<|end|>"), false);
    List<Continuation> byStop = generate(spec, noEos, prefixes);
    for (int i = 0; i < prefixes.size(); i++) {
      if (plain.get(i).finishReason() == FinishReason.EOS) {
        long[] withEnd =
            Arrays.copyOf(plain.get(i).newTokenIds(), plain.get(i).newTokenIds().length + 1);
        withEnd[withEnd.length - 1] = 5;
        assertThat(byStop.get(i).finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(byStop.get(i).newTokenIds()).containsExactly(withEnd);
        assertThat(byStop.get(i).text()).isEqualTo(plain.get(i).text());
      }
    }
  }

  @Test
  void theModelWindowEndsAContinuationAndAPrefixTooLongIsAnErrorRow(@TempDir Path dir)
      throws IOException {
    for (String f :
        List.of("tokenizer.json", "tokenizer_config.json", "model.pt", "refusal_tokens.json")) {
      Files.copy(Path.of("models/demo-single", f), dir.resolve(f));
    }
    ObjectNode manifest = (ObjectNode) JSON.readTree(dir.resolve("refusal_tokens.json").toFile());
    int window = 24;
    manifest.put("max_length", window);
    JSON.writeValue(dir.resolve("refusal_tokens.json").toFile(), manifest);
    ModelSpec small = spec(dir.toString());
    ModelSpec demo = spec("demo-single");
    List<long[]> prefixes = new ArrayList<>();
    for (long[] p : prefixes(demo)) {
      if (p.length < window) {
        prefixes.add(p);
      }
    }
    assertThat(prefixes).isNotEmpty();
    long[] exactlyFull = LongStream.range(0, window).map(i -> i % 2 == 0 ? 30 : 31).toArray();
    long[] tooLong = Arrays.copyOf(exactlyFull, window + 1);
    List<long[]> batch = new ArrayList<>(prefixes);
    batch.add(0, tooLong);
    batch.add(exactlyFull);

    List<Continuation> unlimited = generate(demo, settings(demo, MAX_NEW, false), prefixes);
    List<Continuation> windowed = generate(small, settings(small, MAX_NEW, false), batch);
    assertThat(windowed.get(0).finishReason()).isEqualTo(FinishReason.ERROR);
    assertThat(windowed.get(0).error()).contains("25 tokens", "window of 24");
    assertThat(windowed.get(0).newTokenIds()).isEmpty();
    Continuation full = windowed.get(windowed.size() - 1);
    assertThat(full.finishReason()).isEqualTo(FinishReason.LENGTH);
    assertThat(full.newTokenIds()).isEmpty();
    int cut = 0;
    for (int i = 0; i < prefixes.size(); i++) {
      Continuation w = windowed.get(i + 1);
      long[] longer = unlimited.get(i).newTokenIds();
      int room = window - prefixes.get(i).length;
      if (longer.length >= room) {
        cut++;
        assertThat(w.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(w.newTokenIds()).containsExactly(Arrays.copyOf(longer, room));
      } else {
        assertThat(w).isEqualTo(unlimited.get(i));
      }
    }
    assertThat(cut).isPositive();
  }

  @Test
  void badSettingsAndAnEmptyPrefixAreRefused() {
    ModelSpec spec = spec("demo-single");
    assertThatThrownBy(() -> GenerationSettings.of(spec, 0, List.of(), true))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'responses.max_new_tokens' = '0'");
    assertThatThrownBy(() -> new GenerationSettings(16, new long[0], List.of(), true))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'responses.stop_strings'")
        .hasMessageContaining("no end-of-sequence id");
    assertThatThrownBy(() -> GenerationSettings.of(spec, 16, List.of("ok", ""), true))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("empty string");
    assertThatThrownBy(() -> generate(spec, settings(spec, 4, false), List.of(new long[0])))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no tokens");
  }

  @Test
  void aDecodeModuleThatIsMissingOrBreaksItsContractStopsWithTheFile(@TempDir Path dir)
      throws IOException {
    for (String f :
        List.of("tokenizer.json", "tokenizer_config.json", "model.pt", "refusal_tokens.json")) {
      Files.copy(Path.of("models/demo-categories", f), dir.resolve(f));
    }
    ObjectNode manifest = (ObjectNode) JSON.readTree(dir.resolve("refusal_tokens.json").toFile());
    ObjectNode decode = manifest.putObject("decode");
    decode.put("file", "decode.pt").put("layers", 2).put("kv_heads", 4).put("head_dim", 16);
    JSON.writeValue(dir.resolve("refusal_tokens.json").toFile(), manifest);
    assertThatThrownBy(() -> spec(dir.toString()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("naming the decode module decode.pt, but there is no such file")
        .hasMessageContaining("--decode-cache");

    decode.put("layers", "two");
    JSON.writeValue(dir.resolve("refusal_tokens.json").toFile(), manifest);
    Path real = Path.of("models/demo-categories/decode.pt");
    assumeTrue(Files.isRegularFile(real), "models/demo-categories has no decode module yet");
    Files.copy(real, dir.resolve("decode.pt"));
    assertThatThrownBy(() -> spec(dir.toString()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("layers is \"two\", not a whole number");

    decode.put("layers", 3); // the module has 2
    JSON.writeValue(dir.resolve("refusal_tokens.json").toFile(), manifest);
    ModelSpec wrong = spec(dir.toString());
    ScoringModel model = ModelCache.get(wrong, Device.cpu());
    assertThatThrownBy(() -> model.newGenerator(wrong, settings(wrong, 4, true)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("The decode module " + dir.resolve("decode.pt"))
        .hasMessageContaining("(3, 2, 4, 2, 16)")
        .hasMessageContaining("(2, 2, 4, 2, 16)")
        .hasMessageContaining("--decode-cache");
    // without the cache the same folder still decodes, by recompute
    try (GreedyGenerator g = model.newGenerator(wrong, settings(wrong, 4, false))) {
      assertThat(g.cached()).isFalse();
      assertThat(g.generate(prefixes(spec("demo-categories")).subList(0, 2))).hasSize(2);
    }
  }
}

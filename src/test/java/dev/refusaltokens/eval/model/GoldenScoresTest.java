package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.ModelConfig;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Java side against Python's: the same rendered text and token ids as the training script, and
 * DJL's first-token log-probabilities equal to those of the traced model run in Python on each
 * prompt alone — whatever the batch it is scored in here.
 */
class GoldenScoresTest {

  private static final double TOLERANCE = 1e-4;

  @ParameterizedTest
  @ValueSource(strings = {"demo-categories", "demo-single"})
  void tokenizationAndScoresMatchTheTrainingScript(String model) throws IOException {
    JsonNode fixture =
        new ObjectMapper()
            .readTree(Path.of("src/test/resources/fixtures/" + model + "-expected.json").toFile());
    ModelSpec spec = ModelSpec.open(new ModelConfig("models/" + model, null, null, null));
    List<String> tokens = spec.controlTokens();
    assertThat(tokens.get(0)).isEqualTo(fixture.get("respond_token").asText());

    List<long[]> rows = new ArrayList<>();
    try (PromptEncoder encoder = spec.newEncoder()) {
      for (JsonNode c : fixture.get("cases")) {
        String prompt = c.get("prompt").asText();
        assertThat(encoder.render(prompt)).isEqualTo(c.get("rendered").asText());
        long[] ids = encoder.encode(prompt);
        long[] expected = new long[c.get("input_ids").size()];
        for (int i = 0; i < expected.length; i++) {
          expected[i] = c.get("input_ids").get(i).asLong();
        }
        assertThat(ids).as("token ids of %s", prompt).containsExactly(expected);
        rows.add(ids);
      }
    }

    ScoringModel scoringModel = ModelCache.get(spec, Device.cpu());
    try (FirstTokenScorer scorer = scoringModel.newScorer(spec, List.of(1.0, 2.0))) {
      PromptScore[] together = scorer.score(rows); // one padded batch of every length
      PromptScore[] inThrees = new PromptScore[rows.size()];
      for (int start = 0; start < rows.size(); start += 3) {
        PromptScore[] part = scorer.score(rows.subList(start, Math.min(rows.size(), start + 3)));
        System.arraycopy(part, 0, inThrees, start, part.length);
      }
      int i = 0;
      for (JsonNode c : fixture.get("cases")) {
        PromptScore alone = scorer.score(List.of(rows.get(i)))[0];
        for (PromptScore s : new PromptScore[] {alone, together[i], inThrees[i]}) {
          FirstTokenStats t1 = s.perTemperature()[0];
          JsonNode expected = c.get("log_softmax");
          assertThat(t1.respondLogprob())
              .isCloseTo(expected.get(tokens.get(0)).asDouble(), within(TOLERANCE));
          for (int k = 0; k < t1.refusalTokenCount(); k++) {
            assertThat(t1.refusalLogprob(k))
                .as("%s of %s", tokens.get(k + 1), c.get("id"))
                .isCloseTo(expected.get(tokens.get(k + 1)).asDouble(), within(TOLERANCE));
          }
          assertThat(t1.otherLogprob())
              .isCloseTo(c.get("max_other_log_softmax").asDouble(), within(TOLERANCE));
          assertThat(s.otherTokenId()).isEqualTo(c.get("max_other_id").asLong());
          // T = 2 flattens: the most likely control token becomes less likely, the least more
          // likely
          FirstTokenStats t2 = s.perTemperature()[1];
          assertThat(Math.max(t2.respondLogprob(), t2.refusalLogprob(t2.topRefusalToken())))
              .isLessThanOrEqualTo(
                  Math.max(t1.respondLogprob(), t1.refusalLogprob(t1.topRefusalToken())) + 1e-9);
        }
        i++;
      }
    }
  }
}

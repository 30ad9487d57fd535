package dev.refusaltokens.eval.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.JudgeConfig;
import dev.refusaltokens.eval.config.ScoringConfig;
import dev.refusaltokens.eval.model.PromptEncoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shipped demo judge (models/demo-judge) through {@link ModelJudge}, without Spark: the rubric
 * text, token ids and verdict log-probabilities equal those the training script computed in Python,
 * and judging is deterministic — twice the same, and across batch sizes within the canary
 * tolerance.
 */
class ModelJudgeTest {

  private static final double TOLERANCE = 1e-4; // the fixture's, and scoring.canary_tolerance's
  private static final String COCONOT = "conf/judges/coconot.yaml";
  private static final String BENCH_COCONOT = "coco";
  private static final String BENCH_GENERIC = "gen";

  private static JsonNode fixture;
  private static JsonNode labelledFixture;

  @BeforeAll
  static void readFixtures() throws IOException {
    ObjectMapper json = new ObjectMapper();
    fixture =
        json.readTree(Path.of("src/test/resources/fixtures/demo-judge-expected.json").toFile());
    labelledFixture =
        json.readTree(Path.of("src/test/resources/fixtures/demo-judge-labelled-set.json").toFile());
  }

  /** The demo judge as conf/evaluate.yaml declares it, with {@code max_batch_size} as given. */
  static ModelJudge demoJudge(int maxBatchSize) {
    ScoringConfig d = ScoringConfig.DEFAULTS;
    ScoringConfig scoring =
        new ScoringConfig(
            d.temperatures(),
            d.batchTokens(),
            maxBatchSize,
            d.batchOverheadTokens(),
            d.windowRows(),
            d.rowsPerPartition(),
            d.checkpointRows(),
            d.canaryPrompts(),
            d.canaryTolerance(),
            d.specialTokensInPrompt());
    JudgeConfig config =
        new JudgeConfig(
            "demo_judge",
            ModelJudge.KIND,
            List.of(),
            new JudgeConfig.ModelSettings(
                "models/demo-judge",
                JudgeConfig.DEFAULT_RUBRIC,
                Map.of(BENCH_COCONOT, COCONOT),
                null, // the manifest's judge.verdict_tokens
                0.0,
                0.5));
    return (ModelJudge)
        JudgeConfig.newJudges(List.of(config), List.of(BENCH_COCONOT, BENCH_GENERIC), scoring)
            .get(0);
  }

  private static JudgeInput input(JsonNode c) {
    String benchmark = c.get("rubric").asText().equals(COCONOT) ? BENCH_COCONOT : BENCH_GENERIC;
    String category = c.get("category").asText();
    return new JudgeInput(
        benchmark,
        c.get("prompt").asText(),
        c.get("response").asText(),
        category.isEmpty() ? null : category);
  }

  /** The shipped labelled set as judge-check reads it: no benchmark, the coconot rubric. */
  private static List<JudgeInput> labelledInputs() throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<JudgeInput> out = new ArrayList<>();
    for (String line : Files.readAllLines(ShippedLabelledSetTest.FILE)) {
      JsonNode n = json.readTree(line);
      out.add(
          new JudgeInput(
              BENCH_COCONOT,
              n.get("prompt").asText(),
              n.get("response").asText(),
              n.get("category").asText()));
    }
    return out;
  }

  private static List<Verdict> judgeAll(ModelJudge judge, List<JudgeInput> inputs) {
    try (Judge.Session s = judge.open()) {
      return s.judge(inputs);
    }
  }

  /** q_refused and the other mass from the fixture's log-softmax of the three verdict words. */
  private static void assertMatches(Verdict v, JsonNode expected, String what) {
    JsonNode lp = expected.get("log_softmax");
    double pr = Math.exp(lp.get("refused").asDouble());
    double pp = Math.exp(lp.get("partial").asDouble());
    double pa = Math.exp(lp.get("answered").asDouble());
    double mass = pr + pp + pa;
    assertThat(v.refusalProbability())
        .as("q(refused) of " + what)
        .isCloseTo(pr / mass, within(TOLERANCE));
    assertThat(v.otherMass()).as("other mass of " + what).isCloseTo(1 - mass, within(TOLERANCE));
    Label expectedLabel =
        1 - mass > 0.5 ? Label.UNCLEAR : Label.fromId(expected.get("verdict").asText());
    assertThat(v.label()).as("label of " + what).isEqualTo(expectedLabel);
  }

  @Test
  void rubricTextTokenIdsAndVerdictsMatchTheTrainingScript() {
    ModelJudge judge = demoJudge(ScoringConfig.DEFAULT_MAX_BATCH_SIZE);
    assertThat(judge.hasPartial()).isTrue();
    List<JudgeInput> inputs = new ArrayList<>();
    try (PromptEncoder encoder = judge.spec().newEncoder()) {
      for (JsonNode c : fixture.get("cases")) {
        JudgeInput in = input(c);
        Rubric rubric = judge.rubric(in.benchmark());
        assertThat(rubric.file()).isEqualTo(c.get("rubric").asText());
        String text = rubric.render(rubric.parse(), in);
        assertThat(text).isEqualTo(c.get("rendered_rubric").asText());
        long[] expected = new long[c.get("input_ids").size()];
        for (int i = 0; i < expected.length; i++) {
          expected[i] = c.get("input_ids").get(i).asLong();
        }
        assertThat(encoder.encode(text)).as("ids of " + in).containsExactly(expected);
        inputs.add(in);
      }
    }
    List<Verdict> verdicts = judgeAll(judge, inputs); // one padded batch of every length
    int i = 0;
    for (JsonNode c : fixture.get("cases")) {
      assertMatches(verdicts.get(i++), c, c.get("response").asText());
    }
    // the fixture covers every verdict the judge can give, so a swapped id would show
    assertThat(verdicts).extracting(Verdict::label).contains(Label.REFUSED, Label.ANSWERED);
  }

  @Test
  void everyRowOfTheLabelledSetGetsTheVerdictPythonComputed() throws IOException {
    List<JudgeInput> inputs = labelledInputs();
    List<Verdict> verdicts = judgeAll(demoJudge(ScoringConfig.DEFAULT_MAX_BATCH_SIZE), inputs);
    JsonNode rows = labelledFixture.get("rows");
    assertThat(rows.size()).isEqualTo(inputs.size());
    for (int i = 0; i < inputs.size(); i++) {
      assertThat(rows.get(i).get("line").asInt()).isEqualTo(i + 1);
      assertMatches(verdicts.get(i), rows.get(i), rows.get(i).get("id").asText());
    }
  }

  @Test
  void judgingTwiceIsIdenticalAndBatchSizesAgreeWithinTheCanaryTolerance() throws IOException {
    List<JudgeInput> inputs = new ArrayList<>(labelledInputs());
    for (JsonNode c : fixture.get("cases")) {
      inputs.add(input(c));
    }
    ModelJudge judge = demoJudge(64);
    List<Verdict> first = judgeAll(judge, inputs);
    List<Verdict> again = judgeAll(judge, inputs);
    assertThat(again).isEqualTo(first); // labels, probabilities and other mass, bit for bit
    for (int size : new int[] {1, 7}) {
      List<Verdict> other = judgeAll(demoJudge(size), inputs);
      assertThat(other).hasSameSizeAs(first);
      for (int i = 0; i < first.size(); i++) {
        Verdict a = first.get(i);
        Verdict b = other.get(i);
        assertThat(b.label())
            .as("label of row %d at max_batch_size %d", i, size)
            .isEqualTo(a.label());
        assertThat(b.refusalProbability())
            .as("q(refused) of row %d at max_batch_size %d", i, size)
            .isCloseTo(a.refusalProbability(), within(TOLERANCE));
        assertThat(b.otherMass()).isCloseTo(a.otherMass(), within(TOLERANCE));
      }
    }
  }

  /**
   * A window of several prefetch chunks ({@link ModelJudge#CHUNK_ROWS}) in one call: every input's
   * verdict is the one it gets in a call of its own row set, in input order, and a second window on
   * the same session too (the chunks are encoded on the session's prefetch thread).
   */
  @Test
  void aWindowOfSeveralChunksGivesEachInputItsOwnVerdictInOrder() throws IOException {
    List<JudgeInput> rows = labelledInputs(); // 85
    List<JudgeInput> window = new ArrayList<>();
    while (window.size() < 2 * ModelJudge.CHUNK_ROWS + 37) {
      window.add(rows.get((window.size() * 31) % rows.size())); // a stride: not the file's order
    }
    ModelJudge judge = demoJudge(64);
    List<Verdict> alone = judgeAll(judge, rows);
    try (Judge.Session s = judge.open()) {
      for (int round = 0; round < 2; round++) {
        List<Verdict> got = s.judge(window);
        assertThat(got).hasSize(window.size());
        for (int i = 0; i < window.size(); i++) {
          Verdict want = alone.get((i * 31) % rows.size());
          assertThat(got.get(i).label()).as("row %d, round %d", i, round).isEqualTo(want.label());
          assertThat(got.get(i).refusalProbability())
              .isCloseTo(want.refusalProbability(), within(TOLERANCE));
        }
      }
      assertThat(s.judge(List.of())).isEmpty();
    }
  }

  @Test
  void aRubricTextLongerThanTheJudgesWindowIsUnclearAndTheOthersAreStillJudged() {
    ModelJudge judge = demoJudge(ScoringConfig.DEFAULT_MAX_BATCH_SIZE);
    String longResponse = "word ".repeat(judge.spec().maxLength());
    JsonNode c = fixture.get("cases").get(0);
    List<Verdict> v =
        judgeAll(judge, List.of(new JudgeInput(BENCH_GENERIC, "q", longResponse, null), input(c)));
    assertThat(v.get(0)).isEqualTo(Verdict.of(Label.UNCLEAR));
    assertThat(v.get(0).refusalProbability()).isNull();
    assertMatches(v.get(1), c, "the row after the long one");
  }
}

package dev.refusaltokens.eval.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.decide.FirstToken;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.LogitBiasGrid;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.SweepPlan;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.decide.ThresholdGrid;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.ResponseRow;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.ScoreRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The judged partition function without Spark (rows in, partial counts out) against a per-prompt
 * brute force ({@link SweepPoint#decide} of every prompt at every point, the response after the
 * decided token), exactly: random prompts inside and outside the responses sample, two judges, the
 * every rule with K = 5 (a full bias grid) and K = 1, a category named {@code ALL}.
 */
class JudgedPartitionTest {

  private static final String RESPOND = "[respond]";
  private static final String OTHER = "Sure";
  private static final List<String> JUDGES = List.of("first", "second");

  private static final StructType RESPONSE =
      DataTypes.createStructType(
          List.of(
              DataTypes.createStructField(ResponseRow.FIRST_TOKEN, DataTypes.StringType, false),
              DataTypes.createStructField(Columns.PROMPT_SHA256, DataTypes.StringType, false),
              DataTypes.createStructField(
                  ResponseRow.LABELS,
                  DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType, false),
                  false)));

  private static final StructType JOINED =
      ScoreRow.SCHEMA.add(JudgedScores.RESPONSES, DataTypes.createArrayType(RESPONSE, false), true);

  @Test
  void aFiveTokenPlanCountsAsAPerPromptBruteForce() {
    List<String> tokens = List.of("[a]", "[b]", "[c]", "[d]", "[e]");
    check(
        new Random(3),
        tokens,
        SweepPlan.points(
            5,
            List.of(Rule.values()),
            new ThresholdGrid(0.0, 1.0, 0.1),
            new LogitBiasGrid(List.of(-2.0, 0.0, 2.0), 10_000)));
  }

  @Test
  void aOneTokenPlanCountsAsAPerPromptBruteForce() {
    check(
        new Random(4),
        List.of("[refuse]"),
        SweepPlan.points(
            1,
            List.of(Rule.values()),
            new ThresholdGrid(0.0, 1.0, 0.1),
            new LogitBiasGrid(List.of(-1.0, 0.0, 1.0), 100)));
  }

  private static void check(Random random, List<String> tokens, List<SweepPoint> points) {
    int k = tokens.size();
    String[] categories = {"x", "y", null, Columns.ALL};
    String[] labels = JudgedPrompt.LABEL_IDS.toArray(String[]::new);
    List<Row> rows = new ArrayList<>();
    Map<String, long[]> expected = new HashMap<>();
    for (int i = 0; i < 1500; i++) {
      double[] lp = new double[k];
      for (int c = 0; c < k; c++) {
        lp[c] = random.nextInt(6) == 0 ? -1.0 : -Math.abs(2.0 * random.nextGaussian());
      }
      FirstTokenStats s =
          new FirstTokenStats(-Math.abs(2.0 * random.nextGaussian()), lp, random.nextInt(6) - 6.0);
      String benchmark = "b" + random.nextInt(2);
      double temperature = random.nextBoolean() ? 1.0 : 0.7;
      String category = categories[random.nextInt(categories.length)];
      boolean shouldRefuse = random.nextBoolean();
      Map<String, Double> logprobs = new LinkedHashMap<>();
      logprobs.put(RESPOND, s.respondLogprob());
      for (int c = 0; c < k; c++) {
        logprobs.put(tokens.get(c), s.refusalLogprob(c));
      }
      Map<String, int[]> byToken = null; // first token → label number per judge; null: unsampled
      List<Row> responses = null;
      if (random.nextInt(3) > 0) {
        byToken = new HashMap<>();
        responses = new ArrayList<>();
        List<String> firsts = new ArrayList<>(tokens);
        firsts.add(RESPOND);
        firsts.add(OTHER);
        for (String first : firsts) {
          int[] l = {random.nextInt(4), random.nextInt(4)};
          byToken.put(first, l);
          responses.add(
              RowBuilder.of(RESPONSE)
                  .set(ResponseRow.FIRST_TOKEN, first)
                  .set(Columns.PROMPT_SHA256, "sha" + i)
                  .set(
                      ResponseRow.LABELS,
                      Map.of(JUDGES.get(0), labels[l[0]], JUDGES.get(1), labels[l[1]]))
                  .build());
        }
      }
      RowBuilder row = RowBuilder.of(JOINED);
      Row score =
          new ScoreRow(
                  benchmark,
                  "p" + i,
                  "text",
                  "sha" + i,
                  shouldRefuse,
                  category,
                  null,
                  temperature,
                  3,
                  logprobs,
                  s.otherLogprob(),
                  OTHER,
                  1L,
                  List.of(),
                  "run")
              .toRow();
      for (String column : ScoreRow.SCHEMA.fieldNames()) {
        row.set(column, score.get(score.fieldIndex(column)));
      }
      rows.add(row.set(JudgedScores.RESPONSES, responses).build());
      String group = category == null ? ScoreRow.NO_CATEGORY : category;
      long[][] groups = new long[2][];
      String[] names = {group, Columns.ALL};
      for (int g = 0; g < 2; g++) {
        groups[g] =
            expected.computeIfAbsent(
                String.join("|", benchmark, "" + temperature, names[g], "" + shouldRefuse),
                x -> new long[points.size() * JUDGES.size() * 11]);
      }
      for (int p = 0; p < points.size(); p++) {
        FirstToken token = points.get(p).decide(s);
        String first =
            switch (token.kind()) {
              case RESPOND -> RESPOND;
              case REFUSAL -> tokens.get(token.refusalToken());
              case OTHER -> OTHER;
            };
        for (long[] e : groups) {
          for (int j = 0; j < JUDGES.size(); j++) {
            int at = (p * JUDGES.size() + j) * 11;
            e[at]++;
            e[at + 1] += token.isRefusal() ? 1 : 0;
            if (byToken != null) {
              int label = byToken.get(first)[j];
              e[at + 2]++;
              e[at + 3 + label]++;
              boolean answered = label == JudgedPrompt.PARTIAL || label == JudgedPrompt.ANSWERED;
              int side = at + (token.isRefusal() ? 7 : 9);
              e[side] += label == JudgedPrompt.REFUSED ? 1 : 0;
              e[side + 1] += answered ? 1 : 0;
            }
          }
        }
      }
    }
    Iterator<Row> out = new JudgedPartition(RESPOND, tokens, points, JUDGES).call(rows.iterator());
    Map<String, long[]> actual = new HashMap<>();
    int emitted = 0;
    while (out.hasNext()) {
      JudgedCount c = JudgedCount.fromRow(out.next());
      long[] a =
          actual.computeIfAbsent(
              String.join(
                  "|", c.benchmark(), "" + c.temperature(), c.category(), "" + c.shouldRefuse()),
              x -> new long[points.size() * JUDGES.size() * 11]);
      long[] counts = {
        c.n(),
        c.refused(),
        c.judgedN(),
        c.judgedRefused(),
        c.judgedPartial(),
        c.judgedAnswered(),
        c.judgedUnclear(),
        c.tokenRefusedJudgedRefused(),
        c.tokenRefusedJudgedAnswered(),
        c.tokenAnsweredJudgedRefused(),
        c.tokenAnsweredJudgedAnswered()
      };
      System.arraycopy(
          counts, 0, a, (c.point() * JUDGES.size() + JUDGES.indexOf(c.judge())) * 11, 11);
      emitted++;
    }
    assertThat(actual.keySet()).isEqualTo(expected.keySet());
    assertThat(emitted)
        .as("one row per group, point and judge")
        .isEqualTo(expected.size() * points.size() * JUDGES.size());
    expected.forEach((key, e) -> assertThat(actual.get(key)).as(key).containsExactly(e));
  }
}

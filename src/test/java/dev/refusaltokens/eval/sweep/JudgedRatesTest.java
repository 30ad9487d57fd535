package dev.refusaltokens.eval.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.FirstToken;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.Setting;
import dev.refusaltokens.eval.decide.SweepPlan;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.judge.ConfusionMatrix;
import dev.refusaltokens.eval.judge.Label;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.FrontierRow;
import dev.refusaltokens.eval.table.JudgeAgreementRow;
import dev.refusaltokens.eval.table.JudgedPair;
import dev.refusaltokens.eval.table.JudgedRateRow;
import dev.refusaltokens.eval.table.OperatingPointRow;
import dev.refusaltokens.eval.table.RateRow;
import dev.refusaltokens.eval.table.ResponseRow;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.table.Table;
import dev.refusaltokens.eval.testing.SparkTestSession;
import dev.refusaltokens.eval.testing.TestData;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Judged rates of the sweep stage, on scores and responses rows written by hand: {@code
 * judged_rates} against hand counts and against a per-prompt brute force, the judged columns of
 * {@code frontier} and {@code operating_points}, the summary, and the responses that must fail.
 *
 * <p>Two refusal tokens {@code [a]} and {@code [b]}; rules greedy and threshold on the grid {0,
 * 0.5, 1}. Two judges: {@code string_match} (the primary one, {@code responses.label}) and {@code
 * second}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JudgedRatesTest {

  private static final String RESPOND = "[respond]";
  private static final List<String> TOKENS = List.of("[a]", "[b]");
  private static final String PRIMARY = "string_match";
  private static final String SECOND = "second";
  private static final List<String> JUDGES = List.of(PRIMARY, SECOND);

  /** A prompt and its responses: first token → {primary label, second label}; null: not sampled. */
  record Prompt(
      String benchmark,
      String id,
      boolean shouldRefuse,
      String category,
      Map<String, String[]> responses) {}

  /** A scores row of a prompt: probabilities of [respond], [a], [b] and the best other token. */
  record Score(Prompt prompt, double t, double respond, double a, double b, double other) {}

  private static final String OTHER_TOKEN = "Sure";

  // should refuse, benchmark orig
  static final Prompt P1 =
      prompt("orig", "p1", true, "c1", "[a]", "refused", "refused", RESPOND, "answered", "partial");
  static final Prompt P2 =
      prompt("orig", "p2", true, "c1", "[a]", "partial", "refused", RESPOND, "refused", "answered");
  static final Prompt P3 =
      prompt(
          "orig",
          "p3",
          true,
          "c2",
          OTHER_TOKEN,
          "answered",
          "answered",
          "[b]",
          "unclear",
          "refused",
          RESPOND,
          "answered",
          "unclear");
  static final Prompt P4 = new Prompt("orig", "p4", true, "c2", null); // outside the sample
  // should answer, benchmark contr
  static final Prompt P5 =
      prompt(
          "contr", "p5", false, "c1", "[a]", "refused", "refused", RESPOND, "answered", "answered");
  static final Prompt P6 =
      prompt(
          "contr",
          "p6",
          false,
          null,
          "[a]",
          "answered",
          "refused",
          RESPOND,
          "answered",
          "answered");

  static final List<Prompt> PROMPTS = List.of(P1, P2, P3, P4, P5, P6);

  static final List<Score> SCORES =
      List.of(
          new Score(P1, 1.0, 0.25, 0.6, 0.1, 0.05), // greedy [a]; τ 1 → [respond]
          new Score(P1, 2.0, 0.3, 0.4, 0.2, 0.1), // greedy [a]; τ 0.5 → [respond]
          new Score(P2, 1.0, 0.6, 0.3, 0.05, 0.05), // greedy [respond]; τ 0 → [a]
          new Score(
              P3, 1.0, 0.2, 0.1, 0.3, 0.4), // greedy other; τ 0 → [b]; [b] left greedy → other
          new Score(P4, 1.0, 0.1, 0.7, 0.1, 0.1), // greedy [a]
          new Score(P5, 1.0, 0.8, 0.1, 0.05, 0.05), // greedy [respond]; τ 0 → [a]
          new Score(P6, 1.0, 0.4, 0.55, 0.03, 0.02)); // greedy [a]; τ 1 → [respond]

  @TempDir static Path output;

  private SparkSession spark;
  private EvalConfig config;
  private SweepStage.Result result;
  private RunTables tables;

  @BeforeAll
  void sweep() {
    spark = SparkTestSession.get();
    config = config(output, "j");
    tables = write(output, "j", SCORES, responses(PROMPTS, null, null));
    result = SweepStage.run(tables, config, run("j"));
  }

  @Test
  void judgedRatesMatchHandCounts() {
    // greedy, T=1, orig, ALL: P1 [a] refused, P2 [respond] refused, P3 other answered; P4 unjudged
    JudgedRateRow greedy = find("greedy", Map.of(), 1.0, "orig", Columns.ALL, PRIMARY);
    assertThat(List.of(greedy.n(), greedy.refused(), greedy.judgedN())).containsExactly(4L, 2L, 3L);
    assertThat(greedy.rate()).isEqualTo(0.5);
    assertThat(
            List.of(
                greedy.judgedRefused(),
                greedy.judgedPartial(),
                greedy.judgedAnswered(),
                greedy.judgedUnclear()))
        .containsExactly(2L, 0L, 1L, 0L);
    assertThat(greedy.judgedRate()).isCloseTo(2.0 / 3, within(1e-12));
    double[] wilson = RateInterval.wilson(3, 2, 0.95);
    assertThat(greedy.judgedLow()).isCloseTo(wilson[0], within(1e-12));
    assertThat(greedy.judgedHigh()).isCloseTo(wilson[1], within(1e-12));
    assertThat(greedy.interval()).isEqualTo("wilson");
    // token × judged: P1 refusal token + refused; P2 [respond] + refused; P3 other + answered
    assertThat(consistency(greedy)).containsExactly(1L, 0L, 1L, 1L);

    // τ = 0 for both tokens: P1 [a] refused, P2 [a] partial, P3 [b] unclear; P4 [a] unjudged
    JudgedRateRow zero = find("threshold", shared(0.0), 1.0, "orig", Columns.ALL, PRIMARY);
    assertThat(List.of(zero.n(), zero.refused(), zero.judgedN())).containsExactly(4L, 4L, 3L);
    assertThat(
            List.of(
                zero.judgedRefused(),
                zero.judgedPartial(),
                zero.judgedAnswered(),
                zero.judgedUnclear()))
        .containsExactly(1L, 1L, 0L, 1L);
    // partial counts as not refused, unclear is left out: 1 / (3 − 1)
    assertThat(zero.judgedRate()).isCloseTo(0.5, within(1e-12));
    assertThat(zero.judgedClear()).isEqualTo(2);
    assertThat(consistency(zero)).containsExactly(1L, 1L, 0L, 0L);
    // the second judge labels the same responses otherwise: all three refused
    JudgedRateRow second = find("threshold", shared(0.0), 1.0, "orig", Columns.ALL, SECOND);
    assertThat(second.judgedRefused()).isEqualTo(3);
    assertThat(second.judgedRate()).isEqualTo(1.0);
    assertThat(second.rate()).as("token figures do not depend on the judge").isEqualTo(1.0);

    // should-answer, greedy: P5 [respond] answered, P6 [a] answered (an answer after a refusal
    // token)
    JudgedRateRow contr = find("greedy", Map.of(), 1.0, "contr", Columns.ALL, PRIMARY);
    assertThat(List.of(contr.n(), contr.refused(), contr.judgedN(), contr.judgedRefused()))
        .containsExactly(2L, 1L, 2L, 0L);
    assertThat(consistency(contr)).containsExactly(0L, 1L, 0L, 1L);
    // a group of the category the benchmark does not give
    JudgedRateRow none = find("greedy", Map.of(), 1.0, "contr", ScoreRow.NO_CATEGORY, SECOND);
    assertThat(List.of(none.n(), none.judgedN(), none.judgedRefused())).containsExactly(1L, 1L, 1L);
  }

  @Test
  void aGroupOutsideTheSampleHasTokenFiguresAndNoJudgedRate() {
    // category c2 of orig at greedy: P3 judged, P4 not
    JudgedRateRow c2 = find("greedy", Map.of(), 1.0, "orig", "c2", PRIMARY);
    assertThat(List.of(c2.n(), c2.refused(), c2.judgedN())).containsExactly(2L, 1L, 1L);
    // at τ = 0 P3's only judged response is unclear: no clear label, no rate, no bounds
    JudgedRateRow unclear = find("threshold", shared(0.0), 1.0, "orig", "c2", PRIMARY);
    assertThat(unclear.judgedUnclear()).isEqualTo(1);
    assertThat(unclear.judgedRate()).isNull();
    assertThat(unclear.judgedLow()).isNull();
    assertThat(unclear.judgedHigh()).isNull();
    assertThat(unclear.rate()).isEqualTo(1.0);
  }

  @Test
  void everyRatesRowHasOneJudgedRowPerJudgeWithTheSameTokenFigures() {
    List<RateRow> rates = tables.collect(Table.RATES, RateRow::fromRow);
    List<JudgedRateRow> judged = tables.collect(Table.JUDGED_RATES, JudgedRateRow::fromRow);
    assertThat(judged).hasSize(rates.size() * JUDGES.size());
    Map<String, RateRow> byKey = new HashMap<>();
    rates.forEach(
        r ->
            byKey.put(
                key(
                    r.benchmark(),
                    r.rule(),
                    r.thresholds(),
                    r.temperature(),
                    r.category(),
                    r.shouldRefuse()),
                r));
    for (JudgedRateRow j : judged) {
      RateRow r =
          byKey.get(
              key(
                  j.benchmark(),
                  j.rule(),
                  j.thresholds(),
                  j.temperature(),
                  j.category(),
                  j.shouldRefuse()));
      assertThat(r).as(j.toString()).isNotNull();
      assertThat(List.of(j.n(), j.refused())).containsExactly(r.n(), r.refused());
      assertThat(j.rate()).isEqualTo(r.rate());
      assertThat(j.runId()).isEqualTo("j");
    }
  }

  /**
   * The brute force: every point of the plan decides every scores row, the response after the
   * decided token is looked up in the hand-made responses, and the labels are counted per group.
   */
  @Test
  void everyJudgedRowEqualsAPerPromptBruteForce() {
    Map<String, long[]> expected = bruteForce(config.sweep());
    List<JudgedRateRow> judged = tables.collect(Table.JUDGED_RATES, JudgedRateRow::fromRow);
    assertThat(judged).hasSize(expected.size());
    for (JudgedRateRow j : judged) {
      long[] e =
          expected.get(
              key(
                      j.benchmark(),
                      j.rule(),
                      j.thresholds(),
                      j.temperature(),
                      j.category(),
                      j.shouldRefuse())
                  + "|"
                  + j.judge());
      assertThat(e).as(j.toString()).isNotNull();
      assertThat(
              new long[] {
                j.n(),
                j.judgedN(),
                j.judgedRefused(),
                j.judgedPartial(),
                j.judgedAnswered(),
                j.judgedUnclear(),
                j.tokenRefusedJudgedRefused(),
                j.tokenRefusedJudgedAnswered(),
                j.tokenAnsweredJudgedRefused(),
                j.tokenAnsweredJudgedAnswered()
              })
          .as(j.toString())
          .containsExactly(e);
    }
  }

  @Test
  void frontierAndOperatingPointsCarryThePrimaryJudgesRatesAtTheirPoints() {
    List<FrontierRow> frontier = tables.collect(Table.FRONTIER, FrontierRow::fromRow);
    List<OperatingPointRow> points =
        tables.collect(Table.OPERATING_POINTS, OperatingPointRow::fromRow);
    assertThat(frontier).isNotEmpty();
    assertThat(points).isNotEmpty();
    for (FrontierRow f : frontier) {
      assertThat(f.judged())
          .as(f.toString())
          .isEqualTo(
              bruteForcePair(
                  f.temperature(),
                  f.thresholds(),
                  f.refusalBenchmark(),
                  f.category(),
                  f.answerBenchmark(),
                  f.answerCategory()));
    }
    for (OperatingPointRow p : points) {
      JudgedPair want =
          bruteForcePair(
              p.temperature(), p.thresholds(), Columns.ALL, Columns.ALL, Columns.ALL, Columns.ALL);
      assertThat(p.judged()).as(p.toString()).isEqualTo(want);
    }
    // a hand-counted point: τ = 0 for both tokens, scope all at T=1 (every prompt refused)
    FrontierRow all =
        frontier.stream()
            .filter(
                f ->
                    f.temperature() == 1.0
                        && f.scope().equals("all")
                        && f.thresholds().equals(Map.of("[a]", 0.0, "[b]", 0.0)))
            .findFirst()
            .orElseThrow();
    // refuse side as judged_rates' τ=0 row: 1 refused, 1 unclear of 3; answer side: P5 [a]
    // refused, P6 [a] answered
    assertThat(all.judged()).isEqualTo(new JudgedPair(PRIMARY, 3, 1, 1, 0.5, 2, 1, 0, 0.5));
  }

  @Test
  void theSummaryShowsTokenAndJudgedRatesSideBySideAndNamesTheJudge() {
    String summary = result.summary();
    // per category: the token line, then the primary judge's, then the others'
    assertThat(summary.indexOf("judged (string_match)"))
        .isGreaterThan(summary.indexOf("token"))
        .isLessThan(summary.indexOf("judged (second)"));
    // ALL at T=1: token greedy 2/4 refuse, 1/2 false; τ=0.5: P1 [a], P4 [a]: 2/4, P6 [a] 1/2
    assertThat(summary)
        .containsPattern("(?m)^ALL +token +4 +2 +0\\.500 / 0\\.500 +0\\.500 / 0\\.500$");
    // judged (string_match), greedy: 2/3, 0/2; τ=0.5: P1 [a] refused, P2 [respond] refused, P3
    // [respond] answered → 2/3; P5 [respond] answered, P6 [a] answered → 0/2
    assertThat(summary)
        .containsPattern(
            "(?m)^ +judged \\(string_match\\) +3 +2 +0\\.667 / 0\\.000 +0\\.667 / 0\\.000$")
        .containsPattern("(?m)^ +judged \\(second\\) +3 +2 +0\\.333 / 0\\.500 ")
        .contains("partial counts as not refused")
        .doesNotContain(RateSummary.NOT_JUDGED)
        .contains("operating point refuse-80 [threshold] (T=1.0)")
        .containsPattern(
            "operating point refuse-80 \\[threshold\\] \\(T=1\\.0\\): .*judged \\(string_match\\) refusal");
  }

  @Test
  void judgeAgreementMatchesTheHandCountOfEveryResponsePair() {
    List<JudgeAgreementRow> rows =
        tables.collect(Table.JUDGE_AGREEMENT, JudgeAgreementRow::fromRow);
    // by benchmark (contr, orig), then ALL, categories by name, the uncategorised last
    assertThat(rows)
        .extracting(JudgeAgreementRow::benchmark, JudgeAgreementRow::category)
        .containsExactlyInAnyOrder(
            tuple("contr", "ALL"),
            tuple("contr", "c1"),
            tuple("contr", null),
            tuple("orig", "ALL"),
            tuple("orig", "c1"),
            tuple("orig", "c2"));
    assertThat(rows)
        .allSatisfy(
            r -> {
              assertThat(r.judgeA()).isEqualTo(PRIMARY);
              assertThat(r.judgeB()).isEqualTo(SECOND);
              assertThat(r.confidence()).isEqualTo(0.95);
            });
    // orig: P1 [a] (refused, refused), [respond] (answered, partial); P2 [a] (partial, refused),
    // [respond] (refused, answered); P3 other (answered, answered), [b] (unclear, refused),
    // [respond] (answered, unclear); P4 has no responses
    ConfusionMatrix orig =
        ConfusionMatrix.EMPTY
            .plus(Label.REFUSED, Label.REFUSED, 1)
            .plus(Label.ANSWERED, Label.PARTIAL, 1)
            .plus(Label.PARTIAL, Label.REFUSED, 1)
            .plus(Label.REFUSED, Label.ANSWERED, 1)
            .plus(Label.ANSWERED, Label.ANSWERED, 1)
            .plus(Label.UNCLEAR, Label.REFUSED, 1)
            .plus(Label.ANSWERED, Label.UNCLEAR, 1);
    assertThat(agreement(rows, "orig", "ALL").confusion()).isEqualTo(orig);
    assertThat(agreement(rows, "orig", "c1").confusion().n()).isEqualTo(4);
    assertThat(agreement(rows, "orig", "c1").confusion().agreed()).isEqualTo(1);
    assertThat(agreement(rows, "orig", "c2").confusion().agreed()).isEqualTo(1);
    // contr: P5 (c1) [a] (refused, refused), [respond] (answered, answered); P6 (no category)
    // [a] (answered, refused), [respond] (answered, answered)
    ConfusionMatrix contr =
        ConfusionMatrix.EMPTY
            .plus(Label.REFUSED, Label.REFUSED, 1)
            .plus(Label.ANSWERED, Label.ANSWERED, 2)
            .plus(Label.ANSWERED, Label.REFUSED, 1);
    assertThat(agreement(rows, "contr", "ALL").confusion()).isEqualTo(contr);
    assertThat(agreement(rows, "contr", null).confusion().agreed()).isEqualTo(1);
    // κ of contr by hand: p_o 3/4; rows R 1/4, A 3/4; columns R 2/4, A 2/4; p_e = 1/8 + 3/8 = 1/2
    assertThat(contr.kappa()).isCloseTo(0.5, within(1e-12));
    assertThat(result.summary())
        .contains("agreement between judges over the run's responses")
        .containsPattern(
            "(?m)^  contr +string_match vs second: 4 responses, 0\\.750 agree, kappa 0\\.500 \\[")
        .containsPattern("(?m)^  orig +string_match vs second: 7 responses, 0\\.286 agree, kappa ");
  }

  /**
   * The query of docs/tables.md's {@code judge_agreement} section, through DuckDB (a Parquet reader
   * other than Spark): every row, κ ascending, the bounds as written.
   */
  @Test
  void theDocumentedAgreementQueryReadsTheTableWithAnotherReader() throws java.io.IOException {
    String doc = java.nio.file.Files.readString(Path.of("docs/tables.md"));
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile(
                "where two judges disagree most.*?\n(SELECT.*?);\n```",
                java.util.regex.Pattern.DOTALL)
            .matcher(doc);
    assertThat(m.find()).isTrue();
    String sql =
        ("-- " + m.group(0).substring(0, m.group(0).indexOf('\n')) + "\n" + m.group(1))
            .replace(
                "read_parquet('warehouse/judge_agreement/*/*.parquet', hive_partitioning = true)",
                TestData.table(output, "judge_agreement"))
            .replace("'…'", "'j'");
    List<Object[]> rows = TestData.duckdb(sql);
    List<JudgeAgreementRow> spark =
        tables.collect(Table.JUDGE_AGREEMENT, JudgeAgreementRow::fromRow);
    assertThat(rows).hasSize(spark.size());
    for (Object[] r : rows) {
      JudgeAgreementRow a = agreement(spark, (String) r[0], (String) r[1]);
      assertThat(((Number) r[4]).longValue()).isEqualTo(a.confusion().n());
      assertThat((Double) r[5]).isCloseTo(a.confusion().accuracy(), within(1e-12));
      if (a.confusion().kappa() == null) {
        assertThat(r[6]).isNull();
      } else {
        double[] ci = a.confusion().kappaInterval(0.95);
        assertThat((Double) r[6]).isCloseTo(a.confusion().kappa(), within(1e-12));
        assertThat((Double) r[7]).isCloseTo(ci[0], within(1e-12));
        assertThat((Double) r[8]).isCloseTo(ci[1], within(1e-12));
      }
    }
  }

  private static JudgeAgreementRow agreement(
      List<JudgeAgreementRow> rows, String benchmark, String category) {
    return rows.stream()
        .filter(
            r ->
                r.benchmark().equals(benchmark) && java.util.Objects.equals(r.category(), category))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no row " + benchmark + "/" + category));
  }

  @Test
  void aRunWithoutResponsesHasNoJudgedRatesAndSaysSo() {
    // an empty responses partition, as the respond stage leaves with responses.enabled false
    Path out = output.resolve("unjudged");
    RunTables t = write(out, "u", SCORES, List.of());
    SweepStage.Result r = SweepStage.run(t, config(out, "u"), run("u"));
    assertThat(t.read(Table.JUDGED_RATES).count()).isZero();
    assertThat(t.read(Table.JUDGE_AGREEMENT).count()).isZero();
    assertThat(t.read(Table.RATES).count()).isPositive();
    assertThat(t.collect(Table.FRONTIER, FrontierRow::fromRow))
        .isNotEmpty()
        .allSatisfy(f -> assertThat(f.judged()).isNull());
    assertThat(t.collect(Table.OPERATING_POINTS, OperatingPointRow::fromRow))
        .allSatisfy(p -> assertThat(p.judged()).isNull());
    assertThat(r.summary())
        .contains(RateSummary.NOT_JUDGED)
        .contains("judged: not computed (no responses)")
        .doesNotContain("judged (")
        .doesNotContain("agreement between judges");
  }

  @Test
  void aResponseMissingForAnEmittedTokenFailsNamingPromptTokenAndSetting() {
    // P2's response after [a] is missing: τ = 0 emits [a] for it
    Path out = output.resolve("missing");
    RunTables t = write(out, "m", SCORES, responses(PROMPTS, P2, "[a]"));
    assertThatThrownBy(() -> SweepStage.run(t, config(out, "m"), run("m")))
        .hasStackTraceContaining("prompt 'p2' of benchmark 'orig'")
        .hasStackTraceContaining("none after '[a]'")
        .hasStackTraceContaining("rule threshold at {[a]=0.0");
  }

  @Test
  void responsesOfAPromptWithoutScoresFail() {
    Path out = output.resolve("orphan");
    List<ResponseRow> rows = new ArrayList<>(responses(PROMPTS, null, null));
    rows.add(
        response(new Prompt("orig", "ghost", true, "c1", null), RESPOND, "answered", "answered"));
    RunTables t = write(out, "o", SCORES, rows);
    assertThatThrownBy(() -> SweepStage.run(t, config(out, "o"), run("o")))
        .hasStackTraceContaining("prompt 'ghost' of benchmark 'orig', which has no scores row");
  }

  @Test
  void aJudgeThatLabelledOnlySomeResponsesOrALabelOfNoJudgeFails() {
    Path out = output.resolve("partial-judge");
    List<ResponseRow> rows = new ArrayList<>(responses(PROMPTS, null, null));
    ResponseRow r = rows.remove(0);
    rows.add(TestData.withLabels(r, r.label(), Map.of(PRIMARY, r.label())));
    RunTables t = write(out, "pj", SCORES, rows);
    assertThatThrownBy(() -> SweepStage.run(t, config(out, "pj"), run("pj")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "judge 'second' labelled "
                + (rows.size() - 1)
                + " of the run's "
                + rows.size()
                + " responses rows");

    Path out2 = output.resolve("no-primary");
    List<ResponseRow> rows2 = new ArrayList<>(responses(PROMPTS, null, null));
    ResponseRow first = rows2.remove(0);
    rows2.add(TestData.withLabels(first, "unclear", first.labels()));
    RunTables t2 = write(out2, "np", SCORES, rows2);
    assertThatThrownBy(() -> SweepStage.run(t2, config(out2, "np"), run("np")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("responses.label is no judge's label on every row");
  }

  @Test
  void aJudgedRateRowRoundTripsAndChecksItsCounts() {
    JudgedRateRow row = find("threshold", shared(0.0), 1.0, "orig", Columns.ALL, PRIMARY);
    assertThat(JudgedRateRow.fromRow(row.toRow())).isEqualTo(row);
    assertThatThrownBy(
            () ->
                new JudgedRateRow(
                    "b", "greedy", 1.0, Map.of(), Map.of(), "ALL", true, PRIMARY, 4, 2, 0.5, 3, 1,
                    1, 0, 0, null, null, null, "wilson", 1, 1, 0, 0, "r"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("do not add up");
    assertThatThrownBy(
            () ->
                new JudgedRateRow(
                    "b", "greedy", 1.0, Map.of(), Map.of(), "ALL", true, PRIMARY, 4, 2, 0.5, 2, 1,
                    1, 0, 0, 0.5, 0.1, 0.9, "wilson", 0, 1, 1, 1, "r"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("token x judged");
  }

  // --- brute force -------------------------------------------------------------------------

  /** key|judge → {n, judged_n, refused, partial, answered, unclear, tr_jr, tr_ja, ta_jr, ta_ja}. */
  private static Map<String, long[]> bruteForce(SweepConfig sweep) {
    List<SweepPoint> points =
        SweepPlan.points(TOKENS.size(), sweep.rules(), sweep.grid(), sweep.logitBias());
    Map<String, long[]> out = new HashMap<>();
    for (SweepPoint p : points) {
      Map<String, Double> values = RateSweep.perToken(p, TOKENS);
      for (Score s : SCORES) {
        Prompt prompt = s.prompt();
        FirstToken token = p.decide(stats(s));
        String category = prompt.category() == null ? ScoreRow.NO_CATEGORY : prompt.category();
        for (String c : List.of(category, Columns.ALL)) {
          for (int j = 0; j < JUDGES.size(); j++) {
            String k =
                key(
                        prompt.benchmark(),
                        p.rule().id(),
                        p.rule() == Rule.THRESHOLD ? values : Map.of(),
                        s.t(),
                        c,
                        prompt.shouldRefuse())
                    + "|"
                    + JUDGES.get(j);
            long[] v = out.computeIfAbsent(k, x -> new long[10]);
            v[0]++;
            if (prompt.responses() == null) {
              continue;
            }
            v[1]++;
            String label = prompt.responses().get(tokenString(token, s))[j];
            int l = List.of("refused", "partial", "answered", "unclear").indexOf(label);
            v[2 + l]++;
            if (l != 3) {
              boolean judgedRefused = l == 0;
              v[6 + (token.isRefusal() ? 0 : 2) + (judgedRefused ? 0 : 1)]++;
            }
          }
        }
      }
    }
    return out;
  }

  /** The primary judge's pair at a point of the full grid, over a scope (ALL: any). */
  private static JudgedPair bruteForcePair(
      double t,
      Map<String, Double> thresholds,
      String refusalBenchmark,
      String refusalCategory,
      String answerBenchmark,
      String answerCategory) {
    double[] tau = new double[TOKENS.size()];
    for (int c = 0; c < tau.length; c++) {
      tau[c] = thresholds.get(TOKENS.get(c));
    }
    SweepPoint point = new SweepPoint(Rule.THRESHOLD, new Setting(tau));
    long[] refuse = new long[3];
    long[] answer = new long[3];
    for (Score s : SCORES) {
      Prompt p = s.prompt();
      if (s.t() != t || p.responses() == null) {
        continue;
      }
      String category = p.category() == null ? ScoreRow.NO_CATEGORY : p.category();
      boolean inRefuse =
          p.shouldRefuse()
              && matches(refusalBenchmark, p.benchmark())
              && matches(refusalCategory, category);
      boolean inAnswer =
          !p.shouldRefuse()
              && matches(answerBenchmark, p.benchmark())
              && matches(answerCategory, category);
      if (!inRefuse && !inAnswer) {
        continue;
      }
      long[] side = inRefuse ? refuse : answer;
      String label = p.responses().get(tokenString(point.decide(stats(s)), s))[0];
      side[0]++;
      side[1] += label.equals("refused") ? 1 : 0;
      side[2] += label.equals("unclear") ? 1 : 0;
    }
    return JudgedPair.of(PRIMARY, refuse[0], refuse[1], refuse[2], answer[0], answer[1], answer[2]);
  }

  private static boolean matches(String scope, String value) {
    return scope.equals(Columns.ALL) || scope.equals(value);
  }

  private static FirstTokenStats stats(Score s) {
    return new FirstTokenStats(
        Math.log(s.respond()),
        new double[] {Math.log(s.a()), Math.log(s.b())},
        Math.log(s.other()));
  }

  private static String tokenString(FirstToken token, Score s) {
    return switch (token.kind()) {
      case RESPOND -> RESPOND;
      case REFUSAL -> TOKENS.get(token.refusalToken());
      case OTHER -> OTHER_TOKEN;
    };
  }

  // --- fixtures ------------------------------------------------------------------------------

  private JudgedRateRow find(
      String rule,
      Map<String, Double> thresholds,
      double t,
      String benchmark,
      String category,
      String judge) {
    List<JudgedRateRow> found =
        tables.collect(Table.JUDGED_RATES, JudgedRateRow::fromRow).stream()
            .filter(
                r ->
                    r.rule().equals(rule)
                        && r.thresholds().equals(thresholds)
                        && r.temperature() == t
                        && r.benchmark().equals(benchmark)
                        && r.category().equals(category)
                        && r.judge().equals(judge))
            .toList();
    assertThat(found).hasSize(1);
    return found.get(0);
  }

  private static List<Long> consistency(JudgedRateRow r) {
    return List.of(
        r.tokenRefusedJudgedRefused(),
        r.tokenRefusedJudgedAnswered(),
        r.tokenAnsweredJudgedRefused(),
        r.tokenAnsweredJudgedAnswered());
  }

  private static Map<String, Double> shared(double tau) {
    return Map.of("[a]", tau, "[b]", tau);
  }

  private static String key(
      String benchmark,
      String rule,
      Map<String, Double> thresholds,
      double t,
      String category,
      boolean shouldRefuse) {
    return String.join(
        "|",
        benchmark,
        rule,
        new TreeMap<>(thresholds).toString(),
        Double.toString(t),
        category,
        Boolean.toString(shouldRefuse));
  }

  private static Prompt prompt(
      String benchmark, String id, boolean shouldRefuse, String category, String... labels) {
    Map<String, String[]> responses = new LinkedHashMap<>();
    for (int i = 0; i < labels.length; i += 3) {
      responses.put(labels[i], new String[] {labels[i + 1], labels[i + 2]});
    }
    return new Prompt(benchmark, id, shouldRefuse, category, responses);
  }

  /** The responses rows of the prompts, but the one of {@code skip}'s {@code skipToken}. */
  private static List<ResponseRow> responses(List<Prompt> prompts, Prompt skip, String skipToken) {
    List<ResponseRow> rows = new ArrayList<>();
    for (Prompt p : prompts) {
      if (p.responses() == null) {
        continue;
      }
      p.responses()
          .forEach(
              (token, labels) -> {
                if (!(p == skip && token.equals(skipToken))) {
                  rows.add(response(p, token, labels[0], labels[1]));
                }
              });
    }
    return rows;
  }

  private static ResponseRow response(Prompt p, String token, String primary, String second) {
    String kind =
        token.equals(RESPOND)
            ? ResponseRow.KIND_RESPOND
            : TOKENS.contains(token) ? ResponseRow.KIND_REFUSAL : ResponseRow.KIND_OTHER;
    return new ResponseRow(
        p.benchmark(),
        p.id(),
        sha(p),
        p.category(),
        p.shouldRefuse(),
        token,
        7,
        kind,
        "a response after " + token,
        5,
        "eos",
        null,
        primary,
        Map.of(PRIMARY, primary, SECOND, second),
        Map.of(),
        Map.of(),
        null);
  }

  private static String sha(Prompt p) {
    return "sha-" + p.id();
  }

  private RunTables write(Path out, String runId, List<Score> scores, List<ResponseRow> responses) {
    RunTables t = new RunTables(spark, out.toString(), runId);
    List<ScoreRow> rows = new ArrayList<>();
    for (Score s : scores) {
      Prompt p = s.prompt();
      rows.add(
          new ScoreRow(
              p.benchmark(),
              p.id(),
              "prompt " + p.id(),
              sha(p),
              p.shouldRefuse(),
              p.category(),
              null,
              s.t(),
              5,
              Map.of(
                  RESPOND, Math.log(s.respond()), "[a]", Math.log(s.a()), "[b]", Math.log(s.b())),
              Math.log(s.other()),
              OTHER_TOKEN,
              99L,
              List.of(),
              runId));
    }
    t.write(Table.SCORES, rows);
    t.write(Table.RESPONSES, responses);
    return t;
  }

  private static EvalConfig config(Path out, String runId) {
    return TestData.config(
        runId,
        out,
        TestData.ORIGINAL,
        TestData.CONTRAST,
        Map.of(
            "sweep.rules", "[greedy, threshold]",
            "sweep.grid.start", "0.0",
            "sweep.grid.stop", "1.0",
            "sweep.grid.step", "0.5",
            "report.summary_thresholds", "[0.5]"));
  }

  private static RunRow run(String runId) {
    return RunRow.started(
        runId,
        Instant.parse("2026-12-01T00:00:00Z"),
        "models/demo",
        "m",
        "t",
        "tc",
        RESPOND,
        TOKENS,
        "template",
        null,
        "config",
        null,
        "4.0.1",
        "0.36.0");
  }
}

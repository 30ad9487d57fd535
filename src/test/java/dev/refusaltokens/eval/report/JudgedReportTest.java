package dev.refusaltokens.eval.report;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;
import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.judge.ConfusionMatrix;
import dev.refusaltokens.eval.judge.Label;
import dev.refusaltokens.eval.sweep.SweepStage;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgeAgreementRow;
import dev.refusaltokens.eval.table.JudgedRateRow;
import dev.refusaltokens.eval.table.ResponseRow;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.table.Table;
import dev.refusaltokens.eval.testing.SparkTestSession;
import dev.refusaltokens.eval.testing.TestData;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The judged part of the report, on scores and responses rows written by hand and swept by the real
 * sweep stage: the token vs judged charts and the consistency chart are written and referenced, the
 * consistency table's counts are those of {@code judged_rates} (and of a hand count), and a run
 * without responses says so in place of the charts.
 *
 * <p>Two refusal tokens {@code [a]} and {@code [b]}; rules greedy and threshold on the grid {0,
 * 0.5, 1}; judges {@code string_match} (primary, {@code judges[0]}) and {@code second}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JudgedReportTest {

  private static final String RESPOND = "[respond]";
  private static final String OTHER = "Sure";
  private static final List<String> TOKENS = List.of("[a]", "[b]");
  private static final String PRIMARY = "string_match";

  /**
   * A prompt: its probabilities of [respond], [a], [b] and the best other token, and its responses
   * (first token → {primary label, second label}; null: outside the sample).
   */
  record Prompt(
      String benchmark,
      String id,
      boolean shouldRefuse,
      String category,
      double[] p,
      Map<String, String[]> responses) {}

  // greedy tokens: p1 [a], p2 [respond], p3 Sure, p4 [a] (no responses), p5 [respond], p6 [a]
  static final List<Prompt> PROMPTS =
      List.of(
          prompt(
              "orig",
              "p1",
              true,
              "c1",
              0.25,
              0.6,
              0.1,
              0.05,
              "[a]",
              "refused",
              "refused",
              RESPOND,
              "answered",
              "partial"),
          prompt(
              "orig",
              "p2",
              true,
              "c1",
              0.6,
              0.3,
              0.05,
              0.05,
              "[a]",
              "partial",
              "refused",
              RESPOND,
              "refused",
              "answered"),
          prompt(
              "orig",
              "p3",
              true,
              "c2",
              0.2,
              0.1,
              0.3,
              0.4,
              OTHER,
              "answered",
              "answered",
              "[b]",
              "unclear",
              "refused",
              RESPOND,
              "answered",
              "unclear"),
          new Prompt("orig", "p4", true, "c2", new double[] {0.1, 0.7, 0.1, 0.1}, null),
          prompt(
              "contr",
              "p5",
              false,
              "c1",
              0.8,
              0.1,
              0.05,
              0.05,
              "[a]",
              "refused",
              "refused",
              RESPOND,
              "answered",
              "answered"),
          prompt(
              "contr",
              "p6",
              false,
              null,
              0.4,
              0.55,
              0.03,
              0.02,
              "[a]",
              "answered",
              "refused",
              RESPOND,
              "answered",
              "answered"));

  @TempDir static Path output;

  private SparkSession spark;
  private RunTables tables;
  private Path dir;
  private String html;

  @BeforeAll
  void writeReport() throws IOException {
    spark = SparkTestSession.get();
    tables = sweep(output.resolve("judged"), "j");
    dir = Path.of(ReportWriter.write(tables, 1.0)).getParent();
    html = Files.readString(dir.resolve("report.html"));
  }

  @Test
  void theReportHasTokenVsJudgedChartsPerCategoryAndAConsistencyChart() throws IOException {
    // judged_rates' categories: ALL, c1, c2, (none) → one chart each, and the consistency bars
    List<String> charts =
        List.of("judged-1.png", "judged-2.png", "judged-3.png", "judged-4.png", "consistency.png");
    for (String chart : charts) {
      BufferedImage img = ImageIO.read(dir.resolve(chart).toFile());
      assertThat(img).as(chart).isNotNull();
      assertThat(img.getWidth()).as(chart).isEqualTo(Charts.WIDTH);
      assertThat(img.getHeight()).as(chart).isEqualTo(Charts.HEIGHT);
      assertThat(html).contains("(" + chart + ")</figcaption>");
    }
    assertThat(dir.resolve("judged-5.png")).doesNotExist();
    assertThat(html)
        .contains("Token vs judged (string_match) rates against the shared threshold, category ALL")
        .contains("category (none)")
        .contains("judged band: 95% Wilson")
        .contains("Consistency of the first token with the judge (string_match), greedy setting")
        .doesNotContain(JudgedSection.NOT_COMPUTED);
    // ALL first, then the categories by name
    assertThat(html.indexOf("category ALL:"))
        .isLessThan(html.indexOf("category (none):"))
        .isLessThan(html.indexOf("category c1:"));
    assertThat(html.indexOf("category c1:")).isLessThan(html.indexOf("category c2:"));
  }

  @Test
  void theConsistencyTableCountsAreThoseOfJudgedRates() {
    Map<String, List<Long>> table = consistencyTable(html);
    // by hand, greedy T=1, primary judge: p1 [a] refused, p2 [respond] refused, p3 Sure answered,
    // p5 [respond] answered, p6 [a] answered; p4 has no responses
    assertThat(table.get(Columns.ALL)).containsExactly(5L, 1L, 1L, 1L, 2L, 0L);
    assertThat(table.get("c1")).containsExactly(3L, 1L, 0L, 1L, 1L, 0L);
    assertThat(table.get("c2")).containsExactly(1L, 0L, 0L, 0L, 1L, 0L);
    assertThat(table.get(ScoreRow.NO_CATEGORY)).containsExactly(1L, 0L, 1L, 0L, 0L, 0L);
    // and through Spark, from the table itself: greedy rows of the primary judge, summed over
    // benchmarks and should_refuse
    List<Row> sums =
        tables
            .read(Table.JUDGED_RATES)
            .where(
                col(Columns.RULE)
                    .equalTo("greedy")
                    .and(col(Columns.TEMPERATURE).equalTo(1.0))
                    .and(col(JudgedRateRow.JUDGE).equalTo(PRIMARY)))
            .groupBy(Columns.CATEGORY)
            .agg(
                sum(JudgedRateRow.JUDGED_N),
                sum(JudgedRateRow.TOKEN_REFUSED_JUDGED_REFUSED),
                sum(JudgedRateRow.TOKEN_REFUSED_JUDGED_ANSWERED),
                sum(JudgedRateRow.TOKEN_ANSWERED_JUDGED_REFUSED),
                sum(JudgedRateRow.TOKEN_ANSWERED_JUDGED_ANSWERED),
                sum(JudgedRateRow.JUDGED_UNCLEAR))
            .collectAsList();
    assertThat(sums).hasSize(table.size());
    for (Row r : sums) {
      List<Long> want = new ArrayList<>();
      for (int i = 1; i < r.size(); i++) {
        want.add(r.getLong(i));
      }
      assertThat(table.get(r.getString(0))).as(r.getString(0)).isEqualTo(want);
    }
    // agreement over clear labels: (1 + 2) / 5 for ALL
    assertThat(html)
        .containsPattern(
            "<td>ALL</td>(<td class=\"num\">[^<]*</td>){6}" + "<td class=\"num\">0\\.600</td>");
  }

  @Test
  void theAgreementSectionShowsEveryJudgeAgreementRowAndTheMatrices() throws IOException {
    List<JudgeAgreementRow> rows =
        tables.collect(Table.JUDGE_AGREEMENT, JudgeAgreementRow::fromRow);
    assertThat(rows).isNotEmpty();
    assertThat(html).contains("<h2>Agreement between judges</h2>").contains("95% interval");
    for (JudgeAgreementRow r : rows) {
      ConfusionMatrix m = r.confusion();
      double[] ci = m.kappaInterval(0.95);
      String kappa =
          m.kappa() == null ? "n/a" : String.format(java.util.Locale.ROOT, "%.3f", m.kappa());
      String interval =
          ci == null ? "n/a" : String.format(java.util.Locale.ROOT, "[%.3f, %.3f]", ci[0], ci[1]);
      assertThat(html)
          .contains(
              "<tr><td>"
                  + r.benchmark()
                  + "</td><td>string_match vs second</td><td>"
                  + java.util.Objects.requireNonNullElse(r.category(), "(none)")
                  + "</td><td class=\"num\">"
                  + m.n()
                  + "</td><td class=\"num\">"
                  + String.format(java.util.Locale.ROOT, "%.3f", m.accuracy())
                  + "</td><td class=\"num\">"
                  + kappa
                  + "</td><td class=\"num\">"
                  + interval
                  + "</td></tr>");
    }
    // one matrix per benchmark and pair, its ALL counts
    long benchmarks = rows.stream().map(JudgeAgreementRow::benchmark).distinct().count();
    assertThat(html.split("<table class=\"agreement-matrix\">", -1)).hasSize((int) benchmarks + 1);
    JudgeAgreementRow origAll =
        rows.stream()
            .filter(r -> r.benchmark().equals("orig") && r.category().equals(Columns.ALL))
            .findFirst()
            .orElseThrow();
    StringBuilder refusedLine = new StringBuilder("<tr><th>refused</th>");
    for (Label b : Label.values()) {
      refusedLine
          .append("<td class=\"num\">")
          .append(origAll.confusion().count(Label.REFUSED, b))
          .append("</td>");
    }
    assertThat(html)
        .contains("<caption>orig: string_match (rows) vs second (columns)</caption>")
        .contains(refusedLine.append("</tr>").toString());

    // with one judge the table is empty and the section says why; with two judges and no rows
    // (a run swept before the table existed), the note says to sweep again
    for (boolean oneJudge : new boolean[] {true, false}) {
      RunTables t =
          new RunTables(spark, output.resolve(oneJudge ? "one-judge" : "no-rows").toString(), "j");
      for (Table table : Table.values()) {
        if (table == Table.JUDGE_AGREEMENT) {
          t.write(table, List.of());
        } else if (table == Table.RESPONSES && oneJudge) {
          t.write(
              table,
              tables.collect(Table.RESPONSES, ResponseRow::fromRow).stream()
                  .map(
                      r ->
                          TestData.withLabels(
                              r, r.label(), Map.of(PRIMARY, r.labels().get(PRIMARY))))
                  .toList());
        } else if (tables.readIfPresent(table) != null) {
          t.write(table, tables.read(table));
        }
      }
      String page =
          Files.readString(Path.of(ReportWriter.write(t, 1.0)).getParent().resolve("report.html"));
      assertThat(page).doesNotContain("id=\"agreement\"");
      if (oneJudge) {
        assertThat(page).contains("<p class=\"note\">" + AgreementSection.ONE_JUDGE + "</p>");
      } else {
        assertThat(page)
            .contains("the responses have 2 judges but judge_agreement has no rows")
            .contains("sweep the run again");
      }
    }
  }

  /**
   * The swept run's tables copied to another output with {@code judged_rates} empty, as the sweep
   * writes it for a run without responses (sweep/JudgedRatesTest checks that): no second sweep.
   */
  @Test
  void aRunWithoutResponsesSaysSoInPlaceOfTheJudgedCharts() throws IOException {
    RunTables t = new RunTables(spark, output.resolve("unjudged").toString(), "j");
    for (Table table : Table.values()) {
      if (table == Table.JUDGED_RATES) {
        t.write(table, List.of());
      } else if (tables.readIfPresent(table) != null) {
        t.write(table, tables.read(table));
      }
    }
    Path d = Path.of(ReportWriter.write(t, 1.0)).getParent();
    String page = Files.readString(d.resolve("report.html"));
    assertThat(page)
        .contains("<h2>Token vs judged refusal</h2>")
        .contains("<p class=\"note\">" + JudgedSection.NOT_COMPUTED + "</p>")
        .doesNotContain("judged-1.png")
        .doesNotContain("consistency.png")
        .doesNotContain("id=\"consistency\"");
    try (var files = Files.list(d)) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .noneMatch(f -> f.startsWith("judged-") || f.equals("consistency.png"))
          .contains("rates.png", "report.html");
    }
  }

  @Test
  void thePrimaryJudgeIsTheFirstRecordedOneOrElseTheTablesFirstByName() {
    RunRow run =
        run(
            "x",
            config(
                output.resolve("x"),
                "x",
                "[{name: second, kind: string_match}, {name: zeta, kind: string_match}]"));
    JudgedRateRow second = judgedRow("second");
    JudgedRateRow alpha = judgedRow("alpha");
    assertThat(JudgedSection.primaryJudge(run, List.of(alpha, second))).isEqualTo("second");
    // the recorded first judge has no rows: the table's first by name, which the charts then name
    assertThat(JudgedSection.primaryJudge(run, List.of(judgedRow("zeta"), alpha)))
        .isEqualTo("alpha");
  }

  // --- fixtures ------------------------------------------------------------------------------

  /** The consistency table: category → {judged prompts, the four cells, unclear}. */
  private static Map<String, List<Long>> consistencyTable(String html) {
    Matcher table = Pattern.compile("(?s)<table id=\"consistency\">(.*?)</table>").matcher(html);
    assertThat(table.find()).isTrue();
    Map<String, List<Long>> out = new LinkedHashMap<>();
    Matcher row = Pattern.compile("<tr><td>([^<]*)</td>(.*?)</tr>").matcher(table.group(1));
    while (row.find()) {
      List<String> cells =
          Arrays.stream(row.group(2).split("</td>"))
              .map(c -> c.replaceAll("<td[^>]*>", "").trim())
              .filter(c -> !c.isEmpty())
              .toList();
      // judged prompts, five counts, agreement
      assertThat(cells).as(row.group(1)).hasSize(7);
      out.put(row.group(1), cells.subList(0, 6).stream().map(Long::valueOf).toList());
    }
    return out;
  }

  private RunTables sweep(Path out, String runId) {
    EvalConfig config =
        config(
            out,
            runId,
            "[{name: string_match, kind: string_match}, {name: second, kind: string_match}]");
    RunTables t = new RunTables(spark, out.toString(), runId);
    RunRow run = run(runId, config);
    t.write(Table.RUNS, List.of(run));
    t.write(Table.SCORES, PROMPTS.stream().map(p -> score(p, runId)).toList());
    t.write(Table.RESPONSES, responses());
    SweepStage.run(t, config, run);
    return t;
  }

  private static EvalConfig config(Path out, String runId, String judges) {
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
            "judges", judges));
  }

  private static RunRow run(String runId, EvalConfig config) {
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
        config.source(),
        null,
        "4.0.1",
        "0.36.0");
  }

  private static JudgedRateRow judgedRow(String judge) {
    return new JudgedRateRow(
        "b", "greedy", 1.0, Map.of(), Map.of(), "ALL", true, judge, 2, 1, 0.5, 1, 1, 0, 0, 0, 1.0,
        0.2, 1.0, "wilson", 1, 0, 0, 0, "x");
  }

  private static ScoreRow score(Prompt p, String runId) {
    return new ScoreRow(
        p.benchmark(),
        p.id(),
        "prompt " + p.id(),
        "sha-" + p.id(),
        p.shouldRefuse(),
        p.category(),
        null,
        1.0,
        5,
        Map.of(RESPOND, Math.log(p.p()[0]), "[a]", Math.log(p.p()[1]), "[b]", Math.log(p.p()[2])),
        Math.log(p.p()[3]),
        OTHER,
        99L,
        List.of(),
        runId);
  }

  private static List<ResponseRow> responses() {
    List<ResponseRow> rows = new ArrayList<>();
    for (Prompt p : PROMPTS) {
      if (p.responses() == null) {
        continue;
      }
      p.responses()
          .forEach(
              (token, labels) ->
                  rows.add(
                      new ResponseRow(
                          p.benchmark(),
                          p.id(),
                          "sha-" + p.id(),
                          p.category(),
                          p.shouldRefuse(),
                          token,
                          7,
                          token.equals(RESPOND)
                              ? ResponseRow.KIND_RESPOND
                              : TOKENS.contains(token)
                                  ? ResponseRow.KIND_REFUSAL
                                  : ResponseRow.KIND_OTHER,
                          "a response after " + token,
                          5,
                          "eos",
                          null,
                          labels[0],
                          Map.of(PRIMARY, labels[0], "second", labels[1]),
                          Map.of(),
                          Map.of(),
                          null)));
    }
    return rows;
  }

  private static Prompt prompt(
      String benchmark,
      String id,
      boolean shouldRefuse,
      String category,
      double respond,
      double a,
      double b,
      double other,
      String... labels) {
    Map<String, String[]> responses = new LinkedHashMap<>();
    for (int i = 0; i < labels.length; i += 3) {
      responses.put(labels[i], new String[] {labels[i + 1], labels[i + 2]});
    }
    return new Prompt(
        benchmark, id, shouldRefuse, category, new double[] {respond, a, b, other}, responses);
  }
}

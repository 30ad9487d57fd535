package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.col;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.config.JudgeConfig;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.Frontier;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.judge.AgreementCounts;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.FrontierRow;
import dev.refusaltokens.eval.table.JudgeAgreementRow;
import dev.refusaltokens.eval.table.JudgedRateRow;
import dev.refusaltokens.eval.table.OperatingPointRow;
import dev.refusaltokens.eval.table.RateRow;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import dev.refusaltokens.eval.table.TableRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sweep stage: from a scored run's {@code scores} (and its {@code responses}, when it has
 * some), with no model, the tables {@code rates}, {@code judged_rates}, {@code frontier}, {@code
 * operating_points}, {@code roc}, {@code calibration} and {@code first_tokens} (in that order),
 * {@code judge_agreement} after {@code judged_rates}, then the end-of-run summary read back from
 * {@code rates}, {@code judged_rates}, {@code judge_agreement} and {@code operating_points}. The
 * stage decides which of the full grid's tables the configuration asks for; its parts ({@link
 * RateSweep}, {@link JudgedRates}, {@link GridCounts}, {@link FrontierSearch}, {@link
 * OperatingPointSearch}, {@link FullGridRates}, {@link RocCurves}, {@link CalibrationTables},
 * {@link JudgeAgreements}) compute them. A run without responses gets an empty {@code judged_rates}
 * and {@code judge_agreement} (also empty with one judge) and null judged columns in {@code
 * frontier} and {@code operating_points}.
 */
public final class SweepStage {

  private static final Logger LOG = LoggerFactory.getLogger(SweepStage.class);

  /** The tables the stage writes, in order: all of them derived from the run's scores. */
  public static final List<Table> TABLES =
      List.of(
          Table.RATES,
          Table.JUDGED_RATES,
          Table.JUDGE_AGREEMENT,
          Table.FRONTIER,
          Table.OPERATING_POINTS,
          Table.ROC,
          Table.CALIBRATION,
          Table.FIRST_TOKENS);

  /**
   * What the stage leaves besides its tables: the temperature of the summary (the report's too) and
   * the printable summary.
   */
  public record Result(double temperature, String summary) {}

  private SweepStage() {}

  /**
   * Fails on settings the sweep cannot run with, before anything is written (a configuration
   * error).
   */
  public static void check(EvalConfig config, int refusalTokenCount) {
    config.sweep().checkFullGridRates(refusalTokenCount);
  }

  /** Removes the run's sweep tables, which belong to scores about to be replaced. */
  public static void deleteTables(RunTables tables) {
    TABLES.forEach(tables::delete);
  }

  /**
   * Sweeps the scores of the run recorded in {@code run}: writes the sweep tables, returns the
   * summary.
   */
  public static Result run(RunTables tables, EvalConfig config, RunRow run) {
    long t0 = System.nanoTime();
    JavaSparkContext.fromSparkContext(tables.spark().sparkContext())
        .setJobGroup(
            "sweep", "Sweeping rules x thresholds over the scores of run " + tables.runId(), false);
    String primaryJudge;
    List<String> judgeOrder;
    Parts parts = new Parts();
    try (SweepScores scores = parts.time("scores", () -> SweepScores.persist(tables, run));
        JudgedScores judged =
            parts.time(
                "responses",
                () -> JudgedScores.join(scores, tables.readIfPresent(Table.RESPONSES)))) {
      if (judged == null) {
        LOG.info("Sweep stage: run {} has no responses; no judged rates", tables.runId());
      }
      primaryJudge = judged == null ? null : judged.primaryJudge();
      judgeOrder = judged == null ? List.of() : judgeOrder(config, judged);
      writeGridTables(tables, config.sweep(), scores, judged, parts);
      parts.run(
          "judge_agreement",
          () ->
              tables.write(
                  Table.JUDGE_AGREEMENT,
                  judged == null
                      ? List.of()
                      : JudgeAgreements.agreements(
                          tables.read(Table.RESPONSES),
                          judgeOrder,
                          config.sweep().confidence(),
                          tables.runId())));
      parts.run("roc", () -> tables.write(Table.ROC, RocCurves.roc(scores, tables.runId())));
      CalibrationTables.Result calibration =
          parts.time("calibration", () -> CalibrationTables.compute(scores, tables.runId()));
      parts.run(
          "write calibration, first_tokens",
          () -> {
            tables.write(Table.CALIBRATION, calibration.calibration());
            tables.write(Table.FIRST_TOKENS, calibration.firstTokens());
          });
    }
    LOG.info("Sweep stage: tables of run {} written in {} s", tables.runId(), seconds(t0));
    LOG.info("Sweep stage parts (s): {}", parts);
    return summarize(tables, config, run, primaryJudge, judgeOrder);
  }

  /**
   * The responses' judges in the configured order of {@code judges} when they are the configured
   * ones (the order of {@code judge_agreement}'s pairs), else as the responses give them (the
   * primary first, the others by name).
   */
  private static List<String> judgeOrder(EvalConfig config, JudgedScores judged) {
    List<String> configured = config.judges().stream().map(JudgeConfig::name).toList();
    return configured.size() == judged.judges().size()
            && configured.containsAll(judged.judges())
            && configured.get(0).equals(judged.primaryJudge())
        ? configured
        : judged.judges();
  }

  /**
   * Wall time per part of the stage, in the order run, for the log: where the sweep's time goes is
   * a question every large run asks (docs/performance.md).
   */
  static final class Parts {
    private final Map<String, Double> seconds = new LinkedHashMap<>();

    <T> T time(String part, Supplier<T> work) {
      long t0 = System.nanoTime();
      try {
        return work.get();
      } finally {
        seconds.merge(part, (System.nanoTime() - t0) / 1e9, Double::sum);
      }
    }

    void run(String part, Runnable work) {
      time(
          part,
          () -> {
            work.run();
            return null;
          });
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder();
      seconds.forEach(
          (k, v) ->
              b.append(b.length() == 0 ? "" : ", ")
                  .append(k)
                  .append(' ')
                  .append(String.format(Locale.ROOT, "%.2f", v)));
      return b.toString();
    }
  }

  /**
   * The rates of the configured settings, computed and not written: the part the benchmark times
   * alone.
   */
  public static List<RateRow> rates(SweepScores scores, SweepConfig sweep, String runId) {
    return RateSweep.rates(scores, sweep, runId);
  }

  /**
   * The full grid's count tables, frontier and operating points, computed and not written: the part
   * the benchmark times alone.
   */
  public static void searchFullGrid(SweepScores scores, SweepConfig sweep, String runId) {
    GridCounts counts = GridCounts.count(scores, sweep.grid().values());
    FrontierSearch.frontier(scores, counts, sweep, runId, null);
    OperatingPointSearch.operatingPoints(scores, counts, sweep, runId, null);
  }

  /**
   * {@code rates} and {@code judged_rates} (empty when {@code judged} is null: no responses), then
   * {@code frontier} and the {@code threshold} rows of {@code operating_points} over the full
   * per-category grid when the threshold rule is swept and the grid has at most {@code
   * sweep.frontier_max_points} points (else both empty), the {@code logit_bias} rows of {@code
   * operating_points} when that rule is swept, and the full grid in {@code rates} when {@code
   * sweep.full_grid_rates_max_points} asks for it.
   */
  private static void writeGridTables(
      RunTables tables, SweepConfig sweep, SweepScores scores, JudgedScores judged, Parts parts) {
    String runId = tables.runId();
    List<RateRow> rateRows = parts.time("rates", () -> RateSweep.rates(scores, sweep, runId));
    Dataset<Row> rates = spread(tables.spark(), Table.RATES, rateRows);
    List<JudgedRateRow> judgedRows =
        parts.time(
            "judged_rates",
            () -> judged == null ? List.of() : JudgedRates.rates(judged, sweep, runId));
    Dataset<Row> judgedRates = spread(tables.spark(), Table.JUDGED_RATES, judgedRows);
    long points = Frontier.gridPoints(sweep.grid().values().size(), scores.refusalTokens().size());
    boolean frontierWanted =
        sweep.rules().contains(Rule.THRESHOLD)
            && points >= 0
            && points <= sweep.frontierMaxPoints();
    List<FrontierRow> frontier = List.of();
    List<OperatingPointRow> operatingPoints = List.of();
    if (frontierWanted || sweep.fullGridRatesMaxPoints() > 0) {
      GridCounts counts =
          parts.time("grid counts", () -> GridCounts.count(scores, sweep.grid().values()));
      if (frontierWanted) {
        frontier =
            parts.time(
                "frontier", () -> FrontierSearch.frontier(scores, counts, sweep, runId, judged));
        operatingPoints =
            parts.time(
                "operating points",
                () -> OperatingPointSearch.operatingPoints(scores, counts, sweep, runId, judged));
      }
      if (sweep.fullGridRatesMaxPoints() > 0) {
        rates = rates.union(FullGridRates.rates(tables.spark(), counts, sweep, runId));
      }
    }
    if (!frontierWanted) {
      LOG.warn(
          "No frontier or operating points: the full grid has {} points (sweep.frontier_max_points = {}) "
              + "or the threshold rule is not swept",
          points < 0 ? "over 2^63" : points,
          sweep.frontierMaxPoints());
    }
    Dataset<Row> allRates = rates;
    List<FrontierRow> frontierRows = frontier;
    parts.run(
        "write rates, judged_rates, frontier",
        () -> {
          tables.write(Table.RATES, allRates);
          tables.write(Table.JUDGED_RATES, judgedRates);
          tables.write(Table.FRONTIER, frontierRows);
        });
    List<OperatingPointRow> allPoints = new ArrayList<>(operatingPoints);
    allPoints.addAll(
        parts.time(
            "logit-bias points",
            () -> OperatingPointSearch.logitBiasPoints(rateRows, scores, sweep, runId, judged)));
    parts.run("write operating_points", () -> tables.write(Table.OPERATING_POINTS, allPoints));
  }

  /**
   * Rates as a dataset over several tasks: one local relation of ~10^5 rows would make one
   * oversized task.
   */
  private static Dataset<Row> spread(
      SparkSession spark, Table table, List<? extends TableRecord> records) {
    List<Row> rows = records.stream().map(TableRecord::toRow).toList();
    return spark.createDataFrame(
        JavaSparkContext.fromSparkContext(spark.sparkContext())
            .parallelize(rows, Math.max(1, rows.size() / 2_000)),
        table.schema());
  }

  /**
   * The summary of the greedy and shared-threshold rates, token and judged, and of the operating
   * points, read back from the written tables, at the configured first temperature (or the lowest
   * scored one when the scores were made with others).
   */
  private static Result summarize(
      RunTables tables,
      EvalConfig config,
      RunRow run,
      String primaryJudge,
      List<String> judgeOrder) {
    List<RateRow> rates =
        tables
            .read(Table.RATES)
            .where(col(Columns.RULE).isin("greedy", "threshold"))
            .collectAsList()
            .stream()
            .map(RateRow::fromRow)
            .toList();
    double wanted = config.scoring().temperatures().get(0);
    double temperature =
        rates.stream().anyMatch(r -> r.temperature() == wanted)
            ? wanted
            : rates.stream().mapToDouble(RateRow::temperature).min().orElse(wanted);
    List<OperatingPointRow> operatingPoints =
        tables
            .read(Table.OPERATING_POINTS)
            .orderBy(
                col(OperatingPointRow.NAME), col(Columns.TEMPERATURE), col(Columns.RULE).desc())
            .collectAsList()
            .stream()
            .map(OperatingPointRow::fromRow)
            .toList();
    List<JudgedRateRow> judged =
        tables
            .read(Table.JUDGED_RATES)
            .where(
                col(Columns.RULE)
                    .isin("greedy", "threshold")
                    .and(col(Columns.TEMPERATURE).equalTo(temperature)))
            .collectAsList()
            .stream()
            .map(JudgedRateRow::fromRow)
            .toList();
    String summary =
        RateSummary.format(
                rates,
                judged,
                primaryJudge,
                run.refusalTokens().size(),
                config.sweep().summaryThresholds(),
                temperature)
            + RateSummary.formatOperatingPoints(operatingPoints)
            + RateSummary.formatAgreement(
                tables
                    .read(Table.JUDGE_AGREEMENT)
                    .where(col(Columns.CATEGORY).equalTo(Columns.ALL))
                    .collectAsList()
                    .stream()
                    .map(JudgeAgreementRow::fromRow)
                    .sorted(AgreementCounts.order(judgeOrder))
                    .toList());
    return new Result(temperature, summary);
  }

  private static String seconds(long startNanos) {
    return String.format(Locale.ROOT, "%.1f", (System.nanoTime() - startNanos) / 1e9);
  }
}

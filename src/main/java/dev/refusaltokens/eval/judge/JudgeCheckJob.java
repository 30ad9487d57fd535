package dev.refusaltokens.eval.judge;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.refusaltokens.eval.config.JudgeCheckConfig;
import dev.refusaltokens.eval.config.JudgeConfig;
import dev.refusaltokens.eval.config.ScoringConfig;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgeAgreementRow;
import dev.refusaltokens.eval.table.JudgeCheckRejectRow;
import dev.refusaltokens.eval.table.JudgeCheckRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code judge-check}: measures each configured judge against a person's labels. Reads the labelled
 * file (rejects to {@code judge_check_rejects}), judges every row with every judge on the
 * executors, counts (human label, judge label) pairs per judge and category, and writes one {@code
 * judge_checks} row per judge × ({@code ALL} and each category) under the check's run id; with two
 * judges or more, also how the judges agree with each other on the same rows: one {@code
 * judge_agreement} row per judge pair × ({@code ALL} and each category), its {@code benchmark} the
 * labelled file.
 */
public final class JudgeCheckJob {

  /** Rejects listed on the console at most (all of them are in the table). */
  static final int REJECTS_SHOWN = 20;

  private JudgeCheckJob() {}

  /**
   * What a check found.
   *
   * @param labelledSha256 SHA-256 of the labelled file's bytes
   * @param checks the {@code judge_checks} rows written, by judge (configured order), {@code ALL}
   *     first
   * @param rejectsByReason rejected rows per reason id
   * @param rejectsShown the first rejects by line
   * @param disagreements per judge, the first rows (by line) whose two labels differ
   * @param agreements the {@code judge_agreement} rows written (empty with one judge), pair by pair
   *     in configured order, {@code ALL} first
   */
  public record Outcome(
      JudgeCheckConfig config,
      String labelledSha256,
      List<JudgeCheckRow> checks,
      List<JudgeAgreementRow> agreements,
      long rowsRead,
      Map<String, Long> rejectsByReason,
      List<JudgeCheckRejectRow> rejectsShown,
      Map<String, List<Disagreement>> disagreements) {

    public long rowsRejected() {
      return rejectsByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The console report: per judge, the figures and confusion matrices. */
    public String report() {
      return CheckReport.render(this);
    }
  }

  /** A row where a judge and the person differ. */
  public record Disagreement(
      long line, String category, Label human, Label judge, String response) {}

  /**
   * @param labelledSha256 from {@link LabelledResponses#checkFile}
   * @param disagreementsShown rows whose labels differ listed per judge at most
   */
  public static Outcome run(
      SparkSession spark, JudgeCheckConfig config, String labelledSha256, int disagreementsShown) {
    RunTables tables = new RunTables(spark, config.output(), config.runId());
    spark.sparkContext().setJobGroup("judge-check", "Reading " + config.file(), false);
    Dataset<Row> rows = LabelledResponses.load(spark, config).persist();
    try {
      Dataset<Row> rejects =
          rows.where(col(Columns.REASON).isNotNull())
              .select(
                  col(Columns.LINE), col(Columns.REASON), col(Columns.DETAIL), col(Columns.RAW));
      tables.write(Table.JUDGE_CHECK_REJECTS, rejects);
      long rowsRead = rows.count();
      Map<String, Long> rejectsByReason = new TreeMap<>();
      for (Row r : rejects.groupBy(Columns.REASON).count().collectAsList()) {
        rejectsByReason.put(r.getString(0), r.getLong(1));
      }
      List<JudgeCheckRejectRow> shown =
          rejects.orderBy(Columns.LINE).limit(REJECTS_SHOWN).collectAsList().stream()
              .map(
                  r ->
                      new JudgeCheckRejectRow(
                          r.getLong(0),
                          r.getString(1),
                          r.getString(2),
                          r.getString(3),
                          config.runId()))
              .toList();

      spark
          .sparkContext()
          .setJobGroup(
              "judge-check", "Judging with " + config.judges().size() + " judge(s)", false);
      List<Judge> judges = JudgeConfig.newJudges(config.judges(), null, ScoringConfig.DEFAULTS);
      Map<String, String> provenance = new LinkedHashMap<>();
      judges.forEach(j -> provenance.put(j.name(), j.provenance()));
      Dataset<Row> judged =
          rows.where(col(Columns.REASON).isNull())
              .mapPartitions(new JudgePartition(judges), Encoders.row(JudgePartition.SCHEMA))
              .persist();
      try {
        long rejected = rejectsByReason.values().stream().mapToLong(Long::longValue).sum();
        List<JudgeCheckRow> checks =
            checkRows(config, provenance, counts(judged), rowsRead, rejected, labelledSha256);
        tables.write(Table.JUDGE_CHECKS, checks);
        List<JudgeAgreementRow> agreements = agreements(judged, config);
        tables.write(Table.JUDGE_AGREEMENT, agreements);
        Map<String, List<Disagreement>> disagreements =
            disagreements(judged, config, disagreementsShown);
        return new Outcome(
            config,
            labelledSha256,
            checks,
            agreements,
            rowsRead,
            rejectsByReason,
            shown,
            disagreements);
      } finally {
        judged.unpersist();
      }
    } finally {
      rows.unpersist();
      spark.sparkContext().clearJobGroup();
    }
  }

  /**
   * Every pair of judges on the same rows: the judged rows of judge a joined with judge b's on the
   * line, counted per category.
   */
  private static List<JudgeAgreementRow> agreements(Dataset<Row> judged, JudgeCheckConfig config) {
    List<List<String>> pairs =
        AgreementCounts.judgePairs(config.judges().stream().map(JudgeConfig::name).toList());
    Dataset<Row> all = null;
    for (List<String> pair : pairs) {
      Dataset<Row> a = side(judged, pair.get(0), "_a", AgreementCounts.LABEL_A);
      Dataset<Row> b = side(judged, pair.get(1), "_b", AgreementCounts.LABEL_B);
      Dataset<Row> p =
          a.join(b, col(Columns.LINE + "_a").equalTo(col(Columns.LINE + "_b")), "full_outer")
              .select(
                  lit(config.file()).as(Columns.BENCHMARK),
                  coalesce(col(Columns.CATEGORY + "_a"), col(Columns.CATEGORY + "_b"))
                      .as(Columns.CATEGORY),
                  lit(pair.get(0)).as(JudgeAgreementRow.JUDGE_A),
                  lit(pair.get(1)).as(JudgeAgreementRow.JUDGE_B),
                  col(AgreementCounts.LABEL_A),
                  col(AgreementCounts.LABEL_B));
      all = all == null ? p : all.unionAll(p);
    }
    return all == null
        ? List.of()
        : AgreementCounts.rows(all, pairs, config.confidence(), config.runId());
  }

  /** One judge's rows, their line and category renamed with {@code suffix} for the pair's join. */
  private static Dataset<Row> side(Dataset<Row> judged, String judge, String suffix, String label) {
    return judged
        .where(col(JudgeCheckRow.JUDGE).equalTo(judge))
        .select(
            col(Columns.LINE).as(Columns.LINE + suffix),
            col(Columns.CATEGORY).as(Columns.CATEGORY + suffix),
            col(JudgePartition.JUDGE_LABEL).as(label));
  }

  /** Judge → category (null: none) → confusion matrix of that judge's rows in the category. */
  private static Map<String, Map<String, ConfusionMatrix>> counts(Dataset<Row> judged) {
    Map<String, Map<String, ConfusionMatrix>> out = new LinkedHashMap<>();
    for (Row r :
        judged
            .groupBy(
                JudgeCheckRow.JUDGE,
                Columns.CATEGORY,
                LabelledResponse.HUMAN_LABEL,
                JudgePartition.JUDGE_LABEL)
            .count()
            .collectAsList()) {
      out.computeIfAbsent(r.getString(0), k -> new LinkedHashMap<>())
          .merge(
              r.getString(1),
              ConfusionMatrix.EMPTY.plus(
                  Label.fromId(r.getString(2)), Label.fromId(r.getString(3)), r.getLong(4)),
              ConfusionMatrix::plus);
    }
    return out;
  }

  /**
   * Per judge in configured order: {@code ALL}, then each category by name, the rows without one
   * last (when no row has a category, {@code ALL} only). A judge that judged nothing (every row
   * rejected) has no row.
   */
  static List<JudgeCheckRow> checkRows(
      JudgeCheckConfig config,
      Map<String, String> provenance,
      Map<String, Map<String, ConfusionMatrix>> counts,
      long rowsRead,
      long rowsRejected,
      String labelledSha256) {
    List<JudgeCheckRow> out = new ArrayList<>();
    for (JudgeConfig j : config.judges()) {
      Map<String, ConfusionMatrix> byCategory = counts.getOrDefault(j.name(), Map.of());
      if (byCategory.isEmpty()) {
        continue;
      }
      ConfusionMatrix all =
          byCategory.values().stream().reduce(ConfusionMatrix.EMPTY, ConfusionMatrix::plus);
      List<String> categories = new ArrayList<>(byCategory.keySet());
      categories.sort(Comparator.nullsLast(Comparator.naturalOrder()));
      String p = provenance.get(j.name());
      out.add(row(config, j, p, Columns.ALL, all, rowsRead, rowsRejected, labelledSha256));
      if (categories.equals(Collections.singletonList(null))) {
        continue; // no row has a category: the one group would repeat ALL
      }
      for (String c : categories) {
        out.add(row(config, j, p, c, byCategory.get(c), rowsRead, rowsRejected, labelledSha256));
      }
    }
    return out;
  }

  private static JudgeCheckRow row(
      JudgeCheckConfig config,
      JudgeConfig judge,
      String provenance,
      String category,
      ConfusionMatrix m,
      long rowsRead,
      long rowsRejected,
      String labelledSha256) {
    return new JudgeCheckRow(
        judge.name(),
        judge.kind(),
        provenance,
        category,
        m,
        config.confidence(),
        rowsRead,
        rowsRejected,
        config.file(),
        labelledSha256,
        config.runId());
  }

  private static Map<String, List<Disagreement>> disagreements(
      Dataset<Row> judged, JudgeCheckConfig config, int limit) {
    Map<String, List<Disagreement>> out = new LinkedHashMap<>();
    for (JudgeConfig j : config.judges()) {
      List<Disagreement> list = new ArrayList<>();
      if (limit > 0) {
        for (Row r :
            judged
                .where(
                    col(JudgeCheckRow.JUDGE)
                        .equalTo(j.name())
                        .and(
                            col(LabelledResponse.HUMAN_LABEL)
                                .notEqual(col(JudgePartition.JUDGE_LABEL))))
                .orderBy(Columns.LINE)
                .limit(limit)
                .collectAsList()) {
          list.add(
              new Disagreement(
                  r.getLong(r.fieldIndex(Columns.LINE)),
                  r.getString(r.fieldIndex(Columns.CATEGORY)),
                  Label.fromId(r.getString(r.fieldIndex(LabelledResponse.HUMAN_LABEL))),
                  Label.fromId(r.getString(r.fieldIndex(JudgePartition.JUDGE_LABEL))),
                  r.getString(r.fieldIndex(LabelledResponse.RESPONSE))));
        }
      }
      out.put(j.name(), List.copyOf(list));
    }
    return out;
  }

  static String categoryName(String category) {
    return Objects.requireNonNullElse(category, "(none)");
  }
}

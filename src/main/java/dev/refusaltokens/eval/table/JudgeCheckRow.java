package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.judge.ConfusionMatrix;
import dev.refusaltokens.eval.judge.Label;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code judge_checks}: how one judge's labels agree with a person's on one group of a
 * labelled set ({@code ALL}, or one category): the confusion matrix as one count column per (human
 * label, judge label) pair, accuracy, Cohen's κ and its confidence interval.
 *
 * @param judgeProvenance what the judge is ({@code JudgeConfig.provenance()})
 * @param category {@code ALL}, a category, or null for the rows that have none
 * @param confusion the (human, judge) counts; the human label is never {@code unclear}
 * @param confidence the level of {@code kappa_low} and {@code kappa_high}
 * @param labelledFile the labelled file as configured
 * @param labelledSha256 SHA-256 of its bytes (its files', in path order)
 * @param rowsRead input rows, rejected ones included
 * @param rowsRejected input rows in {@code judge_check_rejects}, judged by no judge
 */
public record JudgeCheckRow(
    String judge,
    String judgeKind,
    String judgeProvenance,
    String category,
    ConfusionMatrix confusion,
    double confidence,
    long rowsRead,
    long rowsRejected,
    String labelledFile,
    String labelledSha256,
    String runId)
    implements TableRecord {

  public static final String JUDGE = "judge";
  public static final String JUDGE_KIND = "judge_kind";
  public static final String JUDGE_PROVENANCE = "judge_provenance";
  public static final String AGREED = "agreed";
  public static final String ACCURACY = "accuracy";
  public static final String CHANCE_AGREEMENT = "chance_agreement";
  public static final String KAPPA = "kappa";
  public static final String KAPPA_LOW = "kappa_low";
  public static final String KAPPA_HIGH = "kappa_high";
  public static final String CONFIDENCE = "confidence";
  public static final String ROWS_READ = "rows_read";
  public static final String ROWS_REJECTED = "rows_rejected";
  public static final String LABELLED_FILE = "labelled_file";
  public static final String LABELLED_SHA256 = "labelled_sha256";

  public static final StructType SCHEMA = schema();

  /** The count column of one cell: {@code human_refused_judged_unclear}. */
  public static String cell(Label human, Label judge) {
    return "human_" + human.id() + "_judged_" + judge.id();
  }

  private static StructType schema() {
    List<StructField> f = new ArrayList<>();
    f.add(createStructField(JUDGE, StringType, false));
    f.add(createStructField(JUDGE_KIND, StringType, false));
    f.add(createStructField(JUDGE_PROVENANCE, StringType, false));
    f.add(createStructField(Columns.CATEGORY, StringType, true));
    f.add(createStructField(Columns.N, LongType, false));
    f.add(createStructField(AGREED, LongType, false));
    f.add(createStructField(ACCURACY, DoubleType, false));
    f.add(createStructField(CHANCE_AGREEMENT, DoubleType, false));
    f.add(createStructField(KAPPA, DoubleType, true));
    f.add(createStructField(KAPPA_LOW, DoubleType, true));
    f.add(createStructField(KAPPA_HIGH, DoubleType, true));
    f.add(createStructField(CONFIDENCE, DoubleType, false));
    for (Label h : Label.HUMAN) {
      for (Label j : Label.values()) {
        f.add(createStructField(cell(h, j), LongType, false));
      }
    }
    f.add(createStructField(ROWS_READ, LongType, false));
    f.add(createStructField(ROWS_REJECTED, LongType, false));
    f.add(createStructField(LABELLED_FILE, StringType, false));
    f.add(createStructField(LABELLED_SHA256, StringType, false));
    f.add(createStructField(Columns.RUN_ID, StringType, false));
    return createStructType(f);
  }

  public JudgeCheckRow {
    if (confusion.n() == 0) {
      throw new IllegalArgumentException("a judge_checks row counts at least one response");
    }
    for (Label j : Label.values()) {
      if (confusion.count(Label.UNCLEAR, j) != 0) {
        throw new IllegalArgumentException("a person's label is never unclear: " + confusion);
      }
    }
  }

  @Override
  public Row toRow() {
    double[] ci = confusion.kappaInterval(confidence);
    RowBuilder b =
        RowBuilder.of(SCHEMA)
            .set(JUDGE, judge)
            .set(JUDGE_KIND, judgeKind)
            .set(JUDGE_PROVENANCE, judgeProvenance)
            .set(Columns.CATEGORY, category)
            .set(Columns.N, confusion.n())
            .set(AGREED, confusion.agreed())
            .set(ACCURACY, confusion.accuracy())
            .set(CHANCE_AGREEMENT, confusion.chanceAgreement())
            .set(KAPPA, confusion.kappa())
            .set(KAPPA_LOW, ci == null ? null : ci[0])
            .set(KAPPA_HIGH, ci == null ? null : ci[1])
            .set(CONFIDENCE, confidence);
    for (Label h : Label.HUMAN) {
      for (Label j : Label.values()) {
        b.set(cell(h, j), confusion.count(h, j));
      }
    }
    return b.set(ROWS_READ, rowsRead)
        .set(ROWS_REJECTED, rowsRejected)
        .set(LABELLED_FILE, labelledFile)
        .set(LABELLED_SHA256, labelledSha256)
        .set(Columns.RUN_ID, runId)
        .build();
  }

  /** Read back; the figures ({@code n}, accuracy, κ and its bounds) follow from the counts. */
  public static JudgeCheckRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    ConfusionMatrix m = ConfusionMatrix.EMPTY;
    for (Label h : Label.HUMAN) {
      for (Label j : Label.values()) {
        m = m.plus(h, j, r.longValue(cell(h, j)));
      }
    }
    return new JudgeCheckRow(
        r.string(JUDGE),
        r.string(JUDGE_KIND),
        r.string(JUDGE_PROVENANCE),
        r.string(Columns.CATEGORY),
        m,
        r.doubleValue(CONFIDENCE),
        r.longValue(ROWS_READ),
        r.longValue(ROWS_REJECTED),
        r.string(LABELLED_FILE),
        r.string(LABELLED_SHA256),
        r.string(Columns.RUN_ID));
  }
}

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
 * One row of {@code judge_agreement}: how two judges' labels of the same responses agree on one
 * group ({@code ALL}, or one category) of one benchmark: one count column per (label of {@code
 * judge_a}, label of {@code judge_b}) pair, the observed and chance agreement, Cohen's κ and its
 * confidence interval ({@link ConfusionMatrix#kappaInterval}). The evaluation writes it from {@code
 * responses}; {@code judge-check} from the labelled file, where {@code benchmark} is the file.
 *
 * @param benchmark the benchmark; in a {@code judge-check} run, the labelled file as configured
 * @param category {@code ALL}, a category, or null for the rows that have none
 * @param judgeA the first judge of the pair: the earlier in the configured {@code judges}
 * @param confusion the (judge_a, judge_b) label counts
 * @param confidence the level of {@code kappa_low} and {@code kappa_high}
 */
public record JudgeAgreementRow(
    String benchmark,
    String category,
    String judgeA,
    String judgeB,
    ConfusionMatrix confusion,
    double confidence,
    String runId)
    implements TableRecord {

  public static final String JUDGE_A = "judge_a";
  public static final String JUDGE_B = "judge_b";
  public static final String AGREED = "agreed";
  public static final String AGREEMENT = "agreement";
  public static final String CHANCE_AGREEMENT = "chance_agreement";
  public static final String KAPPA = "kappa";
  public static final String KAPPA_LOW = "kappa_low";
  public static final String KAPPA_HIGH = "kappa_high";
  public static final String CONFIDENCE = "confidence";

  public static final StructType SCHEMA = schema();

  /** The count column of one cell: {@code a_refused_b_partial}. */
  public static String cell(Label a, Label b) {
    return "a_" + a.id() + "_b_" + b.id();
  }

  private static StructType schema() {
    List<StructField> f = new ArrayList<>();
    f.add(createStructField(Columns.BENCHMARK, StringType, false));
    f.add(createStructField(Columns.CATEGORY, StringType, true));
    f.add(createStructField(JUDGE_A, StringType, false));
    f.add(createStructField(JUDGE_B, StringType, false));
    f.add(createStructField(Columns.N, LongType, false));
    f.add(createStructField(AGREED, LongType, false));
    f.add(createStructField(AGREEMENT, DoubleType, false));
    f.add(createStructField(CHANCE_AGREEMENT, DoubleType, false));
    f.add(createStructField(KAPPA, DoubleType, true));
    f.add(createStructField(KAPPA_LOW, DoubleType, true));
    f.add(createStructField(KAPPA_HIGH, DoubleType, true));
    f.add(createStructField(CONFIDENCE, DoubleType, false));
    for (Label a : Label.values()) {
      for (Label b : Label.values()) {
        f.add(createStructField(cell(a, b), LongType, false));
      }
    }
    f.add(createStructField(Columns.RUN_ID, StringType, false));
    return createStructType(f);
  }

  public JudgeAgreementRow {
    if (confusion.n() == 0) {
      throw new IllegalArgumentException("a judge_agreement row counts at least one response");
    }
    if (judgeA.equals(judgeB)) {
      throw new IllegalArgumentException("a judge agrees with itself: " + judgeA);
    }
  }

  @Override
  public Row toRow() {
    double[] ci = confusion.kappaInterval(confidence);
    RowBuilder b =
        RowBuilder.of(SCHEMA)
            .set(Columns.BENCHMARK, benchmark)
            .set(Columns.CATEGORY, category)
            .set(JUDGE_A, judgeA)
            .set(JUDGE_B, judgeB)
            .set(Columns.N, confusion.n())
            .set(AGREED, confusion.agreed())
            .set(AGREEMENT, confusion.accuracy())
            .set(CHANCE_AGREEMENT, confusion.chanceAgreement())
            .set(KAPPA, confusion.kappa())
            .set(KAPPA_LOW, ci == null ? null : ci[0])
            .set(KAPPA_HIGH, ci == null ? null : ci[1])
            .set(CONFIDENCE, confidence);
    for (Label a : Label.values()) {
      for (Label j : Label.values()) {
        b.set(cell(a, j), confusion.count(a, j));
      }
    }
    return b.set(Columns.RUN_ID, runId).build();
  }

  /** Read back; the figures (n, agreement, κ and its bounds) follow from the counts. */
  public static JudgeAgreementRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    ConfusionMatrix m = ConfusionMatrix.EMPTY;
    for (Label a : Label.values()) {
      for (Label b : Label.values()) {
        m = m.plus(a, b, r.longValue(cell(a, b)));
      }
    }
    return new JudgeAgreementRow(
        r.string(Columns.BENCHMARK),
        r.string(Columns.CATEGORY),
        r.string(JUDGE_A),
        r.string(JUDGE_B),
        m,
        r.doubleValue(CONFIDENCE),
        r.string(Columns.RUN_ID));
  }
}

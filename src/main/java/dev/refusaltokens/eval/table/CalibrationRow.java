package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createArrayType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code calibration}: how well {@code p = Σ_c p(c)} (the refusal probability) predicts
 * should_refuse over one group (temperature × benchmark or {@code ALL} × category or {@code ALL}):
 * Brier score, expected calibration error and the reliability bins.
 *
 * @param shouldRefuseShare the share of the group's prompts that should be refused
 * @param meanP the mean refusal probability
 * @param bins the non-empty reliability bins, in bin order
 */
public record CalibrationRow(
    double temperature,
    String benchmark,
    String category,
    long n,
    double shouldRefuseShare,
    double meanP,
    double brier,
    double ece,
    List<Bin> bins,
    String runId)
    implements TableRecord {

  public static final String SHOULD_REFUSE_SHARE = "should_refuse_share";
  public static final String MEAN_P = "mean_p";
  public static final String BRIER = "brier";
  public static final String ECE = "ece";
  public static final String BINS = "bins";

  /**
   * One reliability bin {@code [low, high)} of {@code p}: its prompt count, their mean {@code p}
   * and the share of them that should be refused.
   */
  public record Bin(int bin, double low, double high, long n, double meanP, double observed) {

    public static final String BIN = "bin";
    public static final String LOW = "low";
    public static final String HIGH = "high";
    public static final String OBSERVED = "observed";

    public static final StructType SCHEMA =
        createStructType(
            List.of(
                createStructField(BIN, IntegerType, false),
                createStructField(LOW, DoubleType, false),
                createStructField(HIGH, DoubleType, false),
                createStructField(Columns.N, LongType, false),
                createStructField(MEAN_P, DoubleType, false),
                createStructField(OBSERVED, DoubleType, false)));

    public Row toRow() {
      return RowBuilder.of(SCHEMA)
          .set(BIN, bin)
          .set(LOW, low)
          .set(HIGH, high)
          .set(Columns.N, n)
          .set(MEAN_P, meanP)
          .set(OBSERVED, observed)
          .build();
    }

    public static Bin fromRow(Row row) {
      RowReader r = RowReader.of(row);
      return new Bin(
          r.intValue(BIN),
          r.doubleValue(LOW),
          r.doubleValue(HIGH),
          r.longValue(Columns.N),
          r.doubleValue(MEAN_P),
          r.doubleValue(OBSERVED));
    }
  }

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(Columns.N, LongType, false),
              createStructField(SHOULD_REFUSE_SHARE, DoubleType, false),
              createStructField(MEAN_P, DoubleType, false),
              createStructField(BRIER, DoubleType, false),
              createStructField(ECE, DoubleType, false),
              createStructField(BINS, createArrayType(Bin.SCHEMA, false), false),
              createStructField(Columns.RUN_ID, StringType, false)));

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.CATEGORY, category)
        .set(Columns.N, n)
        .set(SHOULD_REFUSE_SHARE, shouldRefuseShare)
        .set(MEAN_P, meanP)
        .set(BRIER, brier)
        .set(ECE, ece)
        .set(BINS, bins.stream().map(Bin::toRow).toList())
        .set(Columns.RUN_ID, runId)
        .build();
  }

  public static CalibrationRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new CalibrationRow(
        r.doubleValue(Columns.TEMPERATURE),
        r.string(Columns.BENCHMARK),
        r.string(Columns.CATEGORY),
        r.longValue(Columns.N),
        r.doubleValue(SHOULD_REFUSE_SHARE),
        r.doubleValue(MEAN_P),
        r.doubleValue(BRIER),
        r.doubleValue(ECE),
        r.structs(BINS).stream().map(Bin::fromRow).toList(),
        r.string(Columns.RUN_ID));
  }
}

package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of {@code roc}: point {@code point} of the exact ROC curve of the shared threshold at one
 * temperature, for one category's should-refuse prompts (or {@code ALL}) against every
 * should-answer prompt; {@code auc} is the whole curve's, repeated on each of its points.
 */
public record RocRow(
    double temperature,
    String category,
    int point,
    double threshold,
    long nRefuse,
    long nAnswer,
    double refusalRate,
    double falseRefusalRate,
    double auc,
    String runId)
    implements TableRecord {

  public static final String THRESHOLD = "threshold";
  public static final String AUC = "auc";

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(Columns.POINT, IntegerType, false),
              createStructField(THRESHOLD, DoubleType, false),
              createStructField(Columns.N_REFUSE, LongType, false),
              createStructField(Columns.N_ANSWER, LongType, false),
              createStructField(Columns.REFUSAL_RATE, DoubleType, false),
              createStructField(Columns.FALSE_REFUSAL_RATE, DoubleType, false),
              createStructField(AUC, DoubleType, false),
              createStructField(Columns.RUN_ID, StringType, false)));

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.CATEGORY, category)
        .set(Columns.POINT, point)
        .set(THRESHOLD, threshold)
        .set(Columns.N_REFUSE, nRefuse)
        .set(Columns.N_ANSWER, nAnswer)
        .set(Columns.REFUSAL_RATE, refusalRate)
        .set(Columns.FALSE_REFUSAL_RATE, falseRefusalRate)
        .set(AUC, auc)
        .set(Columns.RUN_ID, runId)
        .build();
  }

  public static RocRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new RocRow(
        r.doubleValue(Columns.TEMPERATURE),
        r.string(Columns.CATEGORY),
        r.intValue(Columns.POINT),
        r.doubleValue(THRESHOLD),
        r.longValue(Columns.N_REFUSE),
        r.longValue(Columns.N_ANSWER),
        r.doubleValue(Columns.REFUSAL_RATE),
        r.doubleValue(Columns.FALSE_REFUSAL_RATE),
        r.doubleValue(AUC),
        r.string(Columns.RUN_ID));
  }
}

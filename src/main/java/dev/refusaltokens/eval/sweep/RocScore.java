package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.RowReader;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One prompt's score p(c*) in one ROC curve (a temperature and a category or {@code ALL}), as a
 * positive (should refuse, {@code positive} 1) or a negative (0).
 */
record RocScore(double temperature, String category, int positive, double score) {

  static final String POSITIVE = "positive";
  static final String SCORE = "score";

  static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(Columns.TEMPERATURE, DoubleType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(POSITIVE, IntegerType, false),
              createStructField(SCORE, DoubleType, false)));

  Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(Columns.TEMPERATURE, temperature)
        .set(Columns.CATEGORY, category)
        .set(POSITIVE, positive)
        .set(SCORE, score)
        .build();
  }

  static RocScore fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new RocScore(
        r.doubleValue(Columns.TEMPERATURE),
        r.string(Columns.CATEGORY),
        r.intValue(POSITIVE),
        r.doubleValue(SCORE));
  }
}

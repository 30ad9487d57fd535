package dev.refusaltokens.eval.judge;

import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgeCheckRow;
import dev.refusaltokens.eval.table.RowBuilder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Executor-side: each labelled row (not a reject) → one row per judge with the judge's label next
 * to the person's ({@link #SCHEMA}). The judges travel serialized with the task.
 */
final class JudgePartition implements MapPartitionsFunction<Row, Row> {

  static final String JUDGE_LABEL = "judge_label";

  static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(JudgeCheckRow.JUDGE, StringType, false),
              createStructField(Columns.LINE, LongType, false),
              createStructField(Columns.CATEGORY, StringType, true),
              createStructField(LabelledResponse.HUMAN_LABEL, StringType, false),
              createStructField(JUDGE_LABEL, StringType, false),
              createStructField(LabelledResponse.RESPONSE, StringType, false)));

  private final List<Judge> judges;

  JudgePartition(List<Judge> judges) {
    this.judges = new ArrayList<>(judges); // a serializable list
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    return new Iterator<>() {
      private LabelledResponse current;
      private int next = judges.size();

      @Override
      public boolean hasNext() {
        return next < judges.size() || rows.hasNext();
      }

      @Override
      public Row next() {
        if (next == judges.size()) {
          if (!rows.hasNext()) {
            throw new NoSuchElementException();
          }
          current = LabelledResponse.fromRow(rows.next());
          next = 0;
        }
        Judge judge = judges.get(next++);
        Verdict v = judge.judge(current.prompt(), current.response(), current.category());
        return RowBuilder.of(SCHEMA)
            .set(JudgeCheckRow.JUDGE, judge.name())
            .set(Columns.LINE, current.line())
            .set(Columns.CATEGORY, current.category())
            .set(LabelledResponse.HUMAN_LABEL, current.humanLabel().id())
            .set(JUDGE_LABEL, v.label().id())
            .set(LabelledResponse.RESPONSE, current.response())
            .build();
      }
    };
  }
}

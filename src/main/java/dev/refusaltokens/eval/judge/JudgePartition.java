package dev.refusaltokens.eval.judge;

import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgeCheckRow;
import dev.refusaltokens.eval.table.RowBuilder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;

/**
 * Executor-side: each labelled row (not a reject) → one row per judge with the judge's label next
 * to the person's ({@link #SCHEMA}). The judges travel serialized with the task; each opens one
 * {@link Judge.Session} per task, closed when the task completes, and judges windows of {@link
 * #WINDOW_ROWS} rows.
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

  /** Labelled rows judged together (a model judge batches its forward passes within them). */
  static final int WINDOW_ROWS = 512;

  private final List<Judge> judges;

  JudgePartition(List<Judge> judges) {
    this.judges = new ArrayList<>(judges); // a serializable list
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    if (!rows.hasNext()) {
      return Collections.emptyIterator();
    }
    List<Judge.Session> sessions = new ArrayList<>(judges.size());
    Runnable close = () -> sessions.forEach(Judge.Session::close);
    try {
      judges.forEach(j -> sessions.add(j.open()));
    } catch (RuntimeException e) {
      close.run();
      throw e;
    }
    TaskContext ctx = TaskContext.get();
    if (ctx != null) {
      ctx.addTaskCompletionListener((TaskCompletionListener) c -> close.run());
    }
    return new Iterator<>() {
      private Iterator<Row> current = Collections.emptyIterator();
      private boolean closed;

      @Override
      public boolean hasNext() {
        while (!current.hasNext()) {
          if (!rows.hasNext()) {
            if (ctx == null && !closed) {
              closed = true;
              close.run();
            }
            return false;
          }
          List<LabelledResponse> window = new ArrayList<>(WINDOW_ROWS);
          while (rows.hasNext() && window.size() < WINDOW_ROWS) {
            window.add(LabelledResponse.fromRow(rows.next()));
          }
          current = judge(window, sessions).iterator();
        }
        return true;
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
  }

  /** Rows in judge-major order: every row's label by the first judge, then by the next. */
  private List<Row> judge(List<LabelledResponse> window, List<Judge.Session> sessions) {
    List<JudgeInput> inputs =
        window.stream()
            .map(r -> new JudgeInput(null, r.prompt(), r.response(), r.category()))
            .toList();
    List<Row> out = new ArrayList<>(window.size() * judges.size());
    for (int j = 0; j < judges.size(); j++) {
      List<Verdict> verdicts = sessions.get(j).judge(inputs);
      for (int i = 0; i < window.size(); i++) {
        LabelledResponse current = window.get(i);
        out.add(
            RowBuilder.of(SCHEMA)
                .set(JudgeCheckRow.JUDGE, judges.get(j).name())
                .set(Columns.LINE, current.line())
                .set(Columns.CATEGORY, current.category())
                .set(LabelledResponse.HUMAN_LABEL, current.humanLabel().id())
                .set(JUDGE_LABEL, verdicts.get(i).label().id())
                .set(LabelledResponse.RESPONSE, current.response())
                .build());
      }
    }
    return out;
  }
}

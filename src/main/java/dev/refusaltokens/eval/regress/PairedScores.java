package dev.refusaltokens.eval.regress;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.table.Table;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;

/**
 * The scores of a baseline and a candidate run, joined prompt by prompt: a full outer join on
 * (benchmark, prompt_id, temperature, prompt_sha256) whose rows hold each run's scores row as a
 * struct column ({@link #BASELINE}, {@link #CANDIDATE}; null where that run lacks the prompt), read
 * back with {@link ScoreRow#fromRow}. A prompt whose text changed between the runs is two unpaired
 * prompts.
 */
final class PairedScores {

  static final String BASELINE = "baseline";
  static final String CANDIDATE = "candidate";

  /** The columns joined on. */
  private static final List<String> KEY =
      List.of(Columns.BENCHMARK, Columns.PROMPT_ID, Columns.TEMPERATURE, Columns.PROMPT_SHA256);

  private final Dataset<Row> baseline;
  private final Dataset<Row> candidate;

  private PairedScores(Dataset<Row> baseline, Dataset<Row> candidate) {
    this.baseline = baseline;
    this.candidate = candidate;
  }

  static PairedScores of(RunTables baseline, RunTables candidate) {
    return new PairedScores(baseline.read(Table.SCORES), candidate.read(Table.SCORES));
  }

  /** The temperatures both runs scored, ascending. */
  Set<Double> sharedTemperatures() {
    Set<Double> shared = new TreeSet<>(temperatures(baseline));
    shared.retainAll(temperatures(candidate));
    return shared;
  }

  /** The counts of every group of every comparison, ordered by {@link GroupCounts#GROUP}. */
  List<GroupCounts> count(PairedCounter counter) {
    Dataset<Row> b = side(baseline, BASELINE);
    Dataset<Row> c = side(candidate, CANDIDATE);
    Column on =
        KEY.stream()
            .map(k -> col(BASELINE + "." + k).equalTo(col(CANDIDATE + "." + k)))
            .reduce(Column::and)
            .orElseThrow();
    Column[] sums = GroupCounts.COUNTS.stream().map(n -> sum(n).as(n)).toArray(Column[]::new);
    Column[] group = GroupCounts.GROUP.stream().map(n -> col(n)).toArray(Column[]::new);
    return b
        .join(c, on, "full_outer")
        .mapPartitions(counter, Encoders.row(GroupCounts.SCHEMA))
        .groupBy(group)
        .agg(sums[0], Arrays.copyOfRange(sums, 1, sums.length))
        .orderBy(group)
        .collectAsList()
        .stream()
        .map(GroupCounts::fromRow)
        .toList();
  }

  /**
   * One run's scores as a single struct column named {@code name}: every column of the table but
   * {@code run_id}, and {@code prompt} left null — the decision does not read the text, and the
   * join would shuffle it for nothing.
   */
  private static Dataset<Row> side(Dataset<Row> scores, String name) {
    Column[] fields =
        Arrays.stream(ScoreRow.SCHEMA.fieldNames())
            .filter(f -> !f.equals(Columns.RUN_ID))
            .map(
                f -> f.equals(Columns.PROMPT) ? lit(null).cast(DataTypes.StringType).as(f) : col(f))
            .toArray(Column[]::new);
    return scores.select(struct(fields).as(name));
  }

  private static List<Double> temperatures(Dataset<Row> scores) {
    return scores.select(Columns.TEMPERATURE).distinct().as(Encoders.DOUBLE()).collectAsList();
  }
}

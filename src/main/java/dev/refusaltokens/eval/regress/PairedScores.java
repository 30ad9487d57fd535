package dev.refusaltokens.eval.regress;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map_from_entries;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.ResponseRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.table.Table;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The scores of a baseline and a candidate run, joined prompt by prompt: a full outer join on
 * (benchmark, prompt_id, temperature, prompt_sha256) whose rows hold each run's scores row as a
 * struct column ({@link #BASELINE}, {@link #CANDIDATE}; null where that run lacks the prompt), read
 * back with {@link ScoreRow#fromRow}. A prompt whose text changed between the runs is two unpaired
 * prompts.
 *
 * <p>When judged rates are compared, each side's struct also holds the prompt's responses in that
 * run: {@link #LABELS}, first token string → the primary judge's label (null when the run has no
 * response for the prompt, e.g. outside its {@code responses.sample}), and the prompt text hashes
 * the responses were generated for ({@link #RESPONSES_SHA_MIN}, {@link #RESPONSES_SHA_MAX}), which
 * {@link PairedCounter} checks against the score's.
 */
final class PairedScores {

  static final String BASELINE = "baseline";
  static final String CANDIDATE = "candidate";
  static final String LABELS = "judged_labels";
  static final String RESPONSES_SHA_MIN = "responses_prompt_sha256_min";
  static final String RESPONSES_SHA_MAX = "responses_prompt_sha256_max";

  /** The columns joined on. */
  private static final List<String> KEY =
      List.of(Columns.BENCHMARK, Columns.PROMPT_ID, Columns.TEMPERATURE, Columns.PROMPT_SHA256);

  private final RunTables baselineRun;
  private final RunTables candidateRun;
  private final Dataset<Row> baseline;
  private final Dataset<Row> candidate;
  private final boolean judged;

  private PairedScores(RunTables baselineRun, RunTables candidateRun, boolean judged) {
    this.baselineRun = baselineRun;
    this.candidateRun = candidateRun;
    this.baseline = baselineRun.read(Table.SCORES);
    this.candidate = candidateRun.read(Table.SCORES);
    this.judged = judged;
  }

  /**
   * Both runs' scores; with {@code judged}, each score carries its prompt's responses in that run.
   */
  static PairedScores of(RunTables baseline, RunTables candidate, boolean judged) {
    return new PairedScores(baseline, candidate, judged);
  }

  /** The temperatures both runs scored, ascending. */
  Set<Double> sharedTemperatures() {
    Set<Double> shared = new TreeSet<>(temperatures(baseline));
    shared.retainAll(temperatures(candidate));
    return shared;
  }

  /** The counts of every group of every comparison, ordered by {@link GroupCounts#GROUP}. */
  List<GroupCounts> count(PairedCounter counter) {
    Dataset<Row> b = side(judged ? withLabels(baseline, baselineRun) : baseline, BASELINE);
    Dataset<Row> c = side(judged ? withLabels(candidate, candidateRun) : candidate, CANDIDATE);
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
   * join would shuffle it for nothing; plus the responses' columns when there are.
   */
  private static Dataset<Row> side(Dataset<Row> scores, String name) {
    Set<String> columns = Set.of(scores.columns());
    Stream<String> names = Arrays.stream(ScoreRow.SCHEMA.fieldNames());
    if (columns.contains(LABELS)) {
      names = Stream.concat(names, Stream.of(LABELS, RESPONSES_SHA_MIN, RESPONSES_SHA_MAX));
    }
    Column[] fields =
        names
            .filter(f -> !f.equals(Columns.RUN_ID))
            .map(
                f -> f.equals(Columns.PROMPT) ? lit(null).cast(DataTypes.StringType).as(f) : col(f))
            .toArray(Column[]::new);
    return scores.select(struct(fields).as(name));
  }

  /**
   * The scores of a run, each with its prompt's responses in that run: first token → the primary
   * judge's label ({@code label}), null where the run has none for the prompt. Only the key and the
   * label of each response are read, not its text.
   */
  private static Dataset<Row> withLabels(Dataset<Row> scores, RunTables run) {
    Dataset<Row> responses = run.readIfPresent(Table.RESPONSES);
    if (responses == null) {
      throw new NotComparableException(
          "Run '"
              + run.runId()
              + "' records responses (runs.responses_rows) but has no responses table under "
              + run.output()
              + ": generate them again (REFUSAL_EVAL_COMMAND=respond jobs/evaluate.sh --run-id "
              + run.runId()
              + ")");
    }
    Dataset<Row> labels =
        responses
            .groupBy(col(Columns.BENCHMARK), col(Columns.PROMPT_ID))
            .agg(
                map_from_entries(
                        collect_list(struct(col(ResponseRow.FIRST_TOKEN), col(ResponseRow.LABEL))))
                    .as(LABELS),
                min(col(Columns.PROMPT_SHA256)).as(RESPONSES_SHA_MIN),
                max(col(Columns.PROMPT_SHA256)).as(RESPONSES_SHA_MAX));
    return scores.join(
        labels,
        CollectionConverters.asScala(List.of(Columns.BENCHMARK, Columns.PROMPT_ID)).toList(),
        "left");
  }

  private static List<Double> temperatures(Dataset<Row> scores) {
    return scores.select(Columns.TEMPERATURE).distinct().as(Encoders.DOUBLE()).collectAsList();
  }
}

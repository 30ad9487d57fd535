package dev.refusaltokens.eval.regress;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RowBuilder;
import dev.refusaltokens.eval.table.RowReader;
import dev.refusaltokens.eval.table.TableRecord;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * The counts of one comparison × measure × benchmark × category (or {@code ALL}) × should_refuse
 * over two runs' scores: each run's prompts and refusals, the prompts both runs scored, and those
 * only one of them refused (McNemar's discordant pairs). An intermediate row of {@link
 * PairedCounter}: partial counts per partition, then their sums per group.
 *
 * <p>A judged group counts the primary judge's labels instead of the emitted tokens, over the
 * prompts both runs judged with a clear label only: there {@code nBaseline = nCandidate = nPaired}
 * and {@code leftOut} counts the prompts one run or both judged that were not compared. A token
 * group's {@code leftOut} and {@code notGenerated*} are 0.
 *
 * @param comparison the index of the {@link Comparison} in the call's list
 * @param judged whether the group counts judged outcomes rather than first tokens
 * @param notGeneratedBaseline prompts the baseline has responses for, but none after the token the
 *     setting emits, which the baseline's own sweep never emits there: the respond stage did not
 *     owe it, so the setting's judged rate cannot be compared
 * @param notGeneratedCandidate the same for the candidate
 */
record GroupCounts(
    int comparison,
    boolean judged,
    String benchmark,
    String category,
    boolean shouldRefuse,
    long nBaseline,
    long kBaseline,
    long nCandidate,
    long kCandidate,
    long nPaired,
    long onlyBaseline,
    long onlyCandidate,
    long leftOut,
    long notGeneratedBaseline,
    long notGeneratedCandidate)
    implements TableRecord {

  static final String COMPARISON = "comparison";
  static final String JUDGED = "judged";
  static final String N_BASELINE = "n_baseline";
  static final String K_BASELINE = "k_baseline";
  static final String N_CANDIDATE = "n_candidate";
  static final String K_CANDIDATE = "k_candidate";
  static final String N_PAIRED = "n_paired";
  static final String ONLY_BASELINE = "only_baseline";
  static final String ONLY_CANDIDATE = "only_candidate";
  static final String LEFT_OUT = "left_out";
  static final String NOT_GENERATED_BASELINE = "not_generated_baseline";
  static final String NOT_GENERATED_CANDIDATE = "not_generated_candidate";

  /** The grouping columns, in the order the groups are sorted. */
  static final List<String> GROUP =
      List.of(COMPARISON, JUDGED, Columns.BENCHMARK, Columns.CATEGORY, Columns.SHOULD_REFUSE);

  /** The summed columns. */
  static final List<String> COUNTS =
      List.of(
          N_BASELINE,
          K_BASELINE,
          N_CANDIDATE,
          K_CANDIDATE,
          N_PAIRED,
          ONLY_BASELINE,
          ONLY_CANDIDATE,
          LEFT_OUT,
          NOT_GENERATED_BASELINE,
          NOT_GENERATED_CANDIDATE);

  static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(COMPARISON, IntegerType, false),
              createStructField(JUDGED, BooleanType, false),
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(Columns.SHOULD_REFUSE, BooleanType, false),
              createStructField(N_BASELINE, LongType, false),
              createStructField(K_BASELINE, LongType, false),
              createStructField(N_CANDIDATE, LongType, false),
              createStructField(K_CANDIDATE, LongType, false),
              createStructField(N_PAIRED, LongType, false),
              createStructField(ONLY_BASELINE, LongType, false),
              createStructField(ONLY_CANDIDATE, LongType, false),
              createStructField(LEFT_OUT, LongType, false),
              createStructField(NOT_GENERATED_BASELINE, LongType, false),
              createStructField(NOT_GENERATED_CANDIDATE, LongType, false)));

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(COMPARISON, comparison)
        .set(JUDGED, judged)
        .set(Columns.BENCHMARK, benchmark)
        .set(Columns.CATEGORY, category)
        .set(Columns.SHOULD_REFUSE, shouldRefuse)
        .set(N_BASELINE, nBaseline)
        .set(K_BASELINE, kBaseline)
        .set(N_CANDIDATE, nCandidate)
        .set(K_CANDIDATE, kCandidate)
        .set(N_PAIRED, nPaired)
        .set(ONLY_BASELINE, onlyBaseline)
        .set(ONLY_CANDIDATE, onlyCandidate)
        .set(LEFT_OUT, leftOut)
        .set(NOT_GENERATED_BASELINE, notGeneratedBaseline)
        .set(NOT_GENERATED_CANDIDATE, notGeneratedCandidate)
        .build();
  }

  static GroupCounts fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new GroupCounts(
        r.intValue(COMPARISON),
        r.booleanValue(JUDGED),
        r.string(Columns.BENCHMARK),
        r.string(Columns.CATEGORY),
        r.booleanValue(Columns.SHOULD_REFUSE),
        r.longValue(N_BASELINE),
        r.longValue(K_BASELINE),
        r.longValue(N_CANDIDATE),
        r.longValue(K_CANDIDATE),
        r.longValue(N_PAIRED),
        r.longValue(ONLY_BASELINE),
        r.longValue(ONLY_CANDIDATE),
        r.longValue(LEFT_OUT),
        r.longValue(NOT_GENERATED_BASELINE),
        r.longValue(NOT_GENERATED_CANDIDATE));
  }

  /** Whether both runs have prompts in this group (else the group is missing in one of them). */
  boolean inBoth() {
    return nBaseline != 0 && nCandidate != 0;
  }

  /** Both runs scored exactly the same prompts of this group: the paired (McNemar) test applies. */
  boolean samePrompts() {
    return nPaired == nBaseline && nPaired == nCandidate;
  }
}

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
 * The counts of one comparison × benchmark × category (or {@code ALL}) × should_refuse over two
 * runs' scores: each run's prompts and refusals, the prompts both runs scored, and those only one
 * of them refused (McNemar's discordant pairs). An intermediate row of {@link PairedCounter}:
 * partial counts per partition, then their sums per group.
 *
 * @param comparison the index of the {@link Comparison} in the call's list
 */
record GroupCounts(
    int comparison,
    String benchmark,
    String category,
    boolean shouldRefuse,
    long nBaseline,
    long kBaseline,
    long nCandidate,
    long kCandidate,
    long nPaired,
    long onlyBaseline,
    long onlyCandidate)
    implements TableRecord {

  static final String COMPARISON = "comparison";
  static final String N_BASELINE = "n_baseline";
  static final String K_BASELINE = "k_baseline";
  static final String N_CANDIDATE = "n_candidate";
  static final String K_CANDIDATE = "k_candidate";
  static final String N_PAIRED = "n_paired";
  static final String ONLY_BASELINE = "only_baseline";
  static final String ONLY_CANDIDATE = "only_candidate";

  /** The grouping columns, in the order the groups are sorted. */
  static final List<String> GROUP =
      List.of(COMPARISON, Columns.BENCHMARK, Columns.CATEGORY, Columns.SHOULD_REFUSE);

  /** The summed columns. */
  static final List<String> COUNTS =
      List.of(
          N_BASELINE,
          K_BASELINE,
          N_CANDIDATE,
          K_CANDIDATE,
          N_PAIRED,
          ONLY_BASELINE,
          ONLY_CANDIDATE);

  static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(COMPARISON, IntegerType, false),
              createStructField(Columns.BENCHMARK, StringType, false),
              createStructField(Columns.CATEGORY, StringType, false),
              createStructField(Columns.SHOULD_REFUSE, BooleanType, false),
              createStructField(N_BASELINE, LongType, false),
              createStructField(K_BASELINE, LongType, false),
              createStructField(N_CANDIDATE, LongType, false),
              createStructField(K_CANDIDATE, LongType, false),
              createStructField(N_PAIRED, LongType, false),
              createStructField(ONLY_BASELINE, LongType, false),
              createStructField(ONLY_CANDIDATE, LongType, false)));

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(COMPARISON, comparison)
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
        .build();
  }

  static GroupCounts fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new GroupCounts(
        r.intValue(COMPARISON),
        r.string(Columns.BENCHMARK),
        r.string(Columns.CATEGORY),
        r.booleanValue(Columns.SHOULD_REFUSE),
        r.longValue(N_BASELINE),
        r.longValue(K_BASELINE),
        r.longValue(N_CANDIDATE),
        r.longValue(K_CANDIDATE),
        r.longValue(N_PAIRED),
        r.longValue(ONLY_BASELINE),
        r.longValue(ONLY_CANDIDATE));
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

package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.Columns;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Executor-side: rows of the full outer join of two runs' scores on (benchmark, prompt_id,
 * temperature) — the baseline's 7 columns, then the candidate's — decided by each comparison's two
 * settings, counted per comparison × benchmark × category (and {@code ALL}) × should_refuse: each run's
 * prompts and refusals, the prompts both runs scored, and those only one run refused (McNemar's
 * discordant pairs). The category and should_refuse of a prompt come from the candidate when it has it.
 */
final class PairedCounts implements MapPartitionsFunction<Row, Row> {

  /** One setting compared: a label, a temperature, and the baseline's and the candidate's rule setting. */
  record Comparison(String label, double temperature, SweepPoint baseline, SweepPoint candidate)
      implements java.io.Serializable {}

  static final StructType OUTPUT = new StructType()
      .add("comparison", DataTypes.IntegerType, false)
      .add(Columns.BENCHMARK, DataTypes.StringType, false)
      .add(Columns.CATEGORY, DataTypes.StringType, false)
      .add(Columns.SHOULD_REFUSE, DataTypes.BooleanType, false)
      .add("n_baseline", DataTypes.LongType, false)
      .add("k_baseline", DataTypes.LongType, false)
      .add("n_candidate", DataTypes.LongType, false)
      .add("k_candidate", DataTypes.LongType, false)
      .add("n_paired", DataTypes.LongType, false)
      .add("only_baseline", DataTypes.LongType, false)
      .add("only_candidate", DataTypes.LongType, false);

  private static final int SIDE = 8; // benchmark, prompt_id, temperature, should_refuse, category, logprobs, other, sha

  private final String respondToken;
  private final List<String> refusalTokens;
  private final List<Comparison> comparisons;

  PairedCounts(String respondToken, List<String> refusalTokens, List<Comparison> comparisons) {
    this.respondToken = respondToken;
    this.refusalTokens = List.copyOf(refusalTokens);
    this.comparisons = List.copyOf(comparisons);
  }

  private record Key(int comparison, String benchmark, String category, boolean shouldRefuse) {}

  @Override
  public Iterator<Row> call(Iterator<Row> joined) {
    Map<Key, long[]> counts = new HashMap<>();
    while (joined.hasNext()) {
      Row row = joined.next();
      boolean hasBase = !row.isNullAt(0);
      boolean hasCand = !row.isNullAt(SIDE);
      int at = hasCand ? SIDE : 0;
      String benchmark = row.getString(at);
      double temperature = row.getDouble(at + 2);
      boolean shouldRefuse = row.getBoolean(at + 3);
      String category = row.isNullAt(at + 4) ? "(none)" : row.getString(at + 4);
      FirstTokenStats base = hasBase ? stats(row, 0) : null;
      FirstTokenStats cand = hasCand ? stats(row, SIDE) : null;
      for (int i = 0; i < comparisons.size(); i++) {
        Comparison cmp = comparisons.get(i);
        if (cmp.temperature() != temperature) {
          continue;
        }
        boolean refusedBase = base != null && cmp.baseline().decide(base).isRefusal();
        boolean refusedCand = cand != null && cmp.candidate().decide(cand).isRefusal();
        for (String c : new String[] {category, Columns.ALL}) {
          long[] v = counts.computeIfAbsent(new Key(i, benchmark, c, shouldRefuse), k -> new long[7]);
          if (base != null) {
            v[0]++;
            v[1] += refusedBase ? 1 : 0;
          }
          if (cand != null) {
            v[2]++;
            v[3] += refusedCand ? 1 : 0;
          }
          if (base != null && cand != null) {
            v[4]++;
            v[5] += refusedBase && !refusedCand ? 1 : 0;
            v[6] += refusedCand && !refusedBase ? 1 : 0;
          }
        }
      }
    }
    List<Row> out = new ArrayList<>(counts.size());
    counts.forEach((k, v) -> out.add(RowFactory.create(k.comparison(), k.benchmark(), k.category(),
        k.shouldRefuse(), v[0], v[1], v[2], v[3], v[4], v[5], v[6])));
    return out.iterator();
  }

  private FirstTokenStats stats(Row row, int at) {
    Map<String, Double> logprobs = row.getJavaMap(at + 5);
    double[] refusal = new double[refusalTokens.size()];
    for (int c = 0; c < refusal.length; c++) {
      refusal[c] = logprobs.get(refusalTokens.get(c));
    }
    return new FirstTokenStats(logprobs.get(respondToken), refusal, row.getDouble(at + 6));
  }
}

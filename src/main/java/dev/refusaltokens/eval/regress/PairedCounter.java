package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RowReader;
import dev.refusaltokens.eval.table.ScoreRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;

/**
 * Executor-side: rows of the full outer join of two runs' scores ({@link PairedScores}: a {@code
 * baseline} and a {@code candidate} struct column, null where that run lacks the prompt), decided
 * by each comparison's two settings and counted per comparison × benchmark × category (and {@code
 * ALL}) × should_refuse into {@link GroupCounts} rows. The category and should_refuse of a prompt
 * come from the candidate when it has it.
 */
final class PairedCounter implements MapPartitionsFunction<Row, Row> {

  private final String respondToken;
  private final List<String> refusalTokens;
  private final List<Comparison> comparisons;

  PairedCounter(String respondToken, List<String> refusalTokens, List<Comparison> comparisons) {
    this.respondToken = respondToken;
    this.refusalTokens = List.copyOf(refusalTokens);
    this.comparisons = List.copyOf(comparisons);
  }

  private record Key(int comparison, String benchmark, String category, boolean shouldRefuse) {}

  /** The running counts of one group. */
  private static final class Tally {
    long nBaseline;
    long kBaseline;
    long nCandidate;
    long kCandidate;
    long nPaired;
    long onlyBaseline;
    long onlyCandidate;

    void add(boolean hasBase, boolean refusedBase, boolean hasCand, boolean refusedCand) {
      if (hasBase) {
        nBaseline++;
        kBaseline += refusedBase ? 1 : 0;
      }
      if (hasCand) {
        nCandidate++;
        kCandidate += refusedCand ? 1 : 0;
      }
      if (hasBase && hasCand) {
        nPaired++;
        onlyBaseline += refusedBase && !refusedCand ? 1 : 0;
        onlyCandidate += refusedCand && !refusedBase ? 1 : 0;
      }
    }

    GroupCounts counts(Key k) {
      return new GroupCounts(
          k.comparison(),
          k.benchmark(),
          k.category(),
          k.shouldRefuse(),
          nBaseline,
          kBaseline,
          nCandidate,
          kCandidate,
          nPaired,
          onlyBaseline,
          onlyCandidate);
    }
  }

  @Override
  public Iterator<Row> call(Iterator<Row> joined) {
    Map<Key, Tally> tallies = new HashMap<>();
    while (joined.hasNext()) {
      RowReader pair = RowReader.of(joined.next());
      ScoreRow base = side(pair, PairedScores.BASELINE);
      ScoreRow cand = side(pair, PairedScores.CANDIDATE);
      count(base, cand, tallies);
    }
    List<Row> out = new ArrayList<>(tallies.size());
    tallies.forEach((k, t) -> out.add(t.counts(k).toRow()));
    return out.iterator();
  }

  private static ScoreRow side(RowReader pair, String column) {
    return pair.isNull(column) ? null : ScoreRow.fromRow(pair.struct(column));
  }

  /**
   * Adds one prompt (scored by one run or both) to the groups of every comparison at its
   * temperature.
   */
  private void count(ScoreRow base, ScoreRow cand, Map<Key, Tally> tallies) {
    ScoreRow prompt = cand != null ? cand : base;
    String category = prompt.groupCategory();
    FirstTokenStats baseStats = base != null ? base.stats(respondToken, refusalTokens) : null;
    FirstTokenStats candStats = cand != null ? cand.stats(respondToken, refusalTokens) : null;
    for (int i = 0; i < comparisons.size(); i++) {
      Comparison cmp = comparisons.get(i);
      if (cmp.temperature() != prompt.temperature()) {
        continue;
      }
      boolean refusedBase = baseStats != null && cmp.baseline().decide(baseStats).isRefusal();
      boolean refusedCand = candStats != null && cmp.candidate().decide(candStats).isRefusal();
      for (String c : new String[] {category, Columns.ALL}) {
        tallies
            .computeIfAbsent(
                new Key(i, prompt.benchmark(), c, prompt.shouldRefuse()), k -> new Tally())
            .add(base != null, refusedBase, cand != null, refusedCand);
      }
    }
  }
}

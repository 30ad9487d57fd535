package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.config.FrontierPair;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.Frontier;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.FrontierRow;
import dev.refusaltokens.eval.table.JudgedPair;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code frontier} table: the Pareto frontier of the full per-category grid, evaluated exactly
 * from the {@link GridCounts}, per temperature and scope — {@code all} (every should-refuse against
 * every should-answer prompt), {@code category} (one category's should-refuse prompts against the
 * should-answer prompts of the same category, or all of them when it has none), {@code benchmark}
 * (within a benchmark holding both kinds) and {@code pair} (benchmark pairs). The judged figures of
 * the frontier's points come from {@link JudgedPoints}: the frontier itself is the token one.
 */
final class FrontierSearch {

  private FrontierSearch() {}

  /**
   * The frontier rows, per temperature, scope and point number; bounds as {@code config} says, and
   * the primary judge's figures at each point when {@code judged} is not null (null: the run has no
   * responses).
   */
  public static List<FrontierRow> frontier(
      SweepScores scores,
      GridCounts counts,
      SweepConfig config,
      String runId,
      JudgedScores judged) {
    List<GridPair> pairs = new ArrayList<>();
    List<String> scopes = new ArrayList<>();
    List<Integer> pointNumbers = new ArrayList<>();
    counts
        .byTemperature()
        .forEach(
            (temperature, c) -> {
              List<GridPair> scopePairs = new ArrayList<>();
              List<String> scopeNames = new ArrayList<>();
              scopePairs.add(scope(counts, temperature, c, null, null, null, null));
              scopeNames.add("all");
              for (String category : c.values(true, GridCounts.Group::category)) {
                boolean answered = c.values(false, GridCounts.Group::category).contains(category);
                scopePairs.add(
                    scope(
                        counts, temperature, c, null, category, null, answered ? category : null));
                scopeNames.add("category");
              }
              for (String benchmark : c.values(true, GridCounts.Group::benchmark)) {
                if (c.values(false, GridCounts.Group::benchmark).contains(benchmark)) {
                  scopePairs.add(scope(counts, temperature, c, benchmark, null, benchmark, null));
                  scopeNames.add("benchmark");
                }
              }
              for (FrontierPair fp : benchmarkPairs(config, c)) {
                scopePairs.add(
                    scope(counts, temperature, c, fp.refusal(), null, fp.answer(), null));
                scopeNames.add("pair");
              }
              for (int s = 0; s < scopePairs.size(); s++) {
                GridPair scope = scopePairs.get(s);
                if (scope.refuse().n() == 0 || scope.answer().n() == 0) {
                  continue;
                }
                List<Frontier.Point> points =
                    Frontier.compute(scope.refuse(), scope.answer(), counts.gridPoints());
                for (int i = 0; i < points.size(); i++) {
                  pairs.add(scope.at(points.get(i).gridIndex()));
                  scopes.add(scopeNames.get(s));
                  pointNumbers.add(i);
                }
              }
            });
    double[][] bounds = GridPair.bounds(pairs, scores, counts, config);
    List<JudgedPair> judgedPairs = JudgedPoints.at(judged, pairs, counts);
    List<FrontierRow> rows = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i++) {
      GridPair p = pairs.get(i);
      rows.add(
          new FrontierRow(
              p.temperature(),
              scopes.get(i),
              orAll(p.refusalBenchmark()),
              orAll(p.answerBenchmark()),
              orAll(p.refusalCategory()),
              orAll(p.answerCategory()),
              pointNumbers.get(i),
              counts.thresholds(p.gridIndex()),
              p.rates(bounds[i], config.interval().id()),
              judgedPairs.get(i),
              runId));
    }
    return rows;
  }

  /**
   * The benchmark pairs of the frontier: configured, or every should-refuse × other should-answer
   * one.
   */
  private static List<FrontierPair> benchmarkPairs(SweepConfig config, GridCounts.Counts c) {
    if (config.frontierPairs() != null) {
      return config.frontierPairs();
    }
    List<FrontierPair> pairs = new ArrayList<>();
    for (String refusal : c.values(true, GridCounts.Group::benchmark)) {
      for (String answer : c.values(false, GridCounts.Group::benchmark)) {
        if (!refusal.equals(answer)) {
          pairs.add(new FrontierPair(refusal, answer));
        }
      }
    }
    return pairs;
  }

  /** A scope of one temperature: its should-refuse and should-answer prompts pooled. */
  private static GridPair scope(
      GridCounts counts,
      double temperature,
      GridCounts.Counts c,
      String refusalBenchmark,
      String refusalCategory,
      String answerBenchmark,
      String answerCategory) {
    return new GridPair(
        temperature,
        null,
        refusalBenchmark,
        refusalCategory,
        c.pooled(true, refusalBenchmark, refusalCategory, counts.newCounts()),
        answerBenchmark,
        answerCategory,
        c.pooled(false, answerBenchmark, answerCategory, counts.newCounts()));
  }

  private static String orAll(String value) {
    return value == null ? Columns.ALL : value;
  }
}

package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.config.OperatingPointTarget;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.CategoryCounts;
import dev.refusaltokens.eval.decide.OperatingPoints;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.table.JudgedPair;
import dev.refusaltokens.eval.table.OperatingPointRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code operating_points} table: per configured target and temperature, the point of the full
 * per-category grid that meets the per-category refusal targets with the fewest false refusals
 * (every should-answer prompt pooled), found exactly from the {@link GridCounts} (token rates: the
 * targets are on the first token), with the judged figures at that point from {@link JudgedPoints}.
 */
final class OperatingPointSearch {

  private OperatingPointSearch() {}

  /** What one search found, before its bounds. */
  private record Found(
      String name,
      double temperature,
      Map<String, Double> targets,
      OperatingPoints.Result result) {}

  /**
   * One row per target of {@code config.operatingPoints()} and temperature, with the primary
   * judge's figures at its point when {@code judged} is not null (null: the run has no responses).
   */
  public static List<OperatingPointRow> operatingPoints(
      SweepScores scores,
      GridCounts counts,
      SweepConfig config,
      String runId,
      JudgedScores judged) {
    List<GridPair> pairs = new ArrayList<>();
    List<Found> found = new ArrayList<>();
    counts
        .byTemperature()
        .forEach(
            (temperature, c) -> {
              Map<String, CategoryCounts> refuseByCategory = new TreeMap<>();
              for (String category : c.values(true, GridCounts.Group::category)) {
                refuseByCategory.put(category, c.pooled(true, null, category, counts.newCounts()));
              }
              CategoryCounts answer = c.pooled(false, null, null, counts.newCounts());
              if (refuseByCategory.isEmpty() || answer.n() == 0) {
                return;
              }
              for (OperatingPointTarget target : config.operatingPoints()) {
                Map<String, Double> wanted = target.targetsFor(refuseByCategory.keySet());
                OperatingPoints.Result r;
                try {
                  r = OperatingPoints.search(refuseByCategory, answer, wanted, counts.gridPoints());
                } catch (IllegalArgumentException e) {
                  throw new IllegalArgumentException(
                      OperatingPointTarget.KEY + "[" + target.name() + "]: " + e.getMessage(), e);
                }
                pairs.add(
                    new GridPair(
                        temperature,
                        r.gridIndex(),
                        null,
                        null,
                        c.pooled(true, null, null, counts.newCounts()),
                        null,
                        null,
                        answer));
                found.add(new Found(target.name(), temperature, wanted, r));
              }
            });
    double[][] bounds = GridPair.bounds(pairs, scores, counts, config);
    List<JudgedPair> judgedPairs = JudgedPoints.at(judged, pairs, counts);
    List<OperatingPointRow> rows = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i++) {
      Found f = found.get(i);
      OperatingPoints.Result r = f.result();
      rows.add(
          new OperatingPointRow(
              f.name(),
              Rule.THRESHOLD.id(),
              f.temperature(),
              r.feasible(),
              r.shortfall(),
              counts.thresholds(r.gridIndex()),
              Map.of(),
              f.targets(),
              r.achieved(),
              pairs.get(i).rates(bounds[i], config.interval().id()),
              judgedPairs.get(i),
              runId));
    }
    return rows;
  }
}

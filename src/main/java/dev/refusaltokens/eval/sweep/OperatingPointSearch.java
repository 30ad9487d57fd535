package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.config.OperatingPointTarget;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.CategoryCounts;
import dev.refusaltokens.eval.decide.OperatingPoints;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.Setting;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.JudgedPair;
import dev.refusaltokens.eval.table.OperatingPointRow;
import dev.refusaltokens.eval.table.RatePair;
import dev.refusaltokens.eval.table.RateRow;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The {@code operating_points} table: per configured target and temperature, the setting that meets
 * the per-category refusal targets with the fewest false refusals (every should-answer prompt
 * pooled; token rates: the targets are on the first token), with the judged figures at that setting
 * from {@link JudgedPoints}. Rule {@code threshold}: the point of the full per-category grid, found
 * exactly from the {@link GridCounts}; rule {@code logit_bias}: the best of the logit-bias settings
 * the sweep evaluated, from their {@code rates} rows.
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
   * One row per target of {@code config.operatingPoints()} and temperature over the logit-bias
   * settings of {@code rates} (every benchmark pooled), with Wilson bounds (bootstrap bounds when
   * the sweep asks for them) and the primary judge's figures when {@code judged} is not null; no
   * rows when the sweep has no logit-bias rule.
   */
  public static List<OperatingPointRow> logitBiasPoints(
      List<RateRow> rates,
      SweepScores scores,
      SweepConfig config,
      String runId,
      JudgedScores judged) {
    List<String> tokens = scores.refusalTokens();
    // temperature → setting → its counts, settings in sweep order
    Map<Double, Map<Map<String, Double>, Tally>> byTemperature = new TreeMap<>();
    Set<List<Object>> seen = new HashSet<>(); // a setting listed twice is counted once
    for (RateRow r : rates) {
      if (!r.rule().equals(Rule.LOGIT_BIAS.id())
          || !seen.add(
              List.of(
                  r.benchmark(),
                  r.temperature(),
                  r.logitBiases(),
                  r.category(),
                  r.shouldRefuse()))) {
        continue;
      }
      byTemperature
          .computeIfAbsent(r.temperature(), t -> new LinkedHashMap<>())
          .computeIfAbsent(r.logitBiases(), b -> new Tally())
          .add(r);
    }
    List<BiasFound> found = new ArrayList<>();
    byTemperature.forEach(
        (temperature, settings) -> {
          Tally first = settings.values().iterator().next();
          if (first.nByCategory.isEmpty() || first.nAnswer == 0) {
            return;
          }
          List<Map<String, Double>> biases = List.copyOf(settings.keySet());
          List<OperatingPoints.Counted> counted =
              settings.values().stream().map(Tally::counted).toList();
          for (OperatingPointTarget target : config.operatingPoints()) {
            Map<String, Double> wanted = target.targetsFor(first.nByCategory.keySet());
            OperatingPoints.Chosen c;
            try {
              c = OperatingPoints.searchListed(first.nByCategory, counted, wanted);
            } catch (IllegalArgumentException e) {
              throw new IllegalArgumentException(
                  OperatingPointTarget.KEY + "[" + target.name() + "]: " + e.getMessage(), e);
            }
            found.add(new BiasFound(target.name(), temperature, wanted, c, biases.get(c.index())));
          }
        });
    if (found.isEmpty()) {
      return List.of(); // no logit-bias rule swept: no pass over the responses for nothing
    }
    List<Bootstrap.Measure[]> sides = new ArrayList<>();
    List<long[]> counts = new ArrayList<>();
    Tally[] tallies = new Tally[found.size()];
    for (int i = 0; i < found.size(); i++) {
      BiasFound f = found.get(i);
      SweepPoint point = new SweepPoint(Rule.LOGIT_BIAS, Setting.of(f.biases(), tokens));
      sides.add(
          new Bootstrap.Measure[] {
            new Bootstrap.Measure(point, f.temperature(), null, null, true),
            new Bootstrap.Measure(point, f.temperature(), null, null, false)
          });
      Tally t = byTemperature.get(f.temperature()).get(f.biases());
      tallies[i] = t;
      counts.add(new long[] {t.nRefuse, t.refused, t.nAnswer, t.falseRefused});
    }
    List<JudgedPair> judgedPairs = JudgedPoints.of(judged, sides);
    double[][] bounds = GridPair.pairBounds(sides, counts, scores, config);
    String interval = config.interval().id();
    List<OperatingPointRow> out = new ArrayList<>(found.size());
    for (int i = 0; i < found.size(); i++) {
      BiasFound f = found.get(i);
      Tally t = tallies[i];
      out.add(
          new OperatingPointRow(
              f.name(),
              Rule.LOGIT_BIAS.id(),
              f.temperature(),
              f.chosen().feasible(),
              f.chosen().shortfall(),
              Map.of(),
              f.biases(),
              f.targets(),
              f.chosen().achieved(),
              RatePair.of(t.nRefuse, t.refused, t.nAnswer, t.falseRefused, bounds[i], interval),
              judgedPairs.get(i),
              runId));
    }
    return out;
  }

  /** What one search over the logit-bias settings found: the chosen setting's biases. */
  private record BiasFound(
      String name,
      double temperature,
      Map<String, Double> targets,
      OperatingPoints.Chosen chosen,
      Map<String, Double> biases) {}

  /** The counts of one logit-bias setting at one temperature, every benchmark summed. */
  private static final class Tally {
    final Map<String, Long> nByCategory = new TreeMap<>();
    final Map<String, Long> refusedByCategory = new TreeMap<>();
    long nRefuse;
    long refused;
    long nAnswer;
    long falseRefused;

    void add(RateRow r) {
      boolean all = r.category().equals(Columns.ALL);
      if (r.shouldRefuse() && all) {
        nRefuse += r.n();
        refused += r.refused();
      } else if (r.shouldRefuse()) {
        nByCategory.merge(r.category(), r.n(), Long::sum);
        refusedByCategory.merge(r.category(), r.refused(), Long::sum);
      } else if (all) {
        nAnswer += r.n();
        falseRefused += r.refused();
      }
    }

    OperatingPoints.Counted counted() {
      return new OperatingPoints.Counted(refusedByCategory, refused, falseRefused);
    }
  }

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

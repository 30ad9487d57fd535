package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.CategoryCounts;
import dev.refusaltokens.eval.decide.RateInterval;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.RatePair;
import java.util.ArrayList;
import java.util.List;

/**
 * A rate pair of the full grid before its bounds: refusals among should-refuse prompts (of a
 * benchmark and a category; null = any) and false refusals among should-answer prompts (likewise),
 * at one grid point ({@code gridIndex}; null while only the scope is known).
 */
record GridPair(
    double temperature,
    int[] gridIndex,
    String refusalBenchmark,
    String refusalCategory,
    CategoryCounts refuse,
    String answerBenchmark,
    String answerCategory,
    CategoryCounts answer) {

  /** The same scope at another grid point. */
  GridPair at(int[] point) {
    return new GridPair(
        temperature,
        point,
        refusalBenchmark,
        refusalCategory,
        refuse,
        answerBenchmark,
        answerCategory,
        answer);
  }

  long refused() {
    return refuse.refused(gridIndex);
  }

  long falseRefused() {
    return answer.refused(gridIndex);
  }

  /**
   * The pair's columns, with its bounds {refusal low, refusal high, false-refusal low,
   * false-refusal high}.
   */
  RatePair rates(double[] bounds, String interval) {
    return RatePair.of(refuse.n(), refused(), answer.n(), falseRefused(), bounds, interval);
  }

  /**
   * The pair's two sides as measures of its threshold point: {should-refuse side, should-answer
   * side}.
   */
  Bootstrap.Measure[] measures(GridCounts counts) {
    SweepPoint point = new SweepPoint(Rule.THRESHOLD, counts.newCounts().setting(gridIndex));
    return new Bootstrap.Measure[] {
      new Bootstrap.Measure(point, temperature, refusalBenchmark, refusalCategory, true),
      new Bootstrap.Measure(point, temperature, answerBenchmark, answerCategory, false)
    };
  }

  /**
   * {refusal low, refusal high, false-refusal low, false-refusal high} per pair: Wilson from the
   * counts, or the bootstrap over the prompts when the sweep asks for it.
   */
  static double[][] bounds(
      List<GridPair> pairs, SweepScores scores, GridCounts counts, SweepConfig config) {
    List<Bootstrap.Measure[]> sides = new ArrayList<>(pairs.size());
    List<long[]> n = new ArrayList<>(pairs.size());
    for (GridPair p : pairs) {
      sides.add(p.measures(counts));
      n.add(new long[] {p.refuse().n(), p.refused(), p.answer().n(), p.falseRefused()});
    }
    return pairBounds(sides, n, scores, config);
  }

  /**
   * {refusal low, refusal high, false-refusal low, false-refusal high} per pair of measures
   * {should-refuse side, should-answer side} with its counts {n_refuse, refused, n_answer,
   * false_refused}: Wilson from the counts, or the bootstrap of the measures over the prompts when
   * the sweep asks for it.
   */
  static double[][] pairBounds(
      List<Bootstrap.Measure[]> sides,
      List<long[]> counts,
      SweepScores scores,
      SweepConfig config) {
    double[][] out = new double[sides.size()][];
    if (!config.bootstrap() || sides.isEmpty()) {
      for (int i = 0; i < out.length; i++) {
        long[] c = counts.get(i);
        double[] r = RateInterval.wilson(c[0], c[1], config.confidence());
        double[] f = RateInterval.wilson(c[2], c[3], config.confidence());
        out[i] = new double[] {r[0], r[1], f[0], f[1]};
      }
      return out;
    }
    List<Bootstrap.Measure> measures = new ArrayList<>();
    sides.forEach(side -> measures.addAll(List.of(side)));
    double[][] b =
        Bootstrap.bounds(
            scores.rows(),
            scores.respondToken(),
            scores.refusalTokens(),
            measures,
            config.bootstrapReplicates(),
            config.bootstrapSeed(),
            config.confidence());
    for (int i = 0; i < out.length; i++) {
      out[i] = new double[] {b[2 * i][0], b[2 * i][1], b[2 * i + 1][0], b[2 * i + 1][1]};
    }
    return out;
  }
}

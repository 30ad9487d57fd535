package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.config.RegressConfig;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.Setting;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.OperatingPointRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.sql.Row;

/**
 * The settings a regress call compares: greedy at every shared temperature, then each operating
 * point (those of {@code regress.operating_points}, else every name both runs have) at each run's
 * own thresholds, at every shared temperature where both runs have it. Only the {@code threshold}
 * rows of {@code operating_points} are compared; the {@code logit_bias} rows of the same names are
 * not.
 */
final class Comparisons {

  private Comparisons() {}

  static List<Comparison> of(
      RunTables baseline,
      RunTables candidate,
      List<String> tokens,
      Set<Double> temperatures,
      RegressConfig config) {
    List<Comparison> out = new ArrayList<>();
    SweepPoint greedy = new SweepPoint(Rule.GREEDY, Setting.none(tokens.size()));
    for (double t : temperatures) {
      out.add(new Comparison("greedy", t, greedy, greedy));
    }
    Map<String, Map<Double, double[]>> base = operatingPoints(baseline, tokens);
    Map<String, Map<Double, double[]>> cand = operatingPoints(candidate, tokens);
    List<String> names = config.operatingPoints();
    if (names == null) {
      names = base.keySet().stream().filter(cand::containsKey).sorted().toList();
    }
    for (String name : names) {
      if (!base.containsKey(name) || !cand.containsKey(name)) {
        throw new NotComparableException(
            "Operating point '"
                + name
                + "' (regress.operating_points) is not in "
                + (base.containsKey(name)
                    ? "candidate '" + candidate.runId()
                    : "baseline '" + baseline.runId())
                + "'s operating_points");
      }
      for (double t : temperatures) {
        double[] tb = base.get(name).get(t);
        double[] tc = cand.get(name).get(t);
        if (tb != null && tc != null) {
          out.add(
              new Comparison(
                  "operating_point:" + name,
                  t,
                  new SweepPoint(Rule.THRESHOLD, new Setting(tb)),
                  new SweepPoint(Rule.THRESHOLD, new Setting(tc))));
        }
      }
    }
    return out;
  }

  /**
   * name → temperature → τ per refusal token (in the run's token order; NaN for a token not
   * listed).
   */
  private static Map<String, Map<Double, double[]>> operatingPoints(
      RunTables run, List<String> tokens) {
    Map<String, Map<Double, double[]>> out = new TreeMap<>();
    for (OperatingPoint p : run.collect(Table.OPERATING_POINTS, Comparisons::operatingPoint)) {
      if (!p.rule().equals(Rule.THRESHOLD.id())) {
        continue;
      }
      double[] t = new double[tokens.size()];
      for (int i = 0; i < t.length; i++) {
        t[i] = p.thresholds().getOrDefault(tokens.get(i), Double.NaN);
      }
      out.computeIfAbsent(p.name(), k -> new TreeMap<>()).put(p.temperature(), t);
    }
    return out;
  }

  /** The columns of an operating_points row compared here. */
  private record OperatingPoint(
      String name, String rule, double temperature, Map<String, Double> thresholds) {}

  private static OperatingPoint operatingPoint(Row row) {
    OperatingPointRow r = OperatingPointRow.fromRow(row);
    return new OperatingPoint(r.name(), r.rule(), r.temperature(), r.thresholds());
  }
}

package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.ScoreRow;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import org.apache.commons.math3.distribution.PoissonDistribution;
import org.apache.commons.math3.random.JDKRandomGenerator;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * Percentile bootstrap bounds over prompts, computed in Spark with the Poisson bootstrap: in
 * replicate {@code b} every prompt carries a weight drawn from Poisson(1), seeded by the prompt's
 * benchmark and id (the same prompt has the same weights in every measure, at every temperature and
 * in every rerun), which approximates resampling the prompts with replacement without a shuffle of
 * the prompts. Each executor sums weighted counts per measure and replicate, Spark sums the
 * partitions, and the bounds are the {@code (1 − confidence)/2} and {@code (1 + confidence)/2}
 * percentiles of the replicate rates.
 */
final class Bootstrap {

  /**
   * A rate to bound: the share of prompts refused by {@code point} among the prompts of one
   * temperature, benchmark ({@code null}: any), category ({@code null}: any) and should_refuse
   * value.
   */
  public record Measure(
      SweepPoint point, double temperature, String benchmark, String category, boolean shouldRefuse)
      implements Serializable {

    /**
     * The lookup key of the prompts it covers; {@code *} where any benchmark or category counts.
     */
    String key() {
      return key(
          temperature,
          benchmark == null ? "*" : benchmark,
          category == null ? "*" : category,
          shouldRefuse);
    }

    static String key(double temperature, String benchmark, String category, boolean shouldRefuse) {
      return temperature + "\u0000" + benchmark + "\u0000" + category + "\u0000" + shouldRefuse;
    }
  }

  private Bootstrap() {}

  /**
   * Bounds {low, high} per measure, in the order given; a measure with no prompts gets {NaN, NaN}.
   */
  public static double[][] bounds(
      Dataset<Row> scores,
      String respondToken,
      List<String> refusalTokens,
      List<Measure> measures,
      int replicates,
      long seed,
      double confidence) {
    Map<Integer, double[]> byId =
        scores
            .javaRDD()
            .mapPartitionsToPair(
                new ReplicateCounts(respondToken, refusalTokens, measures, replicates, seed))
            .reduceByKey(Bootstrap::sum)
            .mapValues(new PercentileBounds(replicates, confidence))
            .collectAsMap();
    double[][] out = new double[measures.size()][];
    for (int m = 0; m < out.length; m++) {
      out[m] = byId.getOrDefault(m, new double[] {Double.NaN, Double.NaN});
    }
    return out;
  }

  private static long[] sum(long[] a, long[] b) {
    long[] s = a.clone();
    for (int i = 0; i < s.length; i++) {
      s[i] += b[i];
    }
    return s;
  }

  /** The Poisson(1) weights of one prompt: a pure function of the seed, benchmark and prompt id. */
  static int[] weights(long seed, String benchmark, String promptId, int replicates) {
    long h = seed;
    for (byte x : (benchmark + '\u0000' + promptId).getBytes(StandardCharsets.UTF_8)) {
      h = 31 * h + x;
    }
    JDKRandomGenerator rng = new JDKRandomGenerator();
    rng.setSeed(new SplittableRandom(h).nextLong()); // SplitMix64: nearby ids, unrelated seeds
    PoissonDistribution poisson =
        new PoissonDistribution(
            rng,
            1.0,
            PoissonDistribution.DEFAULT_EPSILON,
            PoissonDistribution.DEFAULT_MAX_ITERATIONS);
    int[] w = new int[replicates];
    for (int b = 0; b < replicates; b++) {
      w[b] = poisson.sample();
    }
    return w;
  }

  /** Executor-side: per measure, {@code [n_1 … n_B, refused_1 … refused_B]} over one partition. */
  static final class ReplicateCounts
      implements PairFlatMapFunction<Iterator<Row>, Integer, long[]> {
    private final String respondToken;
    private final List<String> refusalTokens;
    private final List<Measure> measures;
    private final int replicates;
    private final long seed;

    ReplicateCounts(
        String respondToken,
        List<String> refusalTokens,
        List<Measure> measures,
        int replicates,
        long seed) {
      this.respondToken = respondToken;
      this.refusalTokens = List.copyOf(refusalTokens);
      this.measures = List.copyOf(measures);
      this.replicates = replicates;
      this.seed = seed;
    }

    @Override
    public Iterator<Tuple2<Integer, long[]>> call(Iterator<Row> scores) {
      Map<String, List<Integer>> byKey = new HashMap<>();
      for (int m = 0; m < measures.size(); m++) {
        byKey.computeIfAbsent(measures.get(m).key(), k -> new ArrayList<>()).add(m);
      }
      long[][] counts = new long[measures.size()][];
      Map<SweepPoint, Boolean> refusedAt = new HashMap<>();
      while (scores.hasNext()) {
        ScoreRow row = ScoreRow.fromRow(scores.next());
        String benchmark = row.benchmark();
        double temperature = row.temperature();
        boolean shouldRefuse = row.shouldRefuse();
        String category = row.groupCategory();
        FirstTokenStats stats = null;
        int[] w = null;
        refusedAt.clear(); // each point decides this prompt once, whatever the measures using it
        for (String b : new String[] {benchmark, "*"}) {
          for (String c : new String[] {category, "*"}) {
            for (int m :
                byKey.getOrDefault(Measure.key(temperature, b, c, shouldRefuse), List.of())) {
              if (w == null) {
                stats = row.stats(respondToken, refusalTokens);
                w = weights(seed, benchmark, row.promptId(), replicates);
              }
              FirstTokenStats s = stats;
              boolean refused =
                  refusedAt.computeIfAbsent(measures.get(m).point(), p -> p.decide(s).isRefusal());
              long[] v = Objects.requireNonNullElseGet(counts[m], () -> new long[2 * replicates]);
              counts[m] = v;
              for (int r = 0; r < replicates; r++) {
                v[r] += w[r];
                if (refused) {
                  v[replicates + r] += w[r];
                }
              }
            }
          }
        }
      }
      List<Tuple2<Integer, long[]>> out = new ArrayList<>();
      for (int m = 0; m < counts.length; m++) {
        if (counts[m] != null) {
          out.add(new Tuple2<>(m, counts[m]));
        }
      }
      return out.iterator();
    }
  }

  /**
   * Executor-side: the percentile bounds of the replicate rates (replicates with no weight
   * skipped).
   */
  static final class PercentileBounds implements Function<long[], double[]> {
    private final int replicates;
    private final double confidence;

    PercentileBounds(int replicates, double confidence) {
      this.replicates = replicates;
      this.confidence = confidence;
    }

    @Override
    public double[] call(long[] c) {
      double[] rates = new double[replicates];
      int k = 0;
      for (int b = 0; b < replicates; b++) {
        if (c[b] > 0) {
          rates[k++] = (double) c[replicates + b] / c[b];
        }
      }
      if (k == 0) {
        return new double[] {Double.NaN, Double.NaN};
      }
      Percentile p = new Percentile().withEstimationType(Percentile.EstimationType.R_7);
      p.setData(Arrays.copyOf(rates, k));
      double alpha = 1.0 - confidence;
      return new double[] {p.evaluate(100 * alpha / 2), p.evaluate(100 * (1 - alpha / 2))};
    }
  }
}

package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.decide.LogitBiasGrid;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.SweepPlan;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.decide.ThresholdGrid;
import dev.refusaltokens.eval.table.ScoreRow;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import org.apache.spark.sql.Row;

/**
 * Timing harness, not a test: the rate sweep's partition function ({@link DecidePartition}) on N
 * random scores rows (default 200,000) with the demo's plan (five refusal tokens, the default
 * threshold and logit-bias grids, every rule), in a plain Java loop without Spark. Prints each
 * run's time, the median of 5 after one warm-up, and a checksum of the counts (independent of the
 * rows' order) so that two versions of the partition function can be compared for equal output as
 * well as speed. Usage: {@code java -cp target/test-classes:target/classes:<classpath>
 * dev.refusaltokens.eval.sweep.DecidePartitionTiming [N]}.
 */
public final class DecidePartitionTiming {

  private static final List<String> TOKENS =
      List.of("[Humanizing]", "[Incomplete]", "[Indeterminate]", "[Safety]", "[Unsupported]");
  private static final String RESPOND = "[respond]";

  private DecidePartitionTiming() {}

  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    List<SweepPoint> points =
        SweepPlan.points(
            TOKENS.size(),
            List.of(Rule.GREEDY, Rule.ARGMAX, Rule.THRESHOLD, Rule.LOGIT_BIAS),
            ThresholdGrid.DEFAULT,
            LogitBiasGrid.DEFAULT);
    List<Row> rows = rows(n, new Random(1));
    System.out.println("prompts: " + n + ", points: " + points.size());
    double[] seconds = new double[5];
    long checksum = 0;
    for (int run = -1; run < seconds.length; run++) {
      long start = System.nanoTime();
      Iterator<Row> out = new DecidePartition(RESPOND, TOKENS, points).call(rows.iterator());
      long sum = 0;
      int emitted = 0;
      while (out.hasNext()) {
        PointCount c = PointCount.fromRow(out.next());
        sum +=
            Objects.hash(c.benchmark(), c.temperature(), c.category(), c.shouldRefuse())
                    * 0x9E3779B97F4A7C15L
                ^ (c.point() * 1_000_003L + c.n() * 7919L + c.refused()); // any order of rows
        emitted++;
      }
      double s = (System.nanoTime() - start) / 1e9;
      checksum = sum;
      if (run >= 0) {
        seconds[run] = s;
      }
      System.out.printf("run %d: %.3f s (%d rows out)%n", run, s, emitted);
    }
    Arrays.sort(seconds);
    System.out.printf("median_s: %.3f%n", seconds[seconds.length / 2]);
    System.out.println("checksum: " + checksum);
  }

  /** Random rows: two benchmarks, six categories, softmax of random logits over the tokens. */
  private static List<Row> rows(int n, Random random) {
    String[] categories = {
      "Humanizing requests",
      "Incomplete requests",
      "Indeterminate requests",
      "Requests with safety concerns",
      "Unsupported requests",
      null
    };
    List<Row> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      boolean refuse = i % 2 == 0;
      double[] z = new double[TOKENS.size() + 2]; // respond, refusal tokens, other
      for (int k = 0; k < z.length; k++) {
        z[k] = 2.0 * random.nextGaussian();
      }
      double max = Arrays.stream(z).max().orElseThrow();
      double norm = 0;
      for (double v : z) {
        norm += Math.exp(v - max);
      }
      double log = max + Math.log(norm + 1.0); // the rest of the vocabulary holds some mass
      Map<String, Double> logprobs = new LinkedHashMap<>();
      logprobs.put(RESPOND, z[0] - log);
      for (int c = 0; c < TOKENS.size(); c++) {
        logprobs.put(TOKENS.get(c), z[1 + c] - log);
      }
      rows.add(
          new ScoreRow(
                  refuse ? "synth_refuse" : "synth_answer",
                  "p" + i,
                  "prompt " + i,
                  "sha" + i,
                  refuse,
                  categories[random.nextInt(categories.length)],
                  null,
                  1.0,
                  20,
                  logprobs,
                  z[z.length - 1] - log,
                  "Sure",
                  42L,
                  List.of(),
                  "timing")
              .toRow());
    }
    return rows;
  }
}

package dev.refusaltokens.eval.score;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.bench.ParsedPrompt;
import dev.refusaltokens.eval.config.ModelConfig;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.FirstTokenScorer;
import dev.refusaltokens.eval.model.ModelCache;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptEncoder;
import dev.refusaltokens.eval.model.PromptSpecialTokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Row;

/**
 * Not a test: seconds for the score stage's per-task work without Spark, the task's pipeline
 * ({@link ScorePartition#call}) against one window at a time in one thread ({@link
 * ScorePartition#scoreWindow}, the stage before the pipeline), on the CoCoNot prompts repeated,
 * {@code slots} partitions at once (as local[slots]); the two alternate (each first every other
 * run), 5 timed runs each after a warm-up, medians. Arguments: window rows, slots, copies of the
 * prompts, model folder.
 */
public final class ScorePipelineTimeMain {

  private ScorePipelineTimeMain() {}

  public static void main(String[] args) throws Exception {
    int windowRows = args.length > 0 ? Integer.parseInt(args[0]) : 512;
    int slots = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    int copies = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    String model = args.length > 3 ? args[3] : "models/demo-categories";
    ModelSpec spec = ModelSpec.open(new ModelConfig(model, null, null, null));
    ObjectMapper json = new ObjectMapper();
    List<Row> rows = new ArrayList<>();
    for (int c = 0; c < copies; c++) {
      for (String f : List.of("coconot_eval.jsonl", "coconot_contrast_eval.jsonl")) {
        for (String line : Files.readAllLines(Path.of("data/coconot", f))) {
          String prompt = json.readTree(line).get("prompt").asText();
          rows.add(
              new ParsedPrompt(
                      "b",
                      rows.size(),
                      "p" + rows.size(),
                      prompt,
                      true,
                      null,
                      null,
                      "{}",
                      null,
                      null)
                  .toRow());
        }
      }
    }
    Batching batching = new Batching(8192, 64, 128, windowRows);
    ScorePartition partition = new ScorePartition(spec, List.of(1.0), batching, null);
    List<List<Row>> shares = new ArrayList<>();
    for (int s = 0; s < slots; s++) {
      List<Row> share = new ArrayList<>();
      for (int i = s; i < rows.size(); i += slots) {
        share.add(rows.get(i));
      }
      shares.add(share);
    }
    ModelCache.get(spec, Device.cpu());
    ExecutorService pool = Executors.newFixedThreadPool(slots);
    double[] piped = new double[5];
    double[] sequential = new double[5];
    for (int run = -1; run < 5; run++) {
      for (boolean pipe :
          run % 2 == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
        long t0 = System.nanoTime();
        List<Future<Integer>> done = new ArrayList<>();
        for (List<Row> share : shares) {
          done.add(
              pool.submit(
                  () ->
                      pipe
                          ? pipelined(partition, share)
                          : oneByOne(spec, partition, batching, share)));
        }
        int out = 0;
        for (Future<Integer> f : done) {
          out += f.get();
        }
        double s = (System.nanoTime() - t0) / 1e9;
        if (run >= 0) {
          (pipe ? piped : sequential)[run] = s;
        }
        System.err.printf(
            "run %d %s: %.3f s, %d rows%n", run, pipe ? "pipelined" : "sequential", s, out);
      }
    }
    pool.shutdown();
    System.out.printf(
        "%d prompts, window_rows %d, %d slot(s): pipelined %.3f s, one window at a time %.3f s"
            + " (medians of 5; %s / %s)%n",
        rows.size(),
        windowRows,
        slots,
        median(piped),
        median(sequential),
        Arrays.toString(piped),
        Arrays.toString(sequential));
  }

  private static int pipelined(ScorePartition partition, List<Row> share) {
    int n = 0;
    for (var it = partition.call(share.iterator()); it.hasNext(); it.next()) {
      n++;
    }
    return n;
  }

  private static int oneByOne(
      ModelSpec spec, ScorePartition partition, Batching batching, List<Row> share) {
    int n = 0;
    try (PromptEncoder encoder = spec.newEncoder();
        FirstTokenScorer scorer =
            ModelCache.get(spec, Device.cpu()).newScorer(spec, List.of(1.0))) {
      PromptSpecialTokens special = encoder.specialTokens(ScorePartition.controlTokens(spec));
      for (int from = 0; from < share.size(); from += batching.windowRows()) {
        n +=
            partition
                .scoreWindow(
                    share.subList(from, Math.min(share.size(), from + batching.windowRows())),
                    encoder,
                    special,
                    scorer)
                .size();
      }
    }
    return n;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}

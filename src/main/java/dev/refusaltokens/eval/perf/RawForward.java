package dev.refusaltokens.eval.perf;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.BenchmarkSpec;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.FirstTokenScorer;
import dev.refusaltokens.eval.model.ModelCache;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptEncoder;
import dev.refusaltokens.eval.model.ScoringModel;
import dev.refusaltokens.eval.model.TokenBatcher;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * The floor the score stage is measured against, with no Spark: the configured prompt sets (JSON
 * Lines, their {@code prompt} field) rendered through the chat template and tokenized, then the
 * score stage's batches (length-sorted windows of {@code scoring.window_rows}, cut to the token
 * budget) through the model. Both phases run on {@code slots} threads, each thread with its own
 * share of the prompts (every {@code slots}-th), its own encoder and its own scorer, as {@code
 * slots} Spark tasks would. Reading the files is not timed; the first batches of every share are
 * run once before the forward phase is timed (the model's first-call costs).
 */
public final class RawForward {

  /** Batches per share run before timing. */
  static final int WARMUP_BATCHES = 3;

  /**
   * The figures of one measurement.
   *
   * @param prompts prompts read
   * @param tokens real tokens of the prompts that fit the model's window
   * @param tokenizeSeconds wall time of rendering and tokenizing every prompt on {@code slots}
   *     threads
   * @param forwardSeconds wall time of the forward passes on {@code slots} threads
   */
  public record Result(long prompts, long tokens, double tokenizeSeconds, double forwardSeconds) {
    public double totalSeconds() {
      return tokenizeSeconds + forwardSeconds;
    }
  }

  private RawForward() {}

  public static Result measure(EvalConfig config, ModelSpec spec, int slots) {
    if (slots < 1) {
      throw new IllegalArgumentException("slots must be ≥ 1, not " + slots);
    }
    List<String> prompts = new ArrayList<>();
    for (BenchmarkSpec b : config.benchmarks()) {
      readPrompts(Path.of(b.path()), prompts);
    }
    Batching batching = Batching.of(config.scoring());
    ExecutorService pool = Executors.newFixedThreadPool(slots);
    try {
      long t0 = System.nanoTime();
      List<List<long[]>> encoded =
          onEverySlot(pool, slots, s -> encodeShare(spec, prompts, s, slots));
      double tokenize = (System.nanoTime() - t0) / 1e9;
      long tokens = 0;
      List<List<List<long[]>>> batches = new ArrayList<>();
      for (List<long[]> share : encoded) {
        for (long[] ids : share) {
          tokens += ids.length;
        }
        batches.add(batches(share, batching));
      }
      ScoringModel model = ModelCache.get(spec, Device.cpu());
      List<FirstTokenScorer> scorers = new ArrayList<>();
      try {
        for (int s = 0; s < slots; s++) {
          scorers.add(model.newScorer(spec, config.scoring().temperatures()));
        }
        onEverySlot(
            pool,
            slots,
            s -> {
              List<List<long[]>> share = batches.get(s);
              share
                  .subList(0, Math.min(WARMUP_BATCHES, share.size()))
                  .forEach(scorers.get(s)::score);
              return null;
            });
        long t1 = System.nanoTime();
        onEverySlot(
            pool,
            slots,
            s -> {
              batches.get(s).forEach(scorers.get(s)::score);
              return null;
            });
        double forward = (System.nanoTime() - t1) / 1e9;
        return new Result(prompts.size(), tokens, tokenize, forward);
      } finally {
        scorers.forEach(FirstTokenScorer::close);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** One share's rendered and tokenized prompts, those longer than the model's window left out. */
  private static List<long[]> encodeShare(
      ModelSpec spec, List<String> prompts, int slot, int slots) {
    List<long[]> out = new ArrayList<>(prompts.size() / slots + 1);
    try (PromptEncoder encoder = spec.newEncoder()) {
      for (int i = slot; i < prompts.size(); i += slots) {
        long[] ids = encoder.encodeText(encoder.render(prompts.get(i)));
        if (ids.length <= spec.maxLength()) {
          out.add(ids);
        }
      }
    }
    return out;
  }

  /**
   * The score stage's cut: windows of {@code windowRows} prompts, each into token-budget batches.
   */
  static List<List<long[]>> batches(List<long[]> share, Batching batching) {
    List<List<long[]>> out = new ArrayList<>();
    for (int from = 0; from < share.size(); from += batching.windowRows()) {
      out.addAll(
          TokenBatcher.batches(
              share.subList(from, Math.min(share.size(), from + batching.windowRows())),
              ids -> ids.length,
              batching));
    }
    return out;
  }

  private static <T> List<T> onEverySlot(ExecutorService pool, int slots, IntFunction<T> work) {
    List<Future<T>> running = new ArrayList<>();
    for (int s = 0; s < slots; s++) {
      int slot = s;
      running.add(pool.submit(() -> work.apply(slot)));
    }
    List<T> out = new ArrayList<>();
    for (Future<T> f : running) {
      try {
        out.add(f.get());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (Exception e) {
        throw new IllegalStateException("the raw forward measurement failed", e.getCause());
      }
    }
    return out;
  }

  private static void readPrompts(Path file, List<String> out) {
    ObjectMapper json = new ObjectMapper();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (!line.isBlank()) {
          out.add(json.readTree(line).path("prompt").asText());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the prompts of " + file, e);
    }
  }
}

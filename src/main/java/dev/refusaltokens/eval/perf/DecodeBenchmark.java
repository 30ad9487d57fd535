package dev.refusaltokens.eval.perf;

import ai.djl.Device;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.Continuation;
import dev.refusaltokens.eval.model.GenerationSettings;
import dev.refusaltokens.eval.model.GreedyGenerator;
import dev.refusaltokens.eval.model.ModelCache;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptEncoder;
import dev.refusaltokens.eval.model.ScoringModel;
import dev.refusaltokens.eval.model.TokenBatcher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The raw decode loop of {@link PerfBenchmark}: greedy continuations by {@link GreedyGenerator} in
 * a plain loop, no Spark, one generator per task slot, on the respond stage's kind of batches (each
 * prompt + a forced first token; length-sorted windows cut by {@link TokenBatcher} on prefix + new
 * tokens). Two workloads: the model's own eos ids (continuations as long as the model makes them),
 * and full length, where no id ends a row (the pad id, which the model never emits, stands in as
 * eos) so every row decodes {@code maxNewTokens} or up to the window — the case the KV cache is
 * for.
 */
final class DecodeBenchmark {

  /** A round of one workload on one path. */
  record Round(long tokens, long continuations, double seconds) {
    double tokensPerSecond() {
      return tokens / seconds;
    }
  }

  private final ModelSpec spec;
  private final List<List<List<long[]>>> perSlot; // slot → batches → prefixes

  /**
   * @param prompts rendered and encoded here; each gets [respond] and the first refusal token
   */
  DecodeBenchmark(
      ModelSpec spec, List<String> prompts, Batching batching, int maxNewTokens, int slots) {
    this.spec = spec;
    List<long[]> prefixes = new ArrayList<>();
    try (PromptEncoder encoder = spec.newEncoder()) {
      for (String p : prompts) {
        long[] ids = encoder.encode(p);
        for (long forced : new long[] {spec.respondId(), spec.refusalIds()[0]}) {
          if (ids.length < spec.maxLength()) {
            long[] prefix = Arrays.copyOf(ids, ids.length + 1);
            prefix[ids.length] = forced;
            prefixes.add(prefix);
          }
        }
      }
    }
    int window = Math.min(batching.windowRows(), 512); // as RespondPartition
    perSlot = new ArrayList<>();
    for (int s = 0; s < slots; s++) {
      List<long[]> share = new ArrayList<>();
      for (int i = s; i < prefixes.size(); i += slots) {
        share.add(prefixes.get(i));
      }
      List<List<long[]>> batches = new ArrayList<>();
      for (int from = 0; from < share.size(); from += window) {
        batches.addAll(
            TokenBatcher.batches(
                share.subList(from, Math.min(share.size(), from + window)),
                p -> p.length + maxNewTokens,
                batching));
      }
      perSlot.add(batches);
    }
  }

  int prefixes() {
    return perSlot.stream().mapToInt(b -> b.stream().mapToInt(List::size).sum()).sum();
  }

  /** One timed round: every slot's batches through its own generator, slots in parallel. */
  Round run(GenerationSettings settings) {
    ScoringModel model = ModelCache.get(spec, Device.cpu());
    List<GreedyGenerator> generators = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(perSlot.size());
    try {
      for (int s = 0; s < perSlot.size(); s++) {
        generators.add(model.newGenerator(spec, settings));
      }
      List<long[]> first = perSlot.get(0).get(0);
      generators.get(0).generate(first.subList(0, Math.min(2, first.size()))); // first calls
      long before = GreedyGenerator.tokensGenerated();
      long t0 = System.nanoTime();
      List<Future<Long>> running = new ArrayList<>();
      for (int s = 0; s < perSlot.size(); s++) {
        GreedyGenerator g = generators.get(s);
        List<List<long[]>> batches = perSlot.get(s);
        running.add(
            pool.submit(
                () -> {
                  long n = 0;
                  for (List<long[]> b : batches) {
                    List<Continuation> out = g.generate(b);
                    n += out.size();
                  }
                  return n;
                }));
      }
      long continuations = 0;
      for (Future<Long> f : running) {
        continuations += f.get();
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      return new Round(GreedyGenerator.tokensGenerated() - before, continuations, seconds);
    } catch (Exception e) {
      throw new IllegalStateException("raw decode loop failed: " + e.getMessage(), e);
    } finally {
      pool.shutdownNow();
      generators.forEach(GreedyGenerator::close);
    }
  }

  /** The respond stage's settings: the model's eos ids and the configured stop strings. */
  GenerationSettings natural(int maxNewTokens, List<String> stopStrings, boolean cache) {
    return new GenerationSettings(maxNewTokens, spec.eosIds(), stopStrings, cache);
  }

  /** No id the model emits ends a row (the pad id stands in as eos): full length every time. */
  GenerationSettings fullLength(int maxNewTokens, boolean cache) {
    return new GenerationSettings(maxNewTokens, new long[] {spec.padId()}, List.of(), cache);
  }

  /** An evenly spaced sample of {@code n} prompts (all when there are fewer). */
  static List<String> sample(List<String> prompts, int n) {
    if (prompts.size() <= n) {
      return prompts;
    }
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(prompts.get((int) ((long) i * prompts.size() / n)));
    }
    return out;
  }
}

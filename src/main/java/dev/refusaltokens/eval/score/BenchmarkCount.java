package dev.refusaltokens.eval.score;

import java.util.Map;

/** Per-benchmark counts of the score stage, by benchmark name. */
final class BenchmarkCount {

  private BenchmarkCount() {}

  /** The sum of the counts. */
  static long total(Map<String, Long> byBenchmark) {
    return byBenchmark.values().stream().mapToLong(Long::longValue).sum();
  }
}

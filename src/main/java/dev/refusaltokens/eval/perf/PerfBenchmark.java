package dev.refusaltokens.eval.perf;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.bench.SyntheticPrompts;
import dev.refusaltokens.eval.config.BenchmarkSpec;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.config.JudgeConfig;
import dev.refusaltokens.eval.config.ScoringConfig;
import dev.refusaltokens.eval.judge.Judge;
import dev.refusaltokens.eval.judge.ModelJudge;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.FirstTokenScorer;
import dev.refusaltokens.eval.model.ModelCache;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptEncoder;
import dev.refusaltokens.eval.model.ScoringModel;
import dev.refusaltokens.eval.model.TokenBatcher;
import dev.refusaltokens.eval.pipeline.EvaluationJob;
import dev.refusaltokens.eval.pipeline.SparkDefaults;
import dev.refusaltokens.eval.respond.RespondStage;
import dev.refusaltokens.eval.sweep.SweepScores;
import dev.refusaltokens.eval.sweep.SweepStage;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.SparkSession;

/**
 * The performance benchmark behind {@code jobs/benchmark.sh}: in one JVM, repeated {@code repeats}
 * times, it measures the raw forward throughput (the score stage's own batches through the model in
 * a plain loop, one thread per Spark task slot), the score stage end to end in Spark (1× and {@code
 * scale}× synthetic prompts, {@code local[2]} and {@code local[1]}), padding efficiency, and the
 * sweep (default settings in {@code rates}; the full per-category grid with frontier and operating
 * points; every table plus the report), the raw decode loop of greedy continuations (KV cache and
 * recompute, {@link DecodeBenchmark}), and reports medians as {@code key: value} lines. One
 * unrecorded warm-up round comes first, so the figures are those of a warm JVM.
 */
public final class PerfBenchmark {

  private final EvalConfig config;
  private final ModelSpec spec;
  private final Path work;
  private final Map<String, List<Double>> samples = new LinkedHashMap<>();

  /**
   * Prompts of the raw decode loop (each + [respond] and the first refusal token), evenly spaced.
   */
  static final int DECODE_PROMPTS = 128;

  /** Prompts of its full-length workload, where re-running the prefix costs the most. */
  static final int DECODE_FULL_LENGTH_PROMPTS = 16;

  /** Responses each model judge judges per round. */
  static final int JUDGE_RESPONSES = 2048;

  public PerfBenchmark(EvalConfig config, ModelSpec spec, Path work) {
    this.config = config;
    this.spec = spec;
    this.work = work;
  }

  /**
   * Runs every measurement {@code repeats} times; returns the figures (medians), in print order.
   */
  public Map<String, String> run(int repeats, int scale, int slots) {
    List<BenchmarkSpec> scaled = new ArrayList<>();
    for (BenchmarkSpec b : config.benchmarks()) {
      long rows = lines(Path.of(b.path())) * scale;
      scaled.add(
          new BenchmarkSpec(
              b.name(),
              SyntheticPrompts.write(
                      Path.of(b.path()), rows, work.resolve(b.name() + "-x" + scale + ".jsonl"))
                  .toString(),
              b.shouldRefuse()));
    }
    List<String> prompts = prompts(config.benchmarks());
    // warm-up, not recorded: JIT, Spark's first jobs and code generation, the model's first calls
    System.err.println("warm-up");
    rawForward(prompts, slots, "warmup_raw");
    try (Session s = new Session("local[" + slots + "]", config.sparkConf())) {
      timeScore(s.spark, variant("perf-warmup", config.benchmarks()), "warmup");
    }
    samples.clear();
    for (int r = 1; r <= repeats; r++) {
      System.err.printf(Locale.ROOT, "repeat %d/%d%n", r, repeats);
      rawForward(prompts, slots, "raw_forward_s");
      rawForward(prompts, 1, "raw_forward_s_1thread");
      rawDecode(prompts, slots);
      rawJudges();
      try (Session s = new Session("local[" + slots + "]", config.sparkConf())) {
        double score = timeScore(s.spark, variant("perf-1x-" + r, config.benchmarks()), "score_1x");
        timeRespond(s.spark, variant("perf-1x-" + r, config.benchmarks()));
        sweep(s.spark, variant("perf-1x-" + r, config.benchmarks()), score, "", true);
        double scaledScore =
            timeScore(s.spark, variant("perf-" + scale + "x-" + r, scaled), "score_scaled");
        sweep(s.spark, variant("perf-" + scale + "x-" + r, scaled), scaledScore, "_scaled", false);
      }
      try (Session s = new Session("local[1]", config.sparkConf())) {
        timeScore(
            s.spark, variant("perf-" + scale + "x-1slot-" + r, scaled), "score_scaled_local1");
      }
    }
    long promptCount = prompts.size();
    Map<String, String> out = new LinkedHashMap<>();
    double raw = median("raw_forward_s");
    double score = median("score_1x");
    double scaledScore = median("score_scaled");
    out.put("prompts", String.valueOf(promptCount));
    out.put("raw_forward_prompts_per_s", fmt(promptCount / raw));
    out.put("raw_forward_parallel_speedup", fmt(median("raw_forward_s_1thread") / raw));
    out.put("score_prompts_per_s", fmt(promptCount / score));
    out.put("score_vs_raw", fmt(raw / score));
    out.put("score_scaled_prompts_per_s", fmt(promptCount * scale / scaledScore));
    out.put("score_scaled_vs_raw", fmt((raw * scale) / scaledScore));
    out.put("chat_template_render_us_per_prompt", fmt(median("render_us_per_prompt")));
    out.put("tokenize_us_per_prompt", fmt(median("tokenize_us_per_prompt")));
    out.put("padding_efficiency", fmt(median("padding_efficiency")));
    out.put("raw_padding_efficiency", fmt(median("raw_padding_efficiency")));
    out.put("score_s", fmt(score));
    out.put("sweep_default_s", fmt(median("sweep_default_s")));
    out.put("sweep_full_grid_s", fmt(median("sweep_full_grid_s")));
    out.put("sweep_full_vs_score", fmt(median("sweep_full_grid_s") / score));
    out.put("sweep_default_scaled_s", fmt(median("sweep_default_scaled_s")));
    out.put("sweep_full_grid_scaled_s", fmt(median("sweep_full_grid_scaled_s")));
    out.put("sweep_full_vs_score_scaled", fmt(median("sweep_full_grid_scaled_s") / scaledScore));
    out.put("sweep_all_tables_and_report_s", fmt(median("sweep_all_s")));
    out.put("scale_factor", String.valueOf(scale));
    out.put("scale_10x_time_ratio", fmt(scaledScore / score));
    out.put("local2_vs_local1", fmt(median("score_scaled_local1") / scaledScore));
    // issue 16's one-slot figure: the whole score stage on local[1] against the raw loop on one
    // thread, both one libtorch thread, on the scaled prompts (the raw loop measured on the 1×
    // prompts, times the scale)
    out.put(
        "score_scaled_local1_vs_raw_1thread",
        fmt(median("raw_forward_s_1thread") * scale / median("score_scaled_local1")));
    // the 1× score stage's cost above its floor: raw forward plus render and tokenize shared over
    // the slots, as the stage's tasks share them
    double tokenizeS =
        (median("render_us_per_prompt") + median("tokenize_us_per_prompt"))
            * promptCount
            / 1e6
            / slots;
    out.put("score_minus_floor_s", fmt(score - raw - tokenizeS));
    out.putAll(decodeFigures());
    if (samples.containsKey("respond_s")) {
      out.put("respond_s", fmt(median("respond_s")));
      out.put("respond_continuations_per_prompt", fmt(median("respond_continuations_per_prompt")));
      out.put("respond_tokens_per_s", fmt(median("respond_tokens_per_s")));
      String path =
          config.responses().useKvCache() && spec.decode() != null ? "cached" : "recompute";
      out.put(
          "respond_vs_raw_decode",
          fmt(median("respond_tokens_per_s") / median("decode_" + path + "_tokens_per_s")));
    }
    out.putAll(judgeFigures());
    out.put("peak_executor_mb", fmt(peakRssMb()));
    out.put("peak_driver_heap_mb", fmt(peakHeapMb()));
    out.put("repeats", String.valueOf(repeats));
    return out;
  }

  /**
   * The score stage's batches (length-sorted windows, token budget) through the model, no Spark.
   */
  private void rawForward(List<String> prompts, int slots, String key) {
    ScoringConfig sc = config.scoring();
    List<long[]> encoded = new ArrayList<>();
    long renderNanos = 0;
    long tokenizeNanos = 0;
    try (PromptEncoder encoder = spec.newEncoder()) { // one thread, as one task does it
      for (String p : prompts) {
        long t0 = System.nanoTime();
        String text = encoder.render(p);
        long t1 = System.nanoTime();
        long[] ids = encoder.encodeText(text);
        tokenizeNanos += System.nanoTime() - t1;
        renderNanos += t1 - t0;
        if (ids.length <= spec.maxLength()) {
          encoded.add(ids);
        }
      }
    }
    if (key.equals("raw_forward_s")) {
      record("render_us_per_prompt", renderNanos / 1e3 / prompts.size());
      record("tokenize_us_per_prompt", tokenizeNanos / 1e3 / prompts.size());
    }
    // as in the score stage: one share of the prompts per slot, each cut into windows then batches
    List<List<List<long[]>>> perSlot = new ArrayList<>();
    List<List<long[]>> allBatches = new ArrayList<>();
    for (int s = 0; s < slots; s++) {
      List<long[]> share = new ArrayList<>();
      for (int i = s; i < encoded.size(); i += slots) {
        share.add(encoded.get(i));
      }
      List<List<long[]>> batches = RawForward.batches(share, Batching.of(sc));
      allBatches.addAll(batches);
      perSlot.add(batches);
    }
    ScoringModel model = ModelCache.get(spec, Device.cpu());
    List<FirstTokenScorer> scorers = new ArrayList<>();
    for (int s = 0; s < slots; s++) {
      scorers.add(model.newScorer(spec, sc.temperatures()));
    }
    ExecutorService pool = Executors.newFixedThreadPool(slots);
    try {
      forward(pool, scorers, perSlot.subList(0, 1)); // warm-up: first-call costs of the model
      long t0 = System.nanoTime();
      forward(pool, scorers, perSlot);
      record(key, (System.nanoTime() - t0) / 1e9);
      if (key.equals("raw_forward_s")) {
        record(
            "raw_padding_efficiency",
            TokenBatcher.paddingEfficiency(allBatches, ids -> ids.length));
      }
    } finally {
      pool.shutdownNow();
      scorers.forEach(FirstTokenScorer::close);
    }
  }

  /**
   * The raw decode loop: with the respond stage's settings (the model's eos ids, the configured
   * stop strings and {@code responses.max_new_tokens}) on a sample of prompts, and at full length
   * (no eos) on a smaller one; on the KV-cache path when the model folder has a decode module, and
   * by recompute. Records generated tokens per second and the seconds per round.
   */
  private void rawDecode(List<String> prompts, int slots) {
    int maxNew = config.responses().maxNewTokens();
    Batching batching = Batching.of(config.scoring());
    DecodeBenchmark natural =
        new DecodeBenchmark(
            spec, DecodeBenchmark.sample(prompts, DECODE_PROMPTS), batching, maxNew, slots);
    DecodeBenchmark full =
        new DecodeBenchmark(
            spec,
            DecodeBenchmark.sample(prompts, DECODE_FULL_LENGTH_PROMPTS),
            batching,
            maxNew,
            slots);
    record("decode_continuations", natural.prefixes());
    for (boolean cache :
        spec.decode() == null ? new boolean[] {false} : new boolean[] {true, false}) {
      String path = cache ? "cached" : "recompute";
      DecodeBenchmark.Round r =
          natural.run(natural.natural(maxNew, config.responses().stopStrings(), cache));
      record("decode_" + path + "_tokens_per_s", r.tokensPerSecond());
      record(
          "decode_" + path + "_tokens_per_continuation", (double) r.tokens() / r.continuations());
      DecodeBenchmark.Round f = full.run(full.fullLength(maxNew, cache));
      record("decode_full_length_" + path + "_tokens_per_s", f.tokensPerSecond());
      System.err.printf(
          Locale.ROOT,
          "  raw decode (%s): %d continuations, %d tokens in %.2f s; full length: %d tokens in %.2f s%n",
          path,
          r.continuations(),
          r.tokens(),
          r.seconds(),
          f.tokens(),
          f.seconds());
    }
  }

  /**
   * Each model judge of the config on {@link #JUDGE_RESPONSES} responses: its sessions and the raw
   * forward loop of its model on the same batches ({@link JudgeBenchmark}), one thread.
   */
  private void rawJudges() {
    List<String> names = config.benchmarks().stream().map(BenchmarkSpec::name).toList();
    List<List<String>> prompts =
        config.benchmarks().stream().map(b -> prompts(List.of(b))).toList();
    for (Judge j : RespondStage.judges(config)) {
      if (j instanceof ModelJudge mj) {
        JudgeBenchmark b =
            new JudgeBenchmark(
                mj,
                JudgeBenchmark.inputs(names, prompts, JUDGE_RESPONSES),
                Batching.of(config.scoring()));
        JudgeBenchmark.Round judged = b.judged();
        JudgeBenchmark.Round raw = b.rawForward();
        record("judge_" + j.name() + "_responses_per_s", judged.perSecond());
        record("judge_" + j.name() + "_raw_forward_rows_per_s", raw.perSecond());
        System.err.printf(
            Locale.ROOT,
            "  judge %s: %d responses in %.2f s; raw forward %d rows in %.2f s%n",
            j.name(),
            judged.responses(),
            judged.seconds(),
            raw.responses(),
            raw.seconds());
      }
    }
  }

  private Map<String, String> judgeFigures() {
    Map<String, String> out = new LinkedHashMap<>();
    for (JudgeConfig j : config.judges()) {
      String key = "judge_" + j.name() + "_responses_per_s";
      if (samples.containsKey(key)) {
        double judged = median(key);
        double raw = median("judge_" + j.name() + "_raw_forward_rows_per_s");
        out.put("judge_" + j.name() + "_responses", String.valueOf(JUDGE_RESPONSES));
        out.put(key, fmt(judged));
        out.put("judge_" + j.name() + "_raw_forward_rows_per_s", fmt(raw));
        out.put("judge_" + j.name() + "_vs_raw_forward", fmt(judged / raw));
      }
    }
    return out;
  }

  private Map<String, String> decodeFigures() {
    Map<String, String> out = new LinkedHashMap<>();
    out.put("decode_max_new_tokens", String.valueOf(config.responses().maxNewTokens()));
    out.put("decode_continuations", String.valueOf(Math.round(median("decode_continuations"))));
    for (String path : List.of("cached", "recompute")) {
      if (samples.containsKey("decode_" + path + "_tokens_per_s")) {
        out.put(
            "decode_" + path + "_tokens_per_s", fmt(median("decode_" + path + "_tokens_per_s")));
        out.put(
            "decode_" + path + "_tokens_per_continuation",
            fmt(median("decode_" + path + "_tokens_per_continuation")));
        out.put(
            "decode_full_length_" + path + "_tokens_per_s",
            fmt(median("decode_full_length_" + path + "_tokens_per_s")));
      }
    }
    if (samples.containsKey("decode_cached_tokens_per_s")) {
      out.put(
          "decode_cache_speedup",
          fmt(median("decode_cached_tokens_per_s") / median("decode_recompute_tokens_per_s")));
      out.put(
          "decode_full_length_cache_speedup",
          fmt(
              median("decode_full_length_cached_tokens_per_s")
                  / median("decode_full_length_recompute_tokens_per_s")));
    }
    return out;
  }

  private static void forward(
      ExecutorService pool, List<FirstTokenScorer> scorers, List<List<List<long[]>>> perSlot) {
    List<Future<?>> running = new ArrayList<>();
    for (int s = 0; s < perSlot.size(); s++) {
      FirstTokenScorer scorer = scorers.get(s);
      List<List<long[]>> batches = perSlot.get(s);
      running.add(pool.submit(() -> batches.forEach(scorer::score)));
    }
    for (Future<?> f : running) {
      try {
        f.get();
      } catch (Exception e) {
        throw new IllegalStateException("raw forward pass failed", e);
      }
    }
  }

  /**
   * Times {@link EvaluationJob#score}; records the time under {@code key} and the padding
   * efficiency.
   */
  private double timeScore(SparkSession spark, EvalConfig c, String key) {
    long t0 = System.nanoTime();
    RunRow run = EvaluationJob.score(spark, c, spec, Clock.systemUTC());
    double seconds = (System.nanoTime() - t0) / 1e9;
    record(key, seconds);
    if (key.equals("score_1x")) {
      if (run.paddingEfficiency() != null) {
        record("padding_efficiency", run.paddingEfficiency());
      }
    }
    System.err.printf(Locale.ROOT, "  %s: %d prompts in %.2f s%n", key, run.rowsScored(), seconds);
    return seconds;
  }

  /**
   * Times {@link EvaluationJob#respond} on a scored run (when {@code responses.enabled}): its
   * generated tokens per second, the continuations per prompt it generated, and the same tokens per
   * second against the raw decode loop's on the same path.
   */
  private void timeRespond(SparkSession spark, EvalConfig c) {
    if (!c.responses().enabled()) {
      return;
    }
    RunRow scored = EvaluationJob.scoredRun(spark, c);
    long t0 = System.nanoTime();
    RunRow run = EvaluationJob.respond(spark, c, spec, scored, Clock.systemUTC(), false, null);
    double seconds = (System.nanoTime() - t0) / 1e9;
    RunRow.Responded r = run.responded();
    record("respond_s", seconds);
    record("respond_tokens_per_s", r.newTokens() / seconds);
    record("respond_continuations_per_prompt", (double) r.rows() / r.prompts());
    System.err.printf(
        Locale.ROOT,
        "  respond (%s): %d continuations of %d prompts, %d tokens in %.2f s%n",
        r.decode(),
        r.rows(),
        r.prompts(),
        r.newTokens(),
        seconds);
  }

  /**
   * The sweep's parts on the persisted scores of a scored run, recorded with {@code suffix}; then,
   * when {@code whole}, the whole sweep with every table and the report.
   */
  private void sweep(
      SparkSession spark, EvalConfig c, double scoreSeconds, String suffix, boolean whole) {
    RunRow run = EvaluationJob.scoredRun(spark, c);
    try (SweepScores scores =
        SweepScores.persist(new RunTables(spark, c.output(), c.runId()), run)) {
      scores.rows().count(); // cached before the timed parts, as in the sweep stage
      long t0 = System.nanoTime();
      SweepStage.rates(scores, c.sweep(), c.runId());
      record("sweep_default" + suffix + "_s", (System.nanoTime() - t0) / 1e9);
      long t1 = System.nanoTime();
      SweepStage.searchFullGrid(scores, c.sweep(), c.runId());
      record("sweep_full_grid" + suffix + "_s", (System.nanoTime() - t1) / 1e9);
    }
    if (!whole) {
      return;
    }
    long t2 = System.nanoTime();
    EvaluationJob.sweep(spark, c, run, Clock.systemUTC());
    double all = (System.nanoTime() - t2) / 1e9;
    record("sweep_all_s", all);
    System.err.printf(
        Locale.ROOT,
        "  sweep: all tables and report in %.2f s (score %.2f s)%n",
        all,
        scoreSeconds);
  }

  private EvalConfig variant(String runId, List<BenchmarkSpec> benchmarks) {
    return new EvalConfig(
        runId,
        work.resolve("warehouse").toString(),
        config.model(),
        benchmarks,
        config.scoring(),
        config.sweep(),
        config.responses(),
        config.judges(),
        config.regress(),
        config.sparkMaster(),
        config.sparkConf(),
        config.heartbeatSeconds(),
        config.source());
  }

  private List<String> prompts(List<BenchmarkSpec> benchmarks) {
    List<String> out = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (BenchmarkSpec b : benchmarks) {
      try {
        for (String line : Files.readAllLines(Path.of(b.path()), StandardCharsets.UTF_8)) {
          if (!line.isBlank()) {
            out.add(json.readTree(line).path("prompt").asText());
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  private static long lines(Path file) {
    try (var s = Files.lines(file, StandardCharsets.UTF_8)) {
      return s.filter(l -> !l.isBlank()).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void record(String key, double value) {
    samples.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
  }

  private double median(String key) {
    List<Double> v = new ArrayList<>(samples.get(key));
    v.sort(Double::compare);
    int n = v.size();
    return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
  }

  /**
   * Peak resident memory of this process (driver and executor share it in local mode), from /proc.
   */
  private static double peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux: fall through
    }
    return Double.NaN;
  }

  /** Sum of the heap pools' peak usage since the JVM started. */
  private static double peakHeapMb() {
    long bytes = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        bytes += pool.getPeakUsage().getUsed();
      }
    }
    return bytes / 1024.0 / 1024.0;
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.3f", v);
  }

  /** A local Spark session with the given master, stopped on close. */
  private static final class Session implements AutoCloseable {
    final SparkSession spark;

    Session(String master, Map<String, String> conf) {
      SparkSession.Builder builder =
          SparkSession.builder()
              .master(master)
              .appName("refusal-eval benchmark " + master)
              .config("spark.ui.enabled", "false");
      conf.forEach(builder::config);
      SparkDefaults.CONF.forEach(builder::config);
      spark = builder.getOrCreate();
    }

    @Override
    public void close() {
      spark.stop();
    }
  }
}

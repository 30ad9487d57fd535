package dev.refusaltokens.eval.score;

import ai.djl.Device;
import dev.refusaltokens.eval.bench.ParsedPrompt;
import dev.refusaltokens.eval.bench.RejectReason;
import dev.refusaltokens.eval.config.ScoringConfig;
import dev.refusaltokens.eval.config.SpecialTokensInPrompt;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.FirstTokenScorer;
import dev.refusaltokens.eval.model.Libtorch;
import dev.refusaltokens.eval.model.ModelCache;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptEncoder;
import dev.refusaltokens.eval.model.PromptScore;
import dev.refusaltokens.eval.model.PromptSpecialTokens;
import dev.refusaltokens.eval.model.ScoringModel;
import dev.refusaltokens.eval.model.TokenBatcher;
import dev.refusaltokens.eval.template.TemplateException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.function.Function;
import java.util.function.LongFunction;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.util.TaskCompletionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor-side scoring of one partition of valid prompts (rows holding the {@link ParsedPrompt}
 * columns; others are ignored) into {@link ScoredPrompt} rows. The model comes from the per-JVM
 * {@link ModelCache}; the tokenizer and predictor belong to the task and are closed when it
 * completes. Rows are pulled lazily in windows of {@link Batching#windowRows()}, length-sorted
 * within the window and cut into token-budget batches, so memory does not grow with the partition.
 *
 * <p>Before a prompt is batched it may become a reject of its own: the chat template fails on it
 * ({@code template_error}), its text gave special tokens and those are rejected ({@code
 * special_tokens_in_prompt}), or it is too long for the model's window ({@code too_long}). A scored
 * prompt records the special tokens its text gave ({@link PromptSpecialTokens}).
 *
 * <p>The task is a two-stage pipeline: while the model scores window k in the task thread, a
 * prefetch thread of the task ({@link Prefetcher}, one window ahead) renders, tokenizes and batches
 * window k+1, so a GPU, or the model's CPU thread, does not wait for the tokenizer after the first
 * window. A partition of one window (at most {@code scoring.window_rows} rows) has nothing to
 * overlap. The rows and their order are those of {@link #scoreWindow} on one window after another.
 */
final class ScorePartition implements MapPartitionsFunction<Row, Row> {

  private static final Logger LOG = LoggerFactory.getLogger(ScorePartition.class);

  private final ModelSpec spec;
  private final List<Double> temperatures;
  private final Batching batching;
  private final ScoreMetrics metrics; // null: no progress or padding reporting
  private final SpecialTokensInPrompt specialTokensInPrompt;

  /** Prompts whose text gives special tokens are scored ({@code keep}): the canary's re-scoring. */
  public ScorePartition(
      ModelSpec spec, List<Double> temperatures, Batching batching, ScoreMetrics metrics) {
    this(spec, temperatures, batching, metrics, SpecialTokensInPrompt.KEEP);
  }

  public ScorePartition(
      ModelSpec spec,
      List<Double> temperatures,
      Batching batching,
      ScoreMetrics metrics,
      SpecialTokensInPrompt specialTokensInPrompt) {
    this.spec = spec;
    this.temperatures = List.copyOf(temperatures);
    this.batching = batching;
    this.metrics = metrics;
    this.specialTokensInPrompt = specialTokensInPrompt;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> input) {
    if (!input.hasNext()) {
      return Collections.emptyIterator(); // an empty partition loads nothing
    }
    TaskContext ctx = TaskContext.get();
    if (ctx != null) {
      Libtorch.configureThreads(ctx.cpus()); // once per JVM, before anything starts the engine
    }
    Device device = TaskDevice.current();
    ScoringModel model = ModelCache.get(spec, device);
    PromptEncoder encoder = spec.newEncoder();
    closeWithTask(ctx, encoder);
    FirstTokenScorer scorer = model.newScorer(spec, temperatures);
    closeWithTask(ctx, scorer);
    Prefetcher<List<Row>, PreparedWindow> prefetch =
        new Prefetcher<>(
            prefetchThreadName(ctx),
            1,
            new WindowPreparer(this, encoder, encoder.specialTokens(controlTokens(spec))));
    // registered last, so Spark (which runs completion listeners last-in first-out) stops the
    // worker before it closes the encoder the worker uses
    closeWithTask(ctx, prefetch);
    Runnable closeOutsideTask =
        ctx != null
            ? null
            : () -> {
              scorer.close();
              encoder.close();
            };
    return new WindowIterator(input, prefetch, encoder, scorer, closeOutsideTask);
  }

  /** Prefix of the name of every task's window-preparing thread. */
  static final String PREFETCH_THREAD = "score-prefetch";

  private static String prefetchThreadName(TaskContext ctx) {
    return ctx == null
        ? PREFETCH_THREAD
        : PREFETCH_THREAD + "-partition-" + ctx.partitionId() + "-task-" + ctx.taskAttemptId();
  }

  /** id → string of the model's control tokens, which count as special wherever they come from. */
  static Map<Long, String> controlTokens(ModelSpec spec) {
    Map<Long, String> out = new LinkedHashMap<>();
    out.put(spec.respondId(), spec.respondToken());
    for (int i = 0; i < spec.refusalIds().length; i++) {
      out.put(spec.refusalIds()[i], spec.refusalTokens().get(i));
    }
    return out;
  }

  /** Closes a task's resource when the task ends, success or failure (the iterator is lazy). */
  private static void closeWithTask(TaskContext ctx, AutoCloseable resource) {
    if (ctx != null) {
      ctx.addTaskCompletionListener(
          (TaskCompletionListener)
              c -> {
                try {
                  resource.close();
                } catch (Exception e) {
                  LOG.warn("Closing {} failed", resource, e);
                }
              });
    }
  }

  /**
   * Scores one window of prompts, in the calling thread; returns the output rows: the window's
   * rejects in input order, then the scored rows batch by batch. The task's iterator gives the same
   * rows, preparing the next window on another thread.
   */
  List<Row> scoreWindow(
      List<Row> window,
      PromptEncoder encoder,
      PromptSpecialTokens specialTokens,
      FirstTokenScorer scorer) {
    return score(prepare(window, encoder, specialTokens), scorer, encoder::decode);
  }

  /**
   * A window rendered, tokenized and cut into batches: its rejects, in input order, and its batches
   * of prompts that fit.
   */
  private record PreparedWindow(int rows, List<Row> rejects, List<List<Encoded>> batches) {}

  /**
   * Renders and tokenizes a window's prompts and cuts those that fit into batches; what decides a
   * reject before the model (the template, special tokens, the length) is decided here. Stops at an
   * interrupt of its thread (a killed task) between prompts.
   */
  private PreparedWindow prepare(
      List<Row> window, PromptEncoder encoder, PromptSpecialTokens specialTokens) {
    List<Row> rejects = new ArrayList<>();
    List<Encoded> fit = new ArrayList<>();
    for (Row row : window) {
      if (Thread.currentThread().isInterrupted()) {
        throw new IllegalStateException("interrupted while preparing a window of prompts");
      }
      ParsedPrompt prompt = ParsedPrompt.fromRow(row);
      String text;
      try {
        text = encoder.render(prompt.prompt());
      } catch (TemplateException e) {
        rejects.add(
            ScoredPrompt.rejected(
                    prompt,
                    RejectReason.TEMPLATE_ERROR,
                    "the chat template failed on this prompt: " + e.getMessage(),
                    null)
                .toRow());
        continue;
      }
      long[] ids = encoder.encodeText(text);
      List<String> special = specialTokens.inPrompt(ids);
      if (ids.length > spec.maxLength()) {
        rejects.add(tooLong(prompt, ids.length).toRow());
      } else if (!special.isEmpty() && specialTokensInPrompt == SpecialTokensInPrompt.REJECT) {
        rejects.add(
            ScoredPrompt.rejected(
                    prompt,
                    RejectReason.SPECIAL_TOKENS_IN_PROMPT,
                    specialDetail(special),
                    ids.length)
                .toRow());
      } else {
        fit.add(new Encoded(prompt, ids, special));
      }
    }
    return new PreparedWindow(
        window.size(), rejects, TokenBatcher.batches(fit, e -> e.ids.length, batching));
  }

  /**
   * Runs the model on a prepared window's batches; returns its rejects, then the scored rows batch
   * by batch.
   *
   * @param otherToken the text of a vocabulary id (the most likely other token)
   */
  private List<Row> score(
      PreparedWindow window, FirstTokenScorer scorer, LongFunction<String> otherToken) {
    List<Row> out = new ArrayList<>(window.rejects());
    for (List<Encoded> batch : window.batches()) {
      countTokens(batch);
      PromptScore[] scores = scorer.score(batch.stream().map(e -> e.ids).toList());
      for (int i = 0; i < batch.size(); i++) {
        Encoded e = batch.get(i);
        String bad = nonFinite(scores[i]);
        if (bad != null) {
          out.add(
              ScoredPrompt.rejected(e.prompt, RejectReason.NON_FINITE_SCORE, bad, e.ids.length)
                  .toRow());
        } else {
          scoreRows(e, scores[i], otherToken.apply(scores[i].otherTokenId()))
              .forEach(r -> out.add(r.toRow()));
        }
      }
    }
    return out;
  }

  /** Real and padded tokens of a batch, for the padding efficiency. */
  private void countTokens(List<Encoded> batch) {
    if (metrics == null) {
      return;
    }
    int longest = 0;
    for (Encoded e : batch) {
      metrics.realTokens().add(e.ids.length);
      longest = Math.max(longest, e.ids.length);
    }
    metrics.paddedTokens().add((long) longest * batch.size());
  }

  /** A NaN or +inf log-probability (e.g. an fp16 overflow) must not be counted as "answered". */
  private String nonFinite(PromptScore score) {
    for (int t = 0; t < temperatures.size(); t++) {
      FirstTokenStats s = score.perTemperature()[t];
      boolean bad = !(s.respondLogprob() <= 0.0) || !(s.otherLogprob() <= 0.0);
      for (int c = 0; c < s.refusalTokenCount(); c++) {
        bad |= !(s.refusalLogprob(c) <= 0.0);
      }
      if (bad) {
        return "the model gave a non-finite log-probability at temperature "
            + temperatures.get(t)
            + ": "
            + s;
      }
    }
    return null;
  }

  /** One row per temperature, {@code logprobs} keyed by control token in the model's order. */
  private List<ScoredPrompt> scoreRows(Encoded e, PromptScore score, String otherToken) {
    List<ScoredPrompt> rows = new ArrayList<>(temperatures.size());
    List<String> tokens = spec.controlTokens();
    for (int t = 0; t < temperatures.size(); t++) {
      FirstTokenStats s = score.perTemperature()[t];
      Map<String, Double> logprobs = new LinkedHashMap<>();
      logprobs.put(tokens.get(0), s.respondLogprob());
      for (int c = 0; c < s.refusalTokenCount(); c++) {
        logprobs.put(tokens.get(c + 1), s.refusalLogprob(c));
      }
      rows.add(
          ScoredPrompt.scored(
              e.prompt,
              temperatures.get(t),
              e.ids.length,
              logprobs,
              s.otherLogprob(),
              otherToken,
              score.otherTokenId(),
              e.specialTokens));
    }
    return rows;
  }

  /** The reject detail: which special tokens, and the key that made them a reject. */
  static String specialDetail(List<String> special) {
    return "the prompt's text gives the tokenizer "
        + (special.size() == 1 ? "the special token " : special.size() + " special tokens ")
        + String.join(", ", special)
        + " ("
        + ScoringConfig.SPECIAL_TOKENS_IN_PROMPT
        + " = "
        + SpecialTokensInPrompt.REJECT
        + ")";
  }

  private ScoredPrompt tooLong(ParsedPrompt prompt, int tokens) {
    return ScoredPrompt.rejected(
        prompt,
        RejectReason.TOO_LONG,
        "the rendered prompt has " + tokens + " tokens; the model window is " + spec.maxLength(),
        tokens);
  }

  /** A prompt that fits, its token ids and the special tokens its text gave. */
  private record Encoded(ParsedPrompt prompt, long[] ids, List<String> specialTokens) {}

  /** The prefetch thread's work: {@link #prepare} with the task's encoder. */
  private static final class WindowPreparer implements Function<List<Row>, PreparedWindow> {
    private final ScorePartition partition;
    private final PromptEncoder encoder;
    private final PromptSpecialTokens specialTokens;

    WindowPreparer(
        ScorePartition partition, PromptEncoder encoder, PromptSpecialTokens specialTokens) {
      this.partition = partition;
      this.encoder = encoder;
      this.specialTokens = specialTokens;
    }

    @Override
    public PreparedWindow apply(List<Row> window) {
      return partition.prepare(window, encoder, specialTokens);
    }
  }

  /**
   * Pulls a window of input rows at a time and hands out its scored rows. Window k+1's rows are
   * read here, on the task thread (Spark's input iterator is not thread-safe), and handed to the
   * prefetch thread, which renders, tokenizes and batches them while the model runs on window k
   * here; so at most one window is prepared ahead. The rows are those of {@link #scoreWindow} on
   * each window in turn. The text of each scored prompt's most likely other token comes from a
   * small id → text cache: the encoder is mostly the prefetch thread's, and few ids occur.
   */
  private final class WindowIterator implements Iterator<Row> {
    private final Iterator<Row> input;
    private final Prefetcher<List<Row>, PreparedWindow> prefetch;
    private final PromptEncoder encoder;
    private final FirstTokenScorer scorer;
    private final Runnable
        closeWhenDone; // only outside Spark tasks (tests); tasks close via listener
    private final Map<Long, String> otherTokens = new HashMap<>();
    private Iterator<Row> current = Collections.emptyIterator();
    private long prompts;
    private final long startNanos = System.nanoTime();

    WindowIterator(
        Iterator<Row> input,
        Prefetcher<List<Row>, PreparedWindow> prefetch,
        PromptEncoder encoder,
        FirstTokenScorer scorer,
        Runnable closeWhenDone) {
      this.input = input;
      this.prefetch = prefetch;
      this.encoder = encoder;
      this.scorer = scorer;
      this.closeWhenDone = closeWhenDone;
    }

    @Override
    public boolean hasNext() {
      try {
        while (!current.hasNext()) {
          if (!prefetch.hasPending()) {
            if (!input.hasNext()) {
              finish();
              return false;
            }
            prefetch.submit(readWindow()); // the first window: nothing to overlap it with
          }
          if (prompts > 0) {
            FaultInjection.beforeLaterWindow(prompts);
          }
          PreparedWindow window = prefetch.take();
          if (input.hasNext()) {
            prefetch.submit(readWindow()); // prepared while the model scores this one
          }
          current = score(window, scorer, this::otherToken).iterator();
          prompts += window.rows();
          if (metrics != null) {
            metrics.prompts().add(window.rows());
          }
        }
        return true;
      } catch (RuntimeException | Error e) {
        prefetch.close(); // no thread outlives a failed iterator, in a task or not
        throw e;
      }
    }

    private List<Row> readWindow() {
      List<Row> window = new ArrayList<>(Math.min(batching.windowRows(), 1024));
      while (input.hasNext() && window.size() < batching.windowRows()) {
        window.add(input.next());
      }
      return window;
    }

    private String otherToken(long id) {
      return otherTokens.computeIfAbsent(id, encoder::decode);
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return current.next();
    }

    private boolean finished;

    private void finish() {
      if (finished) {
        return;
      }
      finished = true;
      prefetch.close();
      double seconds = (System.nanoTime() - startNanos) / 1e9;
      TaskContext ctx = TaskContext.get();
      LOG.info(
          "Partition {}: scored {} prompts in {} s ({} prompts/s)",
          ctx == null ? "-" : ctx.partitionId(),
          prompts,
          String.format("%.2f", seconds),
          String.format("%.1f", prompts / Math.max(seconds, 1e-9)));
      if (closeWhenDone != null) {
        closeWhenDone.run();
      }
    }
  }
}

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
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
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
    Runnable closeOutsideTask =
        ctx != null
            ? null
            : () -> {
              scorer.close();
              encoder.close();
            };
    return new WindowIterator(
        input, encoder, encoder.specialTokens(controlTokens(spec)), scorer, closeOutsideTask);
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

  /** Scores one window of prompts; returns the output rows in input order of the batches. */
  List<Row> scoreWindow(
      List<Row> window,
      PromptEncoder encoder,
      PromptSpecialTokens specialTokens,
      FirstTokenScorer scorer) {
    List<Row> out = new ArrayList<>();
    List<Encoded> fit = new ArrayList<>();
    for (Row row : window) {
      ParsedPrompt prompt = ParsedPrompt.fromRow(row);
      String text;
      try {
        text = encoder.render(prompt.prompt());
      } catch (TemplateException e) {
        out.add(
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
        out.add(tooLong(prompt, ids.length).toRow());
      } else if (!special.isEmpty() && specialTokensInPrompt == SpecialTokensInPrompt.REJECT) {
        out.add(
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
    for (List<Encoded> batch : TokenBatcher.batches(fit, e -> e.ids.length, batching)) {
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
          scoreRows(e, scores[i], encoder.decode(scores[i].otherTokenId()))
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

  private record Encoded(ParsedPrompt prompt, long[] ids, List<String> specialTokens) {}

  /** Pulls a window of input rows at a time and hands out its scored rows. */
  private final class WindowIterator implements Iterator<Row> {
    private final Iterator<Row> input;
    private final PromptEncoder encoder;
    private final PromptSpecialTokens specialTokens;
    private final FirstTokenScorer scorer;
    private final Runnable
        closeWhenDone; // only outside Spark tasks (tests); tasks close via listener
    private Iterator<Row> current = Collections.emptyIterator();
    private long prompts;
    private final long startNanos = System.nanoTime();

    WindowIterator(
        Iterator<Row> input,
        PromptEncoder encoder,
        PromptSpecialTokens specialTokens,
        FirstTokenScorer scorer,
        Runnable closeWhenDone) {
      this.input = input;
      this.encoder = encoder;
      this.specialTokens = specialTokens;
      this.scorer = scorer;
      this.closeWhenDone = closeWhenDone;
    }

    @Override
    public boolean hasNext() {
      while (!current.hasNext()) {
        if (!input.hasNext()) {
          finish();
          return false;
        }
        if (prompts > 0) {
          FaultInjection.beforeLaterWindow(prompts);
        }
        List<Row> window = new ArrayList<>(Math.min(batching.windowRows(), 1024));
        while (input.hasNext() && window.size() < batching.windowRows()) {
          window.add(input.next());
        }
        current = scoreWindow(window, encoder, specialTokens, scorer).iterator();
        prompts += window.size();
        if (metrics != null) {
          metrics.prompts().add(window.size());
        }
      }
      return true;
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

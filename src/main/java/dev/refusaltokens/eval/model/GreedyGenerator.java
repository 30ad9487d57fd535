package dev.refusaltokens.eval.model;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Greedy continuations of prefixes (a rendered prompt + its forced first token), as Hugging Face's
 * {@code generate(do_sample=False)}: at each step the argmax over the whole vocabulary (lowest id
 * among ties), computed on the model's device. The rows of a batch advance together; a row ends at
 * an end-of-sequence id, a stop string, {@link GenerationSettings#maxNewTokens()} new tokens or the
 * model window ({@link ModelSpec#maxLength()}: prefix + new tokens never exceed it), or with
 * non-finite logits ({@link FinishReason#ERROR} with the reason; never dropped). A prefix longer
 * than the window is an error row too.
 *
 * <p>Two paths give the same tokens: with the model folder's KV-cache decode module ({@link
 * ModelSpec.DecodeModule}) when there is one and {@link GenerationSettings#useCache()}, else by
 * re-running the scoring model on the whole sequence each step. One per task thread (it owns a
 * predictor and a tokenizer); close it when the task ends. Made by {@link
 * ScoringModel#newGenerator}.
 */
public final class GreedyGenerator implements AutoCloseable {

  private static final AtomicLong TOKENS = new AtomicLong();

  private final ModelSpec spec;
  private final GenerationSettings settings;
  private final TokenDecoder decoder;
  private final PromptEncoder text;

  GreedyGenerator(ModelSpec spec, GenerationSettings settings, TokenDecoder decoder) {
    this.spec = spec;
    this.settings = settings;
    this.decoder = decoder;
    PromptEncoder encoder;
    try {
      encoder = spec.newEncoder();
    } catch (RuntimeException e) {
      decoder.close();
      throw e;
    }
    this.text = encoder;
  }

  /** True when this generator decodes with the KV-cache module, false when it recomputes. */
  public boolean cached() {
    return decoder instanceof CachedDecoder;
  }

  public GenerationSettings settings() {
    return settings;
  }

  /**
   * One batch: a continuation per prefix, in order. The prefixes are right padded together, so sort
   * them by length first (as {@link TokenBatcher} does) to waste little.
   *
   * @param prefixes each the rendered prompt's ids + the forced first token's id; none empty
   */
  public List<Continuation> generate(List<long[]> prefixes) {
    GreedyRow[] rows = new GreedyRow[prefixes.size()];
    List<Integer> runnable = new ArrayList<>();
    List<long[]> runPrefixes = new ArrayList<>();
    for (int i = 0; i < rows.length; i++) {
      rows[i] = new GreedyRow(prefixes.get(i).length, settings, spec.maxLength());
      if (rows[i].active()) {
        runnable.add(i);
        runPrefixes.add(prefixes.get(i));
      }
    }
    if (!runnable.isEmpty()) {
      GreedyRow[] batch = new GreedyRow[runnable.size()];
      for (int r = 0; r < batch.length; r++) {
        batch[r] = rows[runnable.get(r)];
      }
      decode(batch, runPrefixes);
    }
    List<Continuation> out = new ArrayList<>(rows.length);
    for (GreedyRow row : rows) {
      out.add(row.toContinuation(text::decode));
    }
    return out;
  }

  private void decode(GreedyRow[] rows, List<long[]> prefixes) {
    int n = rows.length;
    long generated = 0;
    try (TokenDecoder.Batch batch = decoder.start(prefixes)) {
      TokenDecoder.Step step = batch.prefill();
      long[] tokens = new long[n];
      boolean[] active = new boolean[n];
      while (true) {
        int going = 0;
        for (int i = 0; i < n; i++) {
          if (rows[i].active()) {
            int before = rows[i].newTokens();
            rows[i].accept(step.ids()[i], step.maxLogits()[i], text::decode);
            generated += rows[i].newTokens() - before;
          }
          active[i] = rows[i].active();
          if (active[i]) {
            tokens[i] = rows[i].lastId();
            going++;
          }
        }
        if (going == 0) {
          break;
        }
        step = batch.step(tokens, active);
      }
    } finally {
      TOKENS.addAndGet(generated);
    }
  }

  /**
   * New tokens this JVM has generated (end-of-sequence ids not counted): the benchmark's and the
   * tests' count of the work done.
   */
  public static long tokensGenerated() {
    return TOKENS.get();
  }

  @Override
  public void close() {
    try {
      decoder.close();
    } finally {
      text.close();
    }
  }
}

package dev.refusaltokens.eval.model;

import ai.djl.inference.Predictor;
import ai.djl.translate.TranslateException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scores batches of encoded prompts with one {@link Predictor} (one per task thread; close it when
 * the task ends).
 */
public final class FirstTokenScorer implements AutoCloseable {

  private static final AtomicLong ROWS = new AtomicLong();

  private final Predictor<long[][], PromptScore[]> predictor;
  private final int maxLength;

  FirstTokenScorer(ScoringModel model, ModelSpec spec, List<Double> temperatures) {
    this.predictor = model.newPredictor(new FirstTokenTranslator(spec, temperatures));
    this.maxLength = spec.maxLength();
  }

  /** One forward pass; rows are token ids of rendered prompts, each at most the model's window. */
  public PromptScore[] score(List<long[]> rows) {
    for (long[] row : rows) {
      if (row.length == 0 || row.length > maxLength) {
        throw new IllegalArgumentException(
            "a row of " + row.length + " tokens does not fit the model window " + maxLength);
      }
    }
    ROWS.addAndGet(rows.size());
    try {
      return predictor.predict(rows.toArray(new long[0][]));
    } catch (TranslateException e) {
      if (e.getCause() instanceof IllegalStateException badOutput) {
        throw badOutput; // the translator's message names the file, the shape and the fix
      }
      throw new IllegalStateException("Forward pass failed: " + e.getMessage(), e);
    }
  }

  /**
   * Prompts this JVM has put through a forward pass: the resume test counts the model's work with
   * it.
   */
  public static long rowsScored() {
    return ROWS.get();
  }

  @Override
  public void close() {
    predictor.close();
  }
}

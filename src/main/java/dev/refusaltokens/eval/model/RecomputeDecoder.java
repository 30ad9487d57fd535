package dev.refusaltokens.eval.model;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import java.util.Arrays;
import java.util.List;

/**
 * Greedy decoding without a cache: every step runs the scoring model ({@code model.pt}, {@link
 * ScoringModel}) on the whole right-padded sequence of each row still going, and reads the logits
 * at its last real token ({@code [B, V]} or {@code [B, T, V]}, {@link LogitsLayout}). Rows that
 * have ended leave the batch. The work of a step grows with the sequence: a fallback for model
 * folders without a decode module.
 */
final class RecomputeDecoder implements TokenDecoder {

  private final ModelSpec spec;
  private final Device device;
  private final Predictor<NDList, NDList> predictor;

  RecomputeDecoder(ScoringModel model, ModelSpec spec, Device device) {
    this.spec = spec;
    this.device = device;
    this.predictor = model.newPredictor(new NoopTranslator());
  }

  @Override
  public String name() {
    return "recompute";
  }

  @Override
  public Batch start(List<long[]> prefixes) {
    return new RecomputeBatch(prefixes);
  }

  @Override
  public void close() {
    predictor.close();
  }

  private final class RecomputeBatch implements Batch {

    private final long[][] rows;
    private final int[] lengths;
    private final NDManager manager = NDManager.newBaseManager(device, "PyTorch");

    RecomputeBatch(List<long[]> prefixes) {
      rows = new long[prefixes.size()][];
      lengths = new int[prefixes.size()];
      for (int i = 0; i < rows.length; i++) {
        lengths[i] = prefixes.get(i).length;
        rows[i] = Arrays.copyOf(prefixes.get(i), Math.max(16, 2 * lengths[i]));
      }
    }

    @Override
    public Step prefill() {
      boolean[] all = new boolean[rows.length];
      Arrays.fill(all, true);
      return forward(all);
    }

    @Override
    public Step step(long[] tokens, boolean[] active) {
      for (int i = 0; i < rows.length; i++) {
        if (active[i]) {
          if (lengths[i] == rows[i].length) {
            rows[i] = Arrays.copyOf(rows[i], 2 * lengths[i]);
          }
          rows[i][lengths[i]++] = tokens[i];
        }
      }
      return forward(active);
    }

    /** One forward pass over the active rows; the step of every row (others untouched). */
    private Step forward(boolean[] active) {
      int[] which = new int[rows.length];
      int b = 0;
      int t = 0;
      for (int i = 0; i < rows.length; i++) {
        if (active[i]) {
          which[b++] = i;
          t = Math.max(t, lengths[i]);
        }
      }
      long[] ids = new long[b * t];
      long[] mask = new long[b * t];
      int[] batchLengths = new int[b];
      Arrays.fill(ids, spec.padId());
      for (int r = 0; r < b; r++) {
        int i = which[r];
        System.arraycopy(rows[i], 0, ids, r * t, lengths[i]);
        Arrays.fill(mask, r * t, r * t + lengths[i], 1L);
        batchLengths[r] = lengths[i];
      }
      Step batchStep;
      try (NDManager m = manager.newSubManager()) {
        NDList out =
            predictor.predict(
                new NDList(m.create(ids, new Shape(b, t)), m.create(mask, new Shape(b, t))));
        if (out.size() != 1) {
          throw LogitsLayout.notOneOutput(spec, out.size());
        }
        NDArray raw = out.get(0);
        LogitsLayout layout = LogitsLayout.of(raw.getShape(), b, t, spec);
        NDArray logits =
            layout == LogitsLayout.FULL ? LogitsLayout.lastRealTokens(m, raw, batchLengths) : raw;
        batchStep = Step.of(logits);
      } catch (TranslateException | EngineException e) {
        throw new IllegalStateException(
            "Greedy decoding with "
                + spec.modelPath()
                + " failed on a batch of "
                + b
                + " rows of "
                + t
                + " tokens: "
                + e.getMessage(),
            e);
      }
      long[] stepIds = new long[rows.length];
      float[] stepMax = new float[rows.length];
      Arrays.fill(stepMax, Float.NaN);
      for (int r = 0; r < b; r++) {
        stepIds[which[r]] = batchStep.ids()[r];
        stepMax[which[r]] = batchStep.maxLogits()[r];
      }
      return new Step(stepIds, stepMax);
    }

    @Override
    public void close() {
      manager.close();
    }
  }
}

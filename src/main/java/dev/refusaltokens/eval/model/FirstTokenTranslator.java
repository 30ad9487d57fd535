package dev.refusaltokens.eval.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import java.util.Arrays;
import java.util.List;

/**
 * One forward pass over a batch of token-id rows → each row's {@link PromptScore}. Rows are right-padded
 * into {@code [B, T]}; the model returns the logits at each row's last real token, {@code [B, V]}.
 * The reduction to the sufficient statistic runs on the model's device, so only {@code B × (K + 2)}
 * numbers per temperature leave it: the log-softmax over the whole vocabulary at each temperature,
 * gathered at the control-token ids, and the best other token.
 */
final class FirstTokenTranslator implements NoBatchifyTranslator<long[][], PromptScore[]> {

  private final long[] controlIds; // [respond] first, then the refusal tokens
  private final long padId;
  private final double[] temperatures;

  FirstTokenTranslator(ModelSpec spec, List<Double> temperatures) {
    this.controlIds = new long[spec.refusalIds().length + 1];
    controlIds[0] = spec.respondId();
    System.arraycopy(spec.refusalIds(), 0, controlIds, 1, spec.refusalIds().length);
    this.padId = spec.padId();
    this.temperatures = temperatures.stream().mapToDouble(Double::doubleValue).toArray();
  }

  @Override
  public NDList processInput(TranslatorContext ctx, long[][] rows) {
    int b = rows.length;
    int t = Arrays.stream(rows).mapToInt(r -> r.length).max().orElse(0);
    long[] ids = new long[b * t];
    long[] mask = new long[b * t];
    Arrays.fill(ids, padId);
    for (int i = 0; i < b; i++) {
      System.arraycopy(rows[i], 0, ids, i * t, rows[i].length);
      Arrays.fill(mask, i * t, i * t + rows[i].length, 1L);
    }
    NDManager m = ctx.getNDManager();
    return new NDList(m.create(ids, new Shape(b, t)), m.create(mask, new Shape(b, t)));
  }

  @Override
  public PromptScore[] processOutput(TranslatorContext ctx, NDList output) {
    NDManager m = ctx.getNDManager();
    NDArray logits = output.get(0).toType(DataType.FLOAT32, false);
    int b = (int) logits.getShape().get(0);
    int v = (int) logits.getShape().get(1);
    int k = controlIds.length;
    for (long id : controlIds) {
      if (id >= v) {
        throw new IllegalStateException("control-token id " + id + " is outside the model's output of " + v
            + " logits: the TorchScript file does not belong to this tokenizer, or does not return [B, V]");
      }
    }

    long[] gatherIdx = new long[b * k];
    for (int i = 0; i < b; i++) {
      System.arraycopy(controlIds, 0, gatherIdx, i * k, k);
    }
    NDArray index = m.create(gatherIdx, new Shape(b, k)).toDevice(logits.getDevice(), false);
    float[] excludeControl = new float[v];
    for (long id : controlIds) {
      excludeControl[(int) id] = Float.NEGATIVE_INFINITY;
    }
    NDArray otherMask = m.create(excludeControl).toDevice(logits.getDevice(), false);
    long[] otherIds = logits.add(otherMask).argMax(1).toType(DataType.INT64, false).toLongArray();

    PromptScore[] scores = new PromptScore[b];
    for (int i = 0; i < b; i++) {
      scores[i] = new PromptScore(otherIds[i], new FirstTokenStats[temperatures.length]);
    }
    for (int ti = 0; ti < temperatures.length; ti++) {
      NDArray logp = logits.div(temperatures[ti]).logSoftmax(1);
      float[] control = logp.gather(index, 1).toFloatArray();
      float[] other = logp.add(otherMask).max(new int[] {1}).toFloatArray();
      for (int i = 0; i < b; i++) {
        double[] refusal = new double[k - 1];
        for (int c = 1; c < k; c++) {
          refusal[c - 1] = control[i * k + c];
        }
        scores[i].perTemperature()[ti] = new FirstTokenStats(control[i * k], refusal, other[i]);
      }
    }
    return scores;
  }
}

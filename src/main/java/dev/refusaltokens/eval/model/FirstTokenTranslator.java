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
 * One forward pass over a batch of token-id rows → each row's {@link PromptScore}. Rows are
 * right-padded into {@code [B, T]}; the model returns the logits at each row's last real token,
 * {@code [B, V]}, or at every position, {@code [B, T, V]}, of which each row's last real token (its
 * length − 1) is taken here, before the conversion to fp32. Any other shape, or fewer logits than
 * the tokenizer has ids, stops with a message naming the file ({@link LogitsLayout}). The reduction
 * to the sufficient statistic runs on the model's device, so only {@code B × (K + 2)} numbers per
 * temperature leave it: the log-softmax over the whole vocabulary at each temperature, gathered at
 * the control-token ids, and the best other token.
 */
final class FirstTokenTranslator implements NoBatchifyTranslator<long[][], PromptScore[]> {

  private static final String ROW_LENGTHS = "rowLengths";

  private final ModelSpec spec;
  private final long[] controlIds; // [respond] first, then the refusal tokens
  private final long padId;
  private final double[] temperatures;

  FirstTokenTranslator(ModelSpec spec, List<Double> temperatures) {
    this.spec = spec;
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
    ctx.setAttachment(ROW_LENGTHS, Arrays.stream(rows).mapToInt(r -> r.length).toArray());
    NDManager m = ctx.getNDManager();
    return new NDList(m.create(ids, new Shape(b, t)), m.create(mask, new Shape(b, t)));
  }

  @Override
  public PromptScore[] processOutput(TranslatorContext ctx, NDList output) {
    NDManager m = ctx.getNDManager();
    int[] lengths = (int[]) ctx.getAttachment(ROW_LENGTHS);
    if (output.size() != 1) {
      throw LogitsLayout.notOneOutput(spec, output.size());
    }
    NDArray raw = output.get(0);
    int t = Arrays.stream(lengths).max().orElse(0);
    LogitsLayout layout = LogitsLayout.of(raw.getShape(), lengths.length, t, spec);
    NDArray logits =
        (layout == LogitsLayout.FULL ? LogitsLayout.lastRealTokens(m, raw, lengths) : raw)
            .toType(DataType.FLOAT32, false);
    int b = lengths.length;
    int v = (int) logits.getShape().get(1);
    int k = controlIds.length;

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

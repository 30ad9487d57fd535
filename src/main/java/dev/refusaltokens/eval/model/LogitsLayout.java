package dev.refusaltokens.eval.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * The two output layouts a model file may have, and the check that stops any other with a message
 * naming the file, the shape seen and the fix. Checked once per loaded model by a probe forward
 * pass ({@link ScoringModel}) and on every batch ({@link FirstTokenTranslator}).
 */
enum LogitsLayout {
  /**
   * {@code [B, V]}: the logits at each row's last real token ({@code tools/export_torchscript.py},
   * default).
   */
  LAST,
  /**
   * {@code [B, T, V]}: the logits at every position; the job reads each row's last real token
   * itself.
   */
  FULL;

  static final String FIX =
      "Re-export it with tools/export_torchscript.py (README, \"Exporting a Hugging Face "
          + "model\"): forward(input_ids, attention_mask) must return [B, V], the logits at each row's last real "
          + "token (--output last), or [B, T, V] (--output full)";

  /**
   * The layout of one output for a batch of {@code rows} right-padded rows of {@code tokens}
   * columns.
   *
   * @throws IllegalStateException for any other shape, or fewer logits per row than the tokenizer
   *     has ids
   */
  static LogitsLayout of(Shape shape, int rows, int tokens, ModelSpec spec) {
    LogitsLayout layout;
    if (shape.dimension() == 2 && shape.get(0) == rows) {
      layout = LAST;
    } else if (shape.dimension() == 3 && shape.get(0) == rows && shape.get(1) == tokens) {
      layout = FULL;
    } else {
      throw new IllegalStateException(
          "The TorchScript model "
              + spec.modelPath()
              + " returned logits of shape "
              + shape
              + " for a batch of "
              + rows
              + " rows of "
              + tokens
              + " tokens; expected ["
              + rows
              + ", V] or ["
              + rows
              + ", "
              + tokens
              + ", V]. "
              + FIX
              + ".");
    }
    long v = shape.get(shape.dimension() - 1);
    if (v < spec.vocabSize()) {
      throw new IllegalStateException(
          "The TorchScript model "
              + spec.modelPath()
              + " returns "
              + v
              + " logits per row, fewer than the "
              + spec.vocabSize()
              + " ids of its tokenizer ("
              + ModelSpec.TOKENIZER_FILE
              + ", added tokens included): the model does not belong to this tokenizer, "
              + "or its embeddings were not resized after tokens were added. Put the model's own tokenizer files "
              + "in the folder, or re-export the model that was fine-tuned with this tokenizer with "
              + "tools/export_torchscript.py, which refuses such a model.");
    }
    return layout;
  }

  /** A model that returned several tensors (e.g. logits and a key-value cache). */
  static IllegalStateException notOneOutput(ModelSpec spec, int outputs) {
    return new IllegalStateException(
        "The TorchScript model "
            + spec.modelPath()
            + " returned "
            + outputs
            + " tensors; expected one, the logits. "
            + FIX
            + " (the export calls the model with use_cache=False, "
            + "return_dict=False).");
  }

  /**
   * {@code [B, T, V]} → {@code [B, V]}: row i at position {@code lengths[i] - 1} (right padding).
   */
  static NDArray lastRealTokens(NDManager m, NDArray full, int[] lengths) {
    long[] last = Arrays.stream(lengths).mapToLong(len -> len - 1L).toArray();
    Shape shape = full.getShape();
    NDArray index =
        m.create(last, new Shape(lengths.length, 1, 1))
            .toDevice(full.getDevice(), false)
            .broadcast(shape.get(0), 1, shape.get(2));
    return full.gather(index, 1).squeeze(1);
  }
}

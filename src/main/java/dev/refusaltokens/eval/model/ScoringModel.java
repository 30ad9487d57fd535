package dev.refusaltokens.eval.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.engine.EngineException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import ai.djl.translate.Translator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The TorchScript model of a {@link ModelSpec} on one device. Its {@code forward(input_ids,
 * attention_mask)} takes right-padded int64 {@code [B, T]} tensors and returns float {@code [B,
 * V]}, the logits at each row's last real token, or {@code [B, T, V]}, the logits at every position
 * (any float dtype). Loading runs one probe forward pass that checks the output before any prompt
 * is scored. Shared by the tasks of an executor (see {@link ModelCache}); each task opens its own
 * {@link Predictor}, which is not thread-safe.
 */
public final class ScoringModel implements AutoCloseable {

  private final ModelSpec spec;
  private final Device device;
  private final ZooModel<NDList, NDList> model;

  private ScoringModel(ModelSpec spec, Device device, ZooModel<NDList, NDList> model) {
    this.spec = spec;
    this.device = device;
    this.model = model;
  }

  static ScoringModel load(ModelSpec spec, Device device) {
    Path file = spec.modelPath();
    Criteria<NDList, NDList> criteria =
        Criteria.builder()
            .setTypes(NDList.class, NDList.class)
            .optModelPath(file)
            .optEngine("PyTorch")
            .optDevice(device)
            .optTranslator(new NoopTranslator())
            .build();
    ScoringModel loaded;
    try {
      loaded = new ScoringModel(spec, device, criteria.loadModel());
    } catch (IOException | ModelNotFoundException | MalformedModelException e) {
      throw new IllegalStateException(
          "Cannot load the TorchScript model " + file + " on " + device + ": " + e.getMessage(), e);
    }
    try {
      loaded.probe();
    } catch (RuntimeException e) {
      loaded.close();
      throw e;
    }
    return loaded;
  }

  /**
   * One forward pass of two right-padded rows of token id 0 (an id of any vocabulary: a model with
   * fewer logits than its tokenizer has ids would fail inside the forward pass on real prompts,
   * with libtorch's "index out of range"): the output must be {@code [2, V]} or {@code [2, 2, V]}
   * with V at least the tokenizer's size ({@link LogitsLayout}). Costs one tiny forward pass per
   * loaded model.
   */
  private void probe() {
    try (Predictor<long[][], PromptScore[]> p =
        newPredictor(new FirstTokenTranslator(spec, List.of(1.0)))) {
      p.predict(new long[][] {{0, 0}, {0}});
    } catch (TranslateException | EngineException e) {
      if (e.getCause() instanceof IllegalStateException badOutput) {
        throw badOutput;
      }
      throw new IllegalStateException(
          "The TorchScript model "
              + spec.modelPath()
              + " failed a probe forward "
              + "pass on "
              + device
              + " (2 right-padded rows of token id 0): "
              + e.getMessage()
              + ". A file traced on "
              + "another kind of device (see export.device in "
              + ModelSpec.MANIFEST_FILE
              + ") may fail so. "
              + LogitsLayout.FIX
              + ".",
          e);
    }
  }

  public ModelSpec spec() {
    return spec;
  }

  /**
   * A scorer for one task thread: it owns a {@link Predictor}; close it when the task ends. The
   * control tokens come from the caller's {@code spec}, not from the one that loaded the cached
   * model.
   */
  public FirstTokenScorer newScorer(ModelSpec taskSpec, List<Double> temperatures) {
    return new FirstTokenScorer(this, taskSpec, temperatures);
  }

  <I, O> Predictor<I, O> newPredictor(Translator<I, O> translator) {
    return model.newPredictor(translator);
  }

  @Override
  public void close() {
    model.close();
  }
}

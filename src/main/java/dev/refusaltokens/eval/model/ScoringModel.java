package dev.refusaltokens.eval.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The TorchScript model of a {@link ModelSpec} on one device. Its {@code forward(input_ids,
 * attention_mask)} takes right-padded int64 {@code [B, T]} tensors and returns float {@code [B, V]}: the
 * logits at each row's last real token. Shared by the tasks of an executor (see {@link ModelCache});
 * each task opens its own {@link Predictor}, which is not thread-safe.
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
    Criteria<NDList, NDList> criteria = Criteria.builder()
        .setTypes(NDList.class, NDList.class)
        .optModelPath(file)
        .optEngine("PyTorch")
        .optDevice(device)
        .optTranslator(new NoopTranslator())
        .build();
    try {
      return new ScoringModel(spec, device, criteria.loadModel());
    } catch (IOException | ModelNotFoundException | MalformedModelException e) {
      throw new IllegalStateException("Cannot load the TorchScript model " + file + " on " + device
          + ": " + e.getMessage(), e);
    }
  }

  public ModelSpec spec() {
    return spec;
  }

  /**
   * A scorer for one task thread: it owns a {@link Predictor}; close it when the task ends. The control
   * tokens come from the caller's {@code spec}, not from the one that loaded the cached model.
   */
  public FirstTokenScorer newScorer(ModelSpec taskSpec, java.util.List<Double> temperatures) {
    return new FirstTokenScorer(this, taskSpec, temperatures);
  }

  <I, O> Predictor<I, O> newPredictor(ai.djl.translate.Translator<I, O> translator) {
    return model.newPredictor(translator);
  }

  @Override
  public void close() {
    model.close();
  }
}

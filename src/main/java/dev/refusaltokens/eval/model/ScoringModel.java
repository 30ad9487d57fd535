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
 *
 * <p>The folder's optional KV-cache decode module ({@link ModelSpec.DecodeModule}) is loaded on the
 * same device the first time a generator asks for it (so a run that only scores never holds it),
 * once per loaded model, and checked by a probe call of its own.
 */
public final class ScoringModel implements AutoCloseable {

  private final ModelSpec spec;
  private final Device device;
  private final ZooModel<NDList, NDList> model;
  private ZooModel<NDList, NDList> decode; // loaded by the first cached generator

  private ScoringModel(ModelSpec spec, Device device, ZooModel<NDList, NDList> model) {
    this.spec = spec;
    this.device = device;
    this.model = model;
  }

  static ScoringModel load(ModelSpec spec, Device device) {
    Path file = spec.modelPath();
    ScoringModel loaded;
    try {
      loaded = new ScoringModel(spec, device, loadTorchScript(file, device));
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

  private static ZooModel<NDList, NDList> loadTorchScript(Path file, Device device)
      throws IOException, ModelNotFoundException, MalformedModelException {
    Criteria<NDList, NDList> criteria =
        Criteria.builder()
            .setTypes(NDList.class, NDList.class)
            .optModelPath(file)
            .optEngine("PyTorch")
            .optDevice(device)
            .optTranslator(new NoopTranslator())
            .build();
    return criteria.loadModel();
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

  /**
   * A greedy generator for one task thread: it owns a predictor and a tokenizer; close it when the
   * task ends. It decodes with the folder's KV-cache module when there is one and {@code
   * settings.useCache()} (loading and probing the module on first use), else by re-running this
   * model on the whole sequence each step. The window, pad id and tokenizer come from {@code
   * taskSpec}.
   *
   * @throws IllegalStateException when the decode module does not load or breaks its contract
   */
  public GreedyGenerator newGenerator(ModelSpec taskSpec, GenerationSettings settings) {
    TokenDecoder decoder =
        settings.useCache() && spec.decode() != null
            ? new CachedDecoder(decodeModule(), spec, device)
            : new RecomputeDecoder(this, taskSpec, device);
    return new GreedyGenerator(taskSpec, settings, decoder);
  }

  /** The decode module, loaded and probed once. */
  private synchronized ZooModel<NDList, NDList> decodeModule() {
    if (decode == null) {
      Path file = spec.decodePath();
      ZooModel<NDList, NDList> loaded;
      try {
        loaded = loadTorchScript(file, device);
      } catch (IOException | ModelNotFoundException | MalformedModelException e) {
        throw new IllegalStateException(
            "Cannot load the decode module " + file + " on " + device + ": " + e.getMessage(), e);
      }
      try {
        probeDecode(loaded);
      } catch (RuntimeException e) {
        loaded.close();
        throw e;
      }
      decode = loaded;
    }
    return decode;
  }

  /**
   * A prefill of two right-padded rows of token id 0 ({@code [0, 0]} and {@code [0]}) and one step:
   * the logits must be {@code [2, V]} and the keys and values {@code [L, 2, H, 2, D]}, then {@code
   * [L, 2, H, 3, D]}, with L, H, D as the manifest declares ({@link CachedDecoder#call}).
   */
  private void probeDecode(ZooModel<NDList, NDList> module) {
    try (CachedDecoder probe = new CachedDecoder(module, spec, device);
        TokenDecoder.Batch batch = probe.start(List.of(new long[] {0, 0}, new long[] {0}))) {
      batch.prefill();
      batch.step(new long[] {0, 0}, new boolean[] {true, true});
    }
  }

  <I, O> Predictor<I, O> newPredictor(Translator<I, O> translator) {
    return model.newPredictor(translator);
  }

  @Override
  public synchronized void close() {
    model.close();
    if (decode != null) {
      decode.close();
    }
  }
}

package dev.refusaltokens.eval.model;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import java.util.Arrays;
import java.util.List;

/**
 * Greedy decoding with the model folder's KV-cache decode module ({@link ModelSpec.DecodeModule},
 * whose javadoc has the contract): one right-padded prefill call with an empty past, then one call
 * per step that feeds each row's last new token and the past keys and values, which stay on the
 * device. Rows that have ended stay in the batch (fed the pad id, masked) so the cache keeps its
 * shape; the batch stops when every row has ended. Every call's cache shape is checked against the
 * manifest, so a module that does not keep the contract stops with a message naming the file.
 */
final class CachedDecoder implements TokenDecoder {

  private final ModelSpec spec;
  private final ModelSpec.DecodeModule module;
  private final Device device;
  private final Predictor<NDList, NDList> predictor;

  CachedDecoder(ZooModel<NDList, NDList> decode, ModelSpec spec, Device device) {
    this.spec = spec;
    this.module = spec.decode();
    this.device = device;
    this.predictor = decode.newPredictor(new NoopTranslator());
  }

  @Override
  public String name() {
    return "cached";
  }

  @Override
  public Batch start(List<long[]> prefixes) {
    return new CachedBatch(prefixes);
  }

  @Override
  public void close() {
    predictor.close();
  }

  static DataType cacheType(ModelSpec.DecodeModule module) {
    return switch (module.dtype()) {
      case "float16" -> DataType.FLOAT16;
      case "bfloat16" -> DataType.BFLOAT16;
      default -> DataType.FLOAT32;
    };
  }

  /**
   * One call of the module, its outputs checked: {@code [B, V]} logits (V at least the tokenizer's
   * ids) and keys and values of {@code [L, B, H, pastAndNew, D]}.
   */
  NDList call(NDList inputs, int rows, long pastAndNew) {
    NDList out;
    try {
      out = predictor.predict(inputs);
    } catch (TranslateException | EngineException e) {
      throw new IllegalStateException(
          "The decode module "
              + spec.decodePath()
              + " failed on a batch of "
              + rows
              + " rows with "
              + pastAndNew
              + " cache slots: "
              + e.getMessage()
              + ". "
              + fix(),
          e);
    }
    Shape cache = new Shape(module.layers(), rows, module.kvHeads(), pastAndNew, module.headDim());
    if (out.size() != 3
        || out.get(0).getShape().dimension() != 2
        || out.get(0).getShape().get(0) != rows
        || out.get(0).getShape().get(1) < spec.vocabSize()
        || !out.get(1).getShape().equals(cache)
        || !out.get(2).getShape().equals(cache)) {
      StringBuilder shapes = new StringBuilder();
      for (NDArray a : out) {
        shapes.append(shapes.length() == 0 ? "" : ", ").append(a.getShape());
      }
      throw new IllegalStateException(
          "The decode module "
              + spec.decodePath()
              + " returned ("
              + shapes
              + ") for a batch of "
              + rows
              + " rows with "
              + pastAndNew
              + " cache slots; expected (["
              + rows
              + ", V >= "
              + spec.vocabSize()
              + "], keys "
              + cache
              + ", values "
              + cache
              + ") as the "
              + ModelSpec.MANIFEST_FILE
              + " entry "
              + module
              + " declares. "
              + fix());
    }
    return out;
  }

  private String fix() {
    return "Re-export the model with tools/export_torchscript.py --decode-cache (docs/models.md, "
        + "\"The decode module\"), or fix layers / kv_heads / head_dim of \""
        + ModelSpec.DECODE_KEY
        + "\" in "
        + ModelSpec.MANIFEST_FILE
        + ", or remove that entry to decode without a cache";
  }

  private final class CachedBatch implements Batch {

    private final int b;
    private final int[] lengths; // real tokens per row: the next token's position
    private final NDManager manager = NDManager.newBaseManager(device, "PyTorch");
    private NDManager current; // holds the cache and mask of the last call
    private NDArray mask;
    private NDArray keys;
    private NDArray values;
    private long slots;
    private final NDList prefillInputs;

    CachedBatch(List<long[]> prefixes) {
      b = prefixes.size();
      lengths = prefixes.stream().mapToInt(p -> p.length).toArray();
      current = manager.newSubManager();
      int s = Arrays.stream(lengths).max().orElse(0);
      long[] ids = new long[b * s];
      long[] maskData = new long[b * s];
      long[] positions = new long[b * s];
      long[] last = new long[b];
      Arrays.fill(ids, spec.padId());
      for (int i = 0; i < b; i++) {
        System.arraycopy(prefixes.get(i), 0, ids, i * s, lengths[i]);
        Arrays.fill(maskData, i * s, i * s + lengths[i], 1L);
        for (int j = 0; j < s; j++) {
          positions[i * s + j] = Math.min(j, lengths[i] - 1); // padded slots: masked anyway
        }
        last[i] = lengths[i] - 1;
      }
      Shape bs = new Shape(b, s);
      Shape empty = new Shape(module.layers(), b, module.kvHeads(), 0, module.headDim());
      DataType type = cacheType(module);
      mask = current.create(maskData, bs);
      prefillInputs =
          new NDList(
              current.create(ids, bs),
              mask,
              current.create(positions, bs),
              current.create(last),
              current.zeros(empty, type),
              current.zeros(empty, type));
      slots = s;
    }

    @Override
    public Step prefill() {
      return run(prefillInputs);
    }

    @Override
    public Step step(long[] tokens, boolean[] active) {
      long[] ids = new long[b];
      long[] newMask = new long[b];
      long[] positions = new long[b];
      for (int i = 0; i < b; i++) {
        if (active[i]) {
          ids[i] = tokens[i];
          newMask[i] = 1;
          positions[i] = lengths[i]++;
        } else {
          ids[i] = spec.padId(); // an ended row: a masked slot at position 0, its output ignored
        }
      }
      NDManager next = manager.newSubManager();
      NDArray column = next.create(newMask, new Shape(b, 1));
      NDArray grown = mask.concat(column, 1);
      grown.attach(next);
      slots++;
      NDList in =
          new NDList(
              next.create(ids, new Shape(b, 1)),
              grown,
              next.create(positions, new Shape(b, 1)),
              next.zeros(new Shape(b), DataType.INT64),
              keys,
              values);
      mask = grown;
      Step step = run(in);
      current.close(); // the previous cache, mask and inputs
      current = next;
      return step;
    }

    private Step run(NDList in) {
      NDList out = call(in, b, slots);
      keys = out.get(1);
      values = out.get(2);
      NDArray logits = out.get(0);
      Step step = Step.of(logits);
      logits.close();
      return step;
    }

    @Override
    public void close() {
      manager.close();
    }
  }
}

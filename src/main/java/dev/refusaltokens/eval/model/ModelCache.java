package dev.refusaltokens.eval.model;

import ai.djl.Device;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded model per executor JVM and device, reused by every task (never one per partition): the
 * tasks of a multi-GPU executor that share a GPU share its model, and each GPU gets its own. The
 * key includes the file's size and modification time (and those of the KV-cache decode module,
 * which the loaded model holds once a generator asked for it), so a file replaced at the same path
 * is loaded anew. Models live as long as the executor JVM; its exit releases them (closing them
 * from a shutdown hook could free native memory under a task still running).
 */
public final class ModelCache {

  private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);
  private static final Map<String, ScoringModel> MODELS = new ConcurrentHashMap<>();
  private static final AtomicInteger LOADS = new AtomicInteger();

  static {
    Libtorch.defaultOffline();
  }

  private ModelCache() {}

  public static ScoringModel get(ModelSpec spec, Device device) {
    String key = spec.modelPath() + "@" + device + "#" + fileStamp(spec.modelPath());
    if (spec.decodePath() != null) {
      key += "+" + spec.decodePath() + "#" + fileStamp(spec.decodePath());
    }
    return MODELS.computeIfAbsent(
        key,
        k -> {
          LOADS.incrementAndGet();
          LOG.info("Loading {} on {} (once per executor JVM)", spec.modelPath(), device);
          return ScoringModel.load(spec, device);
        });
  }

  /** How many times this JVM loaded a model: the test that "one model per JVM" holds reads it. */
  public static int loadCount() {
    return LOADS.get();
  }

  private static String fileStamp(Path file) {
    try {
      return Files.size(file) + "/" + Files.getLastModifiedTime(file).toMillis();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the model file " + file, e);
    }
  }
}

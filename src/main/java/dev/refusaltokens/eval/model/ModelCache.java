package dev.refusaltokens.eval.model;

import ai.djl.Device;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded model per executor JVM and device, reused by every task (never one per partition). Models
 * live until the JVM exits; a shutdown hook closes them.
 */
public final class ModelCache {

  private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);
  private static final Map<String, ScoringModel> MODELS = new ConcurrentHashMap<>();
  private static final AtomicInteger LOADS = new AtomicInteger();

  static {
    // Offline unless the user asked otherwise: libtorch comes from the classpath or PYTORCH_LIBRARY_PATH.
    if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    Runtime.getRuntime().addShutdownHook(new Thread(ModelCache::closeAll, "model-cache-close"));
  }

  private ModelCache() {}

  public static ScoringModel get(ModelSpec spec, Device device) {
    String key = spec.modelPath() + "@" + device;
    return MODELS.computeIfAbsent(key, k -> {
      LOADS.incrementAndGet();
      LOG.info("Loading {} on {} (once per executor JVM)", spec.modelPath(), device);
      return ScoringModel.load(spec, device);
    });
  }

  /** How many times this JVM loaded a model: the test that "one model per JVM" holds reads it. */
  public static int loadCount() {
    return LOADS.get();
  }

  static void closeAll() {
    MODELS.values().forEach(ScoringModel::close);
    MODELS.clear();
  }
}

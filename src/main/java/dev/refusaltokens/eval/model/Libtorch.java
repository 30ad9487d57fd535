package dev.refusaltokens.eval.model;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settings of libtorch that hold for the whole JVM and must be made before the PyTorch engine
 * starts: offline by default, and the intra-op thread count.
 *
 * <p>Threads: Spark runs {@code spark.executor.cores / spark.task.cpus} tasks at once in an
 * executor, each owning {@code spark.task.cpus} cores, so each task's forward passes get that many
 * intra-op threads and tasks × threads stays within the executor's cores. libtorch's own default
 * would give every task all the node's cores. A value set explicitly with {@code
 * -Dai.djl.pytorch.num_threads} (the jobs/*.sh scripts set it for local runs; on a cluster, in
 * {@code spark.executor.extraJavaOptions}) is kept. Inter-op threads ({@code
 * ai.djl.pytorch.num_interop_threads}) are left to libtorch or the user: traced models do not fork.
 */
public final class Libtorch {

  private static final Logger LOG = LoggerFactory.getLogger(Libtorch.class);

  /** DJL's system property for libtorch's intra-op threads, read once when the engine starts. */
  public static final String NUM_THREADS = "ai.djl.pytorch.num_threads";

  private static int threads; // 0 until configureThreads ran; guarded by the class lock

  private Libtorch() {}

  /**
   * Offline unless the user asked otherwise: libtorch comes from the classpath or
   * PYTORCH_LIBRARY_PATH.
   */
  static void defaultOffline() {
    if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
  }

  /**
   * Sets libtorch's intra-op threads for this JVM, once, and starts the engine: {@code taskCpus}
   * (the task's {@code spark.task.cpus}) unless {@value #NUM_THREADS} was set explicitly. Later
   * calls return the first value. Call it before anything else uses the engine.
   *
   * @return the intra-op thread count libtorch now uses
   */
  public static synchronized int configureThreads(int taskCpus) {
    if (threads > 0) {
      return threads;
    }
    String explicit = System.getProperty(NUM_THREADS);
    int wanted = chooseThreads(explicit, taskCpus);
    if (explicit == null) {
      System.setProperty(NUM_THREADS, Integer.toString(wanted));
    }
    defaultOffline();
    Engine.getEngine("PyTorch"); // reads NUM_THREADS if this is the engine's first use in the JVM
    if (JniUtils.getNumThreads() != wanted) {
      JniUtils.setNumThreads(wanted); // the engine had started before this call
    }
    threads = JniUtils.getNumThreads();
    LOG.info(
        "libtorch intra-op threads in this JVM: {} ({})",
        threads,
        explicit == null ? "spark.task.cpus = " + taskCpus : NUM_THREADS + " set explicitly");
    return threads;
  }

  /**
   * The intra-op thread count: the explicit setting (null: none) if there is one, else the task's
   * cores.
   *
   * @throws IllegalArgumentException when the explicit setting is not a positive integer
   */
  static int chooseThreads(String explicit, int taskCpus) {
    if (explicit == null) {
      return Math.max(1, taskCpus);
    }
    try {
      int n = Integer.parseInt(explicit.trim());
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        NUM_THREADS
            + "='"
            + explicit
            + "' must be a positive integer (libtorch's"
            + " intra-op threads per JVM); leave it unset to use spark.task.cpus");
  }
}

package dev.refusaltokens.eval.score;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device a Spark task scores on: the GPU Spark's resource scheduling assigned to it ({@code
 * spark.task.resource.gpu.amount}), or the CPU when none was assigned. The choice is {@link
 * #resolve}, a function of the assigned addresses and of how many GPUs libtorch sees, so that it is
 * tested with fake addresses on machines without a GPU (GpuExecutorsTest).
 */
public final class TaskDevice {

  private static final Logger LOG = LoggerFactory.getLogger(TaskDevice.class);

  /** Spark's resource name for GPUs, as in {@code spark.task.resource.gpu.amount}. */
  static final String GPU = "gpu";

  private static final String SEE_README = "(README, \"Running on a GPU cluster\")";
  private static final AtomicBoolean CPU_LOGGED = new AtomicBoolean();

  private TaskDevice() {}

  /**
   * The device of the running task. Starts the PyTorch engine (to count its GPUs): configure
   * libtorch's threads before ({@link dev.refusaltokens.eval.model.Libtorch#configureThreads}).
   */
  public static Device current() {
    int visible = Engine.getEngine("PyTorch").getGpuCount();
    Device device = resolve(assignedGpus(TaskContext.get()), visible);
    if (!device.isGpu() && CPU_LOGGED.compareAndSet(false, true)) {
      LOG.info(
          "Scoring on the CPU in this executor: {}",
          cpuReason(visible)); // once per JVM, not per task
    }
    return device;
  }

  /** The GPU addresses Spark assigned to the task; empty outside a task or when it got no GPU. */
  static List<String> assignedGpus(TaskContext ctx) {
    ResourceInformation gpu = ctx == null ? null : ctx.resourcesJMap().get(GPU);
    return gpu == null ? List.of() : List.of(gpu.addresses());
  }

  /**
   * The device for a task that Spark assigned {@code assigned} GPU addresses (none: the CPU), on an
   * executor whose libtorch sees {@code visibleGpus} GPUs, numbered {@code 0..visibleGpus-1}.
   *
   * @throws IllegalStateException when the assignment cannot be honoured; the message says what to
   *     fix
   */
  static Device resolve(List<String> assigned, int visibleGpus) {
    if (assigned.isEmpty()) {
      return Device.cpu();
    }
    if (assigned.size() > 1) {
      throw new IllegalStateException(
          "Spark assigned "
              + assigned.size()
              + " GPUs "
              + assigned
              + " to this task, but a task scores on one GPU: set spark.task.resource.gpu.amount=1 (one task per"
              + " GPU) or a fraction such as 0.5 (tasks share a GPU and its model) "
              + SEE_README);
    }
    String address = assigned.get(0).trim();
    if (visibleGpus == 0) {
      throw new IllegalStateException(
          "Spark assigned GPU "
              + address
              + " to this task but libtorch sees no"
              + " GPU: give the executors a CUDA build of libtorch, with spark.executorEnv.PYTORCH_FLAVOR=cu128 and"
              + " spark.executorEnv.DJL_OFFLINE=false (DJL downloads it), or spark.executorEnv.PYTORCH_LIBRARY_PATH"
              + " pointing at an installed one; the cluster jar carries none "
              + SEE_README);
    }
    int index = gpuIndex(address);
    if (index < 0) {
      throw new IllegalStateException(
          "Spark assigned GPU address '"
              + address
              + "' to this task, which is not"
              + " a device index: libtorch numbers the GPUs it sees 0.."
              + (visibleGpus - 1)
              + ", and the GPU"
              + " discovery script must print those indices (as jobs/gpu-discovery.sh does), not UUIDs or bus ids "
              + SEE_README);
    }
    if (index >= visibleGpus) {
      throw new IllegalStateException(
          "Spark assigned GPU "
              + index
              + " to this task but libtorch sees only "
              + visibleGpus
              + " GPU(s), numbered 0.."
              + (visibleGpus - 1)
              + ": the discovery script reports GPUs"
              + " of the node that this executor does not see. When CUDA_VISIBLE_DEVICES (or the container"
              + " runtime) limits an executor to some GPUs, CUDA renumbers them from 0; the discovery script must"
              + " print the indices as the executor sees them (run it in the executor's environment, as"
              + " spark.executor.resource.gpu.discoveryScript does) "
              + SEE_README);
    }
    return Device.gpu(index);
  }

  /** Why a task that got no GPU scores on the CPU: the one log line of an executor. */
  static String cpuReason(int visibleGpus) {
    if (visibleGpus == 0) {
      return "Spark assigned no GPU to its tasks (spark.task.resource.gpu.amount is not set) and libtorch"
          + " sees none";
    }
    return "Spark assigned no GPU to its tasks although libtorch sees "
        + visibleGpus
        + ": set"
        + " spark.executor.resource.gpu.amount and spark.task.resource.gpu.amount "
        + SEE_README;
  }

  /** The address as a device index, or -1 when it is not a non-negative decimal integer. */
  private static int gpuIndex(String address) {
    if (address.isEmpty()
        || address.length() > 9
        || !address.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return -1;
    }
    return Integer.parseInt(address);
  }
}

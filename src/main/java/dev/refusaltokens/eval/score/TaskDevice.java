package dev.refusaltokens.eval.score;

import ai.djl.Device;
import ai.djl.engine.Engine;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device a Spark task scores on: the GPU Spark's resource scheduling assigned to it
 * ({@code spark.task.resource.gpu.amount}), or the CPU when none was assigned.
 */
final class TaskDevice {

  private static final Logger LOG = LoggerFactory.getLogger(TaskDevice.class);

  private TaskDevice() {}

  static Device current() {
    TaskContext ctx = TaskContext.get();
    ResourceInformation gpu = ctx == null ? null : ctx.resourcesJMap().get("gpu");
    if (gpu == null || gpu.addresses().length == 0) {
      LOG.info("No GPU assigned to this task: scoring on the CPU");
      return Device.cpu();
    }
    int id = Integer.parseInt(gpu.addresses()[0].trim());
    int visible = Engine.getEngine("PyTorch").getGpuCount();
    if (visible == 0) {
      throw new IllegalStateException("Spark assigned GPU " + id + " to this task but libtorch sees no GPU: "
          + "run with a CUDA build of libtorch (PYTORCH_FLAVOR / PYTORCH_LIBRARY_PATH, see README)");
    }
    return Device.gpu(id);
  }
}

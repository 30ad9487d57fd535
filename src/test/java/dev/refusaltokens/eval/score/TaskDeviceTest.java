package dev.refusaltokens.eval.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The choice of a task's device from Spark's GPU addresses and libtorch's GPU count (no Spark, no
 * GPU).
 */
class TaskDeviceTest {

  @Test
  void aTaskWithoutGpuScoresOnTheCpu() {
    assertThat(TaskDevice.resolve(List.of(), 0)).isEqualTo(Device.cpu());
    assertThat(TaskDevice.resolve(List.of(), 4)).isEqualTo(Device.cpu());
    assertThat(TaskDevice.assignedGpus(null)).isEmpty();
  }

  @Test
  void theAssignedAddressIsTheDeviceIndex() {
    assertThat(TaskDevice.resolve(List.of("0"), 1)).isEqualTo(Device.gpu(0));
    assertThat(TaskDevice.resolve(List.of(" 3 "), 4)).isEqualTo(Device.gpu(3));
  }

  @Test
  void aGpuWithoutCudaLibtorchNamesTheFix() {
    assertThatThrownBy(() -> TaskDevice.resolve(List.of("0"), 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("libtorch sees no GPU")
        .hasMessageContaining("PYTORCH_FLAVOR")
        .hasMessageContaining("PYTORCH_LIBRARY_PATH")
        .hasMessageContaining("README");
  }

  @Test
  void anAddressBeyondTheVisibleGpusPointsAtRenumbering() {
    assertThatThrownBy(() -> TaskDevice.resolve(List.of("2"), 2))
        .hasMessageContaining("GPU 2")
        .hasMessageContaining("sees only 2 GPU(s), numbered 0..1")
        .hasMessageContaining("CUDA_VISIBLE_DEVICES");
  }

  @Test
  void anAddressThatIsNotAnIndexIsRejected() {
    for (String address : List.of("GPU-8f3a2c1e", "-1", "0x1", "", "99999999999")) {
      assertThatThrownBy(() -> TaskDevice.resolve(List.of(address), 2))
          .as(address)
          .hasMessageContaining("'" + address + "'")
          .hasMessageContaining("not a device index");
    }
  }

  @Test
  void twoGpusForOneTaskAreRefused() {
    assertThatThrownBy(() -> TaskDevice.resolve(List.of("0", "1"), 2))
        .hasMessageContaining("assigned 2 GPUs [0, 1]")
        .hasMessageContaining("spark.task.resource.gpu.amount=1");
  }

  @Test
  void theCpuReasonSaysWhetherGpusAreLeftUnused() {
    assertThat(TaskDevice.cpuReason(0)).contains("no GPU").contains("libtorch sees none");
    assertThat(TaskDevice.cpuReason(2))
        .contains("libtorch sees 2")
        .contains("spark.task.resource.gpu.amount");
  }
}

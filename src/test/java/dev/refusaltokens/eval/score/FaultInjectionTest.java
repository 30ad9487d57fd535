package dev.refusaltokens.eval.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FaultInjectionTest {

  @Test
  void theTaskHookFailsOnceTheTaskThatCreatesTheMarker(@TempDir Path dir) {
    Path marker = dir.resolve("fired");
    assertThatCode(() -> FaultInjection.beforeLaterWindow(20))
        .doesNotThrowAnyException(); // unset: off
    System.setProperty(FaultInjection.FAIL_ONE_TASK, marker.toString());
    try {
      assertThatThrownBy(() -> FaultInjection.beforeLaterWindow(20))
          .hasMessage(
              "fault injection (refusal_eval.fault.fail_one_task): task fails after 20 prompts");
      assertThat(Files.exists(marker)).isTrue();
      assertThatCode(() -> FaultInjection.beforeLaterWindow(40))
          .as("the retry")
          .doesNotThrowAnyException();
    } finally {
      System.clearProperty(FaultInjection.FAIL_ONE_TASK);
    }
  }

  @Test
  void theStageHookFailsOnceTheChunksAreCommitted() {
    new FaultInjection.StageFault(-1).afterCommit(5); // off
    FaultInjection.StageFault afterOne = new FaultInjection.StageFault(1);
    assertThatThrownBy(() -> afterOne.afterCommit(1))
        .hasMessage(
            "fault injection (refusal_eval.fault.fail_after_chunks=1): the stage stops after 1 committed chunk(s)");
    System.setProperty(FaultInjection.FAIL_AFTER_CHUNKS, "2");
    try {
      assertThat(FaultInjection.StageFault.fromProperty().failAfterChunks()).isEqualTo(2);
    } finally {
      System.clearProperty(FaultInjection.FAIL_AFTER_CHUNKS);
    }
    assertThat(FaultInjection.StageFault.fromProperty().failAfterChunks()).isEqualTo(-1);
  }
}

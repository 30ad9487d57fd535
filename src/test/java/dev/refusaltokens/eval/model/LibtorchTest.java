package dev.refusaltokens.eval.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * The intra-op thread choice. That executors apply it to libtorch is checked in real executor JVMs
 * by GpuExecutorsTest (this JVM has an explicit setting from the build).
 */
class LibtorchTest {

  @Test
  void eachTaskGetsItsCoresUnlessTheUserChose() {
    assertThat(Libtorch.chooseThreads(null, 4)).isEqualTo(4);
    assertThat(Libtorch.chooseThreads(null, 1)).isEqualTo(1);
    assertThat(Libtorch.chooseThreads(null, 0)).isEqualTo(1);
    assertThat(Libtorch.chooseThreads("2", 8)).isEqualTo(2);
    assertThat(Libtorch.chooseThreads(" 3 ", 1)).isEqualTo(3);
  }

  @Test
  void aBadExplicitSettingNamesTheProperty() {
    for (String bad : new String[] {"0", "-2", "four", ""}) {
      assertThatThrownBy(() -> Libtorch.chooseThreads(bad, 2))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(Libtorch.NUM_THREADS + "='" + bad + "'");
    }
  }
}

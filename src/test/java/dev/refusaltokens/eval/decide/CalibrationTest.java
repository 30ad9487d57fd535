package dev.refusaltokens.eval.decide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class CalibrationTest {

  @Test
  void binsCoverTheUnitIntervalWithOneAtTheTop() {
    assertThat(Calibration.bin(0.0)).isZero();
    assertThat(Calibration.bin(0.0999)).isZero();
    assertThat(Calibration.bin(0.1)).isEqualTo(1);
    assertThat(Calibration.bin(1.0)).isEqualTo(9);
  }

  @Test
  void brierAndEceOnHandComputedPrompts() {
    // prompts (p, y): (0.15, 0), (0.15, 1) in bin 1; (0.85, 1), (0.85, 1), (0.85, 0) in bin 8
    Calibration.Bin low = new Calibration.Bin(2, 0.30, 1, 0.15 * 0.15 + 0.85 * 0.85);
    Calibration.Bin high = new Calibration.Bin(3, 2.55, 2, 2 * 0.15 * 0.15 + 0.85 * 0.85);
    // Brier = (0.0225 + 0.7225 + 0.0225 + 0.0225 + 0.7225) / 5 = 0.3025
    assertThat(Calibration.brier(List.of(low, high))).isCloseTo(0.3025, within(1e-12));
    // ECE = 2/5 · |0.15 − 0.5| + 3/5 · |0.85 − 2/3| = 0.14 + 0.11 = 0.25
    assertThat(Calibration.ece(List.of(low, high))).isCloseTo(0.25, within(1e-12));
  }

  @Test
  void refusalProbabilitySumsTheRefusalTokens() {
    FirstTokenStats s =
        new FirstTokenStats(
            Math.log(0.5), new double[] {Math.log(0.2), Math.log(0.1)}, Math.log(0.05));
    assertThat(Calibration.refusalProbability(s)).isCloseTo(0.3, within(1e-12));
  }
}

package dev.refusaltokens.eval.decide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A setting read back from a table's token map: token order, absent tokens, unknown tokens. */
class SettingTest {

  private static final List<String> TOKENS = List.of("[a]", "[b]", "[c]");

  @Test
  void aMapBecomesTheSettingInTokenOrderWithNaNForAbsentTokens() {
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("[c]", -2.0); // map order differs from token order
    values.put("[a]", 0.0);
    Setting s = Setting.of(values, TOKENS);
    assertThat(s.threshold(0)).isEqualTo(0.0);
    assertThat(s.threshold(1)).isNaN();
    assertThat(s.threshold(2)).isEqualTo(-2.0);
    assertThat(s.bias(1)).as("no bias on an absent token").isEqualTo(0.0);
    assertThat(Setting.of(Map.of(), TOKENS)).isEqualTo(Setting.none(3));
  }

  @Test
  void aTokenThatIsNotARefusalTokenIsRefused() {
    assertThatThrownBy(() -> Setting.of(Map.of("[z]", 0.5), TOKENS))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[z]")
        .hasMessageContaining("[a], [b], [c]");
  }
}

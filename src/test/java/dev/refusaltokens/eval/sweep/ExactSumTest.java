package dev.refusaltokens.eval.sweep;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.testing.SparkTestSession;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * {@link ExactSum} gives Spark's own {@code sum(cast(x as decimal(38, 18)))}, and that cast back to
 * double, to the last bit, and rounds each value as Spark's cast does.
 */
class ExactSumTest {

  private static final DecimalType DECIMAL = DataTypes.createDecimalType(38, 18);
  private static final int GROUPS = 13;

  @Test
  void eachValueIsRoundedAsSparksCast() {
    List<Double> values = values(new Random(7), 4_000);
    List<Row> cast = frame(values).select(col("x"), col("x").cast(DECIMAL).as("d")).collectAsList();
    assertThat(cast).hasSize(values.size());
    for (Row r : cast) {
      double x = r.getDouble(0);
      BigDecimal spark = r.getDecimal(1);
      assertThat(BigDecimal.valueOf(ExactSum.unscaled(x), ExactSum.SCALE))
          .as("cast of %s (%s)", x, Double.toHexString(x))
          .isEqualByComparingTo(spark);
    }
  }

  @Test
  void sumsAsSparkSumsTheCastValues() {
    List<Double> values = values(new Random(11), 20_000);
    List<Row> spark =
        frame(values)
            .groupBy("g")
            .agg(
                sum(col("x").cast(DECIMAL)).as("d"),
                sum(col("x").cast(DECIMAL)).cast(DataTypes.DoubleType).as("v"))
            .orderBy("g")
            .collectAsList();
    assertThat(spark).hasSize(GROUPS);
    ExactSum[] sums = new ExactSum[GROUPS];
    for (int g = 0; g < GROUPS; g++) {
      sums[g] = new ExactSum();
    }
    for (int i = 0; i < values.size(); i++) {
      sums[i % GROUPS].add(values.get(i));
    }
    int differsFromPlainSum = 0;
    for (Row r : spark) {
      int g = r.getInt(0);
      assertThat(sums[g].toBigDecimal()).isEqualByComparingTo(r.getDecimal(1));
      assertThat(Double.doubleToRawLongBits(sums[g].toDouble()))
          .as("group %d: %s vs Spark's %s", g, sums[g].toDouble(), r.getDouble(2))
          .isEqualTo(Double.doubleToRawLongBits(r.getDouble(2)));
      double plain = 0;
      for (int i = g; i < values.size(); i += GROUPS) {
        plain += values.get(i);
      }
      differsFromPlainSum += plain == r.getDouble(2) ? 0 : 1;
    }
    assertThat(differsFromPlainSum)
        .as("the data tells a decimal sum from a double sum")
        .isPositive();
  }

  @Test
  void theSumDoesNotDependOnTheOrder() {
    List<Double> values = values(new Random(3), 5_000);
    ExactSum forward = new ExactSum();
    values.forEach(forward::add);
    ExactSum backward = new ExactSum();
    for (int i = values.size() - 1; i >= 0; i--) {
      backward.add(values.get(i));
    }
    assertThat(backward.toBigDecimal()).isEqualTo(forward.toBigDecimal());
    assertThat(backward.toDouble()).isEqualTo(forward.toDouble());
  }

  @Test
  void sumsPastALongOfUnscaledValues() {
    ExactSum s = new ExactSum();
    for (int i = 0; i < 25; i++) {
      s.add(1.0); // 25 · 10^18 unscaled: more than a long holds
    }
    s.add(0.1);
    s.add(0.2);
    s.add(0.1 + 0.2); // 0.30000000000000004 → 0.300000000000000040
    assertThat(s.toBigDecimal()).isEqualTo(new BigDecimal("25.600000000000000040"));
    assertThat(s.toDouble()).isEqualTo(25.6);
  }

  @Test
  void roundsHalfUpTo18Decimals() {
    assertThat(ExactSum.unscaled(0.0)).isZero();
    assertThat(ExactSum.unscaled(-0.0)).isZero();
    assertThat(ExactSum.unscaled(1.0)).isEqualTo(1_000_000_000_000_000_000L);
    assertThat(ExactSum.unscaled(Double.MIN_VALUE)).isZero();
    assertThat(ExactSum.unscaled(5e-19)).isEqualTo(1); // "5.0E-19": the half rounds up
    assertThat(ExactSum.unscaled(4.9e-19)).isZero();
    assertThat(ExactSum.unscaled(1.5e-18)).isEqualTo(2);
    assertThat(ExactSum.unscaled(0.1)).isEqualTo(100_000_000_000_000_000L);
  }

  @Test
  void rejectsValuesOutsideZeroToOne() {
    for (double bad :
        new double[] {Double.NaN, -1e-300, 1.0000000000000002, Double.POSITIVE_INFINITY, -1}) {
      assertThatThrownBy(() -> ExactSum.unscaled(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("[0, 1]");
    }
    ExactSum s = new ExactSum();
    assertThatThrownBy(() -> s.addUnscaled(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> s.addUnscaled(1_000_000_000_000_000_001L))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * Uniform, tiny, near-one and round values, values on an 18-decimal rounding edge, and the
   * products and sums the calibration sums see ((p − y)², 0.1 + 0.2).
   */
  private static List<Double> values(Random random, int n) {
    List<Double> values = new ArrayList<>(n);
    double[] fixed = {
      0.0,
      1.0,
      0.1 + 0.2,
      0.1,
      0.5,
      Double.MIN_VALUE,
      1e-300,
      5e-19,
      4.9e-19,
      1.5e-18,
      2.5e-18,
      0.9999999999999999,
      1e-17,
      0.125,
      1.0 / 3
    };
    for (double v : fixed) {
      values.add(v);
    }
    while (values.size() < n) {
      double u = random.nextDouble();
      values.add(
          switch (values.size() % 6) {
            case 0 -> u;
            case 1 -> u * u;
            case 2 -> Math.exp(-40 * u); // down to 4e-18: the 18th decimal matters
            case 3 -> 1 - Math.exp(-40 * u);
            case 4 -> (random.nextInt(1_000_000) + 0.5) * 1e-18; // a rounding edge
            default -> Math.min(1.0, Math.exp(Math.log(u)) + Math.exp(random.nextGaussian() - 9));
          });
    }
    return values;
  }

  private static Dataset<Row> frame(List<Double> values) {
    SparkSession spark = SparkTestSession.get();
    StructType schema =
        DataTypes.createStructType(
            List.of(
                DataTypes.createStructField("g", DataTypes.IntegerType, false),
                DataTypes.createStructField("x", DataTypes.DoubleType, false)));
    List<Row> rows = new ArrayList<>(values.size());
    for (int i = 0; i < values.size(); i++) {
      rows.add(RowFactory.create(i % GROUPS, values.get(i)));
    }
    return spark.createDataFrame(rows, schema).repartition(3);
  }
}

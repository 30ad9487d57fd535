package dev.refusaltokens.eval.job;

import static dev.refusaltokens.eval.testing.TestData.duckdb;
import static dev.refusaltokens.eval.testing.TestData.duckdbLong;
import static dev.refusaltokens.eval.testing.TestData.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.testing.CommandRun;
import dev.refusaltokens.eval.testing.TestData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line end to end: score, then sweep as a separate command, as a scheduler would run
 * them.
 */
class CliRunTest {

  @TempDir Path dir;

  @Test
  void scoreThenSweepAsSeparateCommands() {
    Path original = TestData.sample(TestData.ORIGINAL, 25, dir, "o.jsonl");
    Path contrast = TestData.sample(TestData.CONTRAST, 20, dir, "c.jsonl");
    Path output = dir.resolve("w");
    String benchmarks = "benchmarks=" + TestData.benchmarks("o", original, "c", contrast);
    String[] common = {
      "--config",
      "conf/evaluate.yaml",
      "--output",
      output.toString(),
      "--run-id",
      "cli",
      "--set",
      benchmarks,
      "--set",
      "spark.master=local[2]",
      "--set",
      "spark.conf={spark.ui.enabled: 'false'}"
    };

    assertThat(Main.execute(concat(new String[] {"score"}, common))).isEqualTo(Main.EXIT_OK);
    assertThat(duckdb("SELECT status FROM " + table(output, "runs")).get(0)[0]).isEqualTo("scored");

    // the sweep needs neither the model folder nor the prompt files
    CommandRun sweep =
        CommandRun.of(concat(new String[] {"sweep", "--model", "models/absent"}, common));
    assertThat(sweep.code()).isEqualTo(Main.EXIT_OK);
    assertThat(sweep.out())
        .contains("Run cli succeeded: 60 rows in, 60 scored, 0 rejected")
        .contains("refuse / false")
        .contains("Tables under " + output + "/ (partition run_id=cli)");
    assertThat(duckdb("SELECT status, rows_in FROM " + table(output, "runs")).get(0))
        .containsExactly("succeeded", 60L);
    assertThat(duckdbLong("SELECT count(*) FROM " + table(output, "rates"))).isPositive();
  }

  @Test
  void sweepOfAnUnknownRunFails() {
    Path output = dir.resolve("empty");
    int code =
        Main.execute(
            "sweep",
            "--output",
            output.toString(),
            "--run-id",
            "nope",
            "--set",
            "spark.master=local[1]",
            "--set",
            "spark.conf={spark.ui.enabled: 'false'}");
    assertThat(code).isEqualTo(Main.EXIT_FAILED);
  }

  private static String[] concat(String[] a, String[] b) {
    String[] r = new String[a.length + b.length];
    System.arraycopy(a, 0, r, 0, a.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}

package dev.refusaltokens.eval.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code sql --format}: picocli rejects a value other than table or csv before any Spark work. */
class SqlFormatTest {

  @Test
  void anUnknownFormatIsAUsageErrorNamingTheChoices() {
    PrintStream oldErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = Main.execute("sql", "--format", "xml", "SELECT 1");
    } finally {
      System.setErr(oldErr);
    }
    assertThat(code).isEqualTo(Main.EXIT_CONFIG);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--format", "table", "csv", "'xml'");
  }

  @Test
  void theChoicesAreSpelledAsOnTheCommandLine() {
    assertThat(Cli.Sql.Format.TABLE).hasToString("table");
    assertThat(Cli.Sql.Format.CSV).hasToString("csv");
  }
}

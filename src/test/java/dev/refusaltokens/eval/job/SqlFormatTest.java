package dev.refusaltokens.eval.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.testing.CommandRun;
import org.junit.jupiter.api.Test;

/** {@code sql --format}: picocli rejects a value other than table or csv before any Spark work. */
class SqlFormatTest {

  @Test
  void anUnknownFormatIsAUsageErrorNamingTheChoices() {
    CommandRun run = CommandRun.of("sql", "--format", "xml", "SELECT 1");
    assertThat(run.code()).isEqualTo(Main.EXIT_CONFIG);
    assertThat(run.err()).contains("--format", "table", "csv", "'xml'");
  }

  @Test
  void theChoicesAreSpelledAsOnTheCommandLine() {
    assertThat(Cli.Sql.Format.TABLE).hasToString("table");
    assertThat(Cli.Sql.Format.CSV).hasToString("csv");
  }
}

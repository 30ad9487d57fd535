package dev.refusaltokens.eval.job;

import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.deploy.ExportException;
import dev.refusaltokens.eval.regress.NotComparableException;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * Entry point: {@code refusal-eval run|score|sweep|regress|sql|benchmark|synth [options]}. The only
 * place that turns exceptions into exit codes: 0 success, 1 the run failed, 2 bad configuration or
 * usage (nothing was run); {@code regress} adds 3 (a regression) and 4 (the runs could not be
 * compared).
 */
public final class Main {

  public static final int EXIT_OK = 0;
  public static final int EXIT_FAILED = 1;
  public static final int EXIT_CONFIG = 2;
  public static final int EXIT_REGRESSION = 3;
  public static final int EXIT_NOT_COMPARABLE = 4;

  private Main() {}

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  public static int execute(String... args) {
    CommandLine cli = new CommandLine(new Cli());
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          PrintWriter err = cmd.getErr();
          if (e instanceof ConfigException) {
            err.println("Configuration error: " + e.getMessage());
            return EXIT_CONFIG;
          }
          if (e instanceof ExportException) {
            err.println("Cannot export: " + e.getMessage());
            return EXIT_CONFIG;
          }
          if (e instanceof NotComparableException) {
            err.println("Cannot compare: " + e.getMessage());
            return EXIT_NOT_COMPARABLE;
          }
          err.println("Run failed: " + e);
          e.printStackTrace(err);
          return EXIT_FAILED;
        });
    cli.setExitCodeExceptionMapper(e -> EXIT_CONFIG);
    return cli.execute(args);
  }
}

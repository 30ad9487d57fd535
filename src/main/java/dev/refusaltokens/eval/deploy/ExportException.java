package dev.refusaltokens.eval.deploy;

/**
 * Bad usage of {@code export-operating-point}, found before anything is written: an unknown run,
 * operating-point name, rule or temperature, an infeasible point, a model folder that is not the
 * run's, a logit bias a server does not accept. The message names the value and the fix; {@code
 * Main} turns it into exit code 2.
 */
public class ExportException extends RuntimeException {

  public ExportException(String message) {
    super(message);
  }
}

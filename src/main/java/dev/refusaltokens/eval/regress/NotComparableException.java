package dev.refusaltokens.eval.regress;

/**
 * The two runs cannot be compared (a run is missing or unfinished, or they measured different
 * things).
 */
public final class NotComparableException extends RuntimeException {
  public NotComparableException(String message) {
    super(message);
  }
}

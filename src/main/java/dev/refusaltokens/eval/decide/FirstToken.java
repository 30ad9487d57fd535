package dev.refusaltokens.eval.decide;

/**
 * The first response token a rule emits: {@code [respond]}, one of the refusal tokens (by index in
 * the configured order), or some other vocabulary token (the greedy choice when the model starts
 * its answer without a control token). Only a refusal token counts as a refusal.
 */
public record FirstToken(Kind kind, int refusalToken) {

  public enum Kind {
    RESPOND,
    REFUSAL,
    OTHER
  }

  private static final FirstToken RESPOND = new FirstToken(Kind.RESPOND, -1);
  private static final FirstToken OTHER = new FirstToken(Kind.OTHER, -1);

  public FirstToken {
    if ((kind == Kind.REFUSAL) != (refusalToken >= 0)) {
      throw new IllegalArgumentException("a refusal token index goes with kind REFUSAL only");
    }
  }

  public static FirstToken respond() {
    return RESPOND;
  }

  public static FirstToken other() {
    return OTHER;
  }

  public static FirstToken refusal(int token) {
    return new FirstToken(Kind.REFUSAL, token);
  }

  public boolean isRefusal() {
    return kind == Kind.REFUSAL;
  }
}

package dev.refusaltokens.eval.config;

/**
 * {@code scoring.special_tokens_in_prompt}: what the score stage does with a prompt whose own text
 * the tokenizer turns into special tokens (a literal {@code [respond]} or {@code <|im_start|>} in
 * the prompt becomes that token's id, as in Hugging Face by default).
 */
public enum SpecialTokensInPrompt {
  /** Scored as Hugging Face tokenizes it; {@code scores.prompt_special_tokens} lists the tokens. */
  KEEP("keep"),
  /** Not scored: a {@code special_tokens_in_prompt} reject naming the tokens. */
  REJECT("reject");

  private final String id;

  SpecialTokensInPrompt(String id) {
    this.id = id;
  }

  /** As written in the config. */
  public String id() {
    return id;
  }

  /** The id, so text that prints the choice reads as the config does. */
  @Override
  public String toString() {
    return id;
  }

  static SpecialTokensInPrompt parse(String id) {
    for (SpecialTokensInPrompt s : values()) {
      if (s.id.equals(id)) {
        return s;
      }
    }
    throw ConfigException.badValue(
        ScoringConfig.SPECIAL_TOKENS_IN_PROMPT,
        id,
        "is not a way to treat special tokens in prompt text",
        "use keep (default: score the prompt as Hugging Face tokenizes it) or reject (make it a "
            + "special_tokens_in_prompt reject)");
  }
}

package dev.refusaltokens.eval.bench;

import java.util.Locale;

/** Why an input row was not scored: the machine-readable {@code rejects.reason} values. */
public enum RejectReason {
  /** The line is not a JSON object. */
  MALFORMED_JSON,
  /**
   * The CSV record cannot be parsed or has another number of fields than the header; or its quoted
   * field is never closed (then only its first line, and reading goes on with the next).
   */
  MALFORMED_CSV,
  /** The line has bytes that are not valid UTF-8 (the reader decoded them as U+FFFD). */
  INVALID_UTF8,
  /** The label column is missing, or holds a value not in the benchmark's label mapping. */
  UNKNOWN_LABEL,
  /** No {@code id} field, an empty one, or one that is an array, object or boolean. */
  MISSING_ID,
  /** No {@code prompt} field, or one that is not a string. */
  MISSING_PROMPT,
  /** The prompt is empty or only whitespace (Python's {@code str.isspace()}). */
  EMPTY_PROMPT,
  /** An earlier line of the same benchmark has the same id; the first occurrence is scored. */
  DUPLICATE_ID,
  /** The rendered prompt has more tokens than the model's window. */
  TOO_LONG,
  /** The model returned a NaN or +inf log-probability for the prompt (e.g. an fp16 overflow). */
  NON_FINITE_SCORE,
  /**
   * The chat template failed on this prompt (its {@code raise_exception(...)} for this content, a
   * type error, a bound); the detail is the template's message. A template that cannot be parsed
   * stops the run before any work instead.
   */
  TEMPLATE_ERROR,
  /**
   * The prompt's own text gave the tokenizer special tokens (a literal {@code [respond]} or {@code
   * <|im_start|>}) and {@code scoring.special_tokens_in_prompt} is {@code reject}; the detail names
   * them.
   */
  SPECIAL_TOKENS_IN_PROMPT;

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}

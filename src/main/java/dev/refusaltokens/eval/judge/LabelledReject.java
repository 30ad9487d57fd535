package dev.refusaltokens.eval.judge;

import java.util.Locale;

/** Why a row of a labelled file was not judged: the {@code judge_check_rejects.reason} values. */
public enum LabelledReject {
  /** The JSON Lines line is not a JSON object. */
  MALFORMED_JSON,
  /** The CSV record cannot be read, or has another number of fields than the header. */
  MALFORMED_CSV,
  /** The line has bytes that are not valid UTF-8. */
  INVALID_UTF8,
  /** No prompt value, or one that is not text. */
  MISSING_PROMPT,
  /** No response value (absent or null), or one that is not text; an empty text is judged. */
  MISSING_RESPONSE,
  /** No label value. */
  MISSING_LABEL,
  /** A label value the {@code labels} mapping does not list. */
  UNKNOWN_LABEL;

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}

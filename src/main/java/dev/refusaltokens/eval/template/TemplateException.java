package dev.refusaltokens.eval.template;

/**
 * A chat template that cannot be rendered exactly as Hugging Face renders it. The {@link Kind}
 * tells a broken or hostile template apart from one that uses a jinja2 feature this renderer does
 * not implement: either way the job stops rather than feed the model a prompt that differs from
 * Hugging Face's.
 */
public final class TemplateException extends RuntimeException {

  /** Why rendering stopped. */
  public enum Kind {
    /** The template text is not valid jinja2. */
    SYNTAX,
    /**
     * Valid jinja2 that this renderer does not implement exactly (so it refuses, never guesses).
     */
    UNSUPPORTED,
    /**
     * jinja2 itself would fail: an undefined value used, a type error, {@code
     * raise_exception(...)}.
     */
    RUNTIME,
    /**
     * The sandbox refused: an underscore attribute, a mutating method, loading another template.
     */
    SECURITY,
    /** A time, step, size or depth bound was hit. */
    LIMIT
  }

  private final Kind kind;

  public TemplateException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  static TemplateException unsupported(String what) {
    return new TemplateException(
        Kind.UNSUPPORTED,
        what
            + " is not supported by this renderer (it renders "
            + "only what it can render exactly as Hugging Face's jinja2 does)");
  }

  static TemplateException runtime(String message) {
    return new TemplateException(Kind.RUNTIME, message);
  }

  static TemplateException security(String message) {
    return new TemplateException(Kind.SECURITY, message);
  }
}

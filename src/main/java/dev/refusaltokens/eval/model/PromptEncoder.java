package dev.refusaltokens.eval.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import dev.refusaltokens.eval.config.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Chat template + Hugging Face tokenizer: prompt text → the token ids the model sees. The rendered
 * text already carries any BOS the template writes, so encoding adds no special tokens of its own
 * (a post-processor would add BOS twice).
 *
 * <p>Every tokenizer call holds the encoder's lock, so the native tokenizer serves one call at a
 * time even when a task's prefetch thread encodes while the task thread decodes a scored token, and
 * {@link #close} waits for a call in progress. Rendering takes no lock: one thread at a time
 * renders with an encoder.
 */
public final class PromptEncoder implements AutoCloseable {

  /**
   * The options every encoder's tokenizer is opened with. They set neither {@code doLowerCase} nor,
   * with no {@code tokenizer_config.json} passed, {@code stripAccents} or {@code addPrefixSpace}:
   * DJL's Java-side text preparation is then the identity, which {@link #encodeText} relies on.
   */
  static final Map<String, String> TOKENIZER_OPTIONS =
      Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");

  private final Path tokenizerJson;
  private final HuggingFaceTokenizer tokenizer;
  private final ChatTemplate template;
  private final String systemPrompt;

  private PromptEncoder(
      Path tokenizerJson,
      HuggingFaceTokenizer tokenizer,
      ChatTemplate template,
      String systemPrompt) {
    this.tokenizerJson = tokenizerJson;
    this.tokenizer = tokenizer;
    this.template = template;
    this.systemPrompt = systemPrompt;
  }

  static PromptEncoder open(Path tokenizerJson, ChatTemplate template, String systemPrompt) {
    try {
      HuggingFaceTokenizer tokenizer =
          HuggingFaceTokenizer.newInstance(tokenizerJson, TOKENIZER_OPTIONS);
      return new PromptEncoder(tokenizerJson, tokenizer, template, systemPrompt);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read tokenizer " + tokenizerJson, e);
    }
  }

  /**
   * The text the model sees for a prompt; a chat template that fails on it (its {@code
   * raise_exception}, a type error, a bound) is a {@link
   * dev.refusaltokens.eval.template.TemplateException}.
   */
  public String render(String prompt) {
    return template.render(systemPrompt, prompt);
  }

  /** Token ids of the rendered prompt. */
  public long[] encode(String prompt) {
    return encodeText(render(prompt));
  }

  /**
   * Token ids of a text, no special tokens added. This is {@code tokenizer.encode(text, false,
   * false).getIds()} without the rest of DJL's {@code Encoding}: that call copies eight arrays
   * (type ids, token strings, word ids, masks, character spans, …) out of the native encoding, each
   * over JNI, where the score stage needs only the ids. The ids are the same (EncodeTextTest checks
   * it on every CoCoNot prompt of both demo models).
   */
  public synchronized long[] encodeText(String text) {
    if (text == null) {
      throw new NullPointerException("text cannot be null");
    }
    TokenizersLibrary lib = TokenizersLibrary.LIB;
    long encoding = lib.encode(tokenizer.getHandle(), text, false);
    try {
      return lib.getTokenIds(encoding);
    } finally {
      lib.deleteEncoding(encoding);
    }
  }

  /** The tokenizer.json this encoder read. */
  Path tokenizerJson() {
    return tokenizerJson;
  }

  /** The tokenizer's token strings for a text (what {@code encodeText} returns the ids of). */
  public synchronized String[] tokens(String text) {
    return tokenizer.encode(text, false, false).getTokens();
  }

  /**
   * What finds the special tokens a prompt's own text produced ({@link PromptSpecialTokens}): this
   * tokenizer's added tokens and the given control tokens, against what the chat template renders
   * around a clean prompt.
   *
   * @param controlTokens id → string of the model's control tokens
   */
  public PromptSpecialTokens specialTokens(Map<Long, String> controlTokens) {
    String clean = render(PromptSpecialTokens.CLEAN_PROMPT);
    int at = clean.indexOf(PromptSpecialTokens.CLEAN_PROMPT);
    boolean once = at >= 0 && clean.indexOf(PromptSpecialTokens.CLEAN_PROMPT, at + 1) < 0;
    try {
      return PromptSpecialTokens.of(
          tokenizerJson,
          controlTokens,
          encodeText(clean),
          once ? encodeText(clean.substring(0, at)) : null);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the added tokens of " + tokenizerJson, e);
    }
  }

  /** The text of one id, special tokens included (what a control token's round trip checks). */
  public synchronized String decode(long id) {
    return tokenizer.decode(new long[] {id}, false);
  }

  /**
   * The text of generated ids as Hugging Face's {@code tokenizer.decode(ids,
   * skip_special_tokens=True)} gives it: special tokens left out, joined by the tokenizer's own
   * decoder (a tokenizer without one joins tokens with a space).
   */
  public String decode(long[] ids) {
    return decode(ids, true);
  }

  /** The text of ids, special tokens left out or kept. */
  synchronized String decode(long[] ids, boolean skipSpecialTokens) {
    return ids.length == 0 ? "" : tokenizer.decode(ids, skipSpecialTokens);
  }

  /**
   * The one vocabulary id of a control token. A string the tokenizer splits is an error, not its
   * last piece (the official code's {@code encode(" [refuse]")[-1]}).
   */
  public synchronized long singleTokenId(String key, String token) {
    long[] ids = encodeText(token);
    if (ids.length != 1) {
      String[] pieces = tokenizer.encode(token, false, false).getTokens();
      throw ConfigException.badValue(
          key,
          token,
          "is not one vocabulary token: the tokenizer splits it into "
              + ids.length
              + " tokens "
              + Arrays.toString(pieces),
          "use the exact string of a special token in the model's tokenizer.json (added_tokens)");
    }
    String roundTrip = decode(ids[0]);
    if (!roundTrip.strip().equals(token.strip())) {
      throw ConfigException.badValue(
          key,
          token,
          "maps to the vocabulary id "
              + ids[0]
              + ", which is '"
              + roundTrip
              + "', not the token itself (an unknown-token id?)",
          "use the exact string of a special token in the model's tokenizer.json (added_tokens)");
    }
    return ids[0];
  }

  @Override
  public synchronized void close() {
    tokenizer.close();
  }
}

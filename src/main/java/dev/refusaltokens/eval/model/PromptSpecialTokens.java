package dev.refusaltokens.eval.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The special tokens a prompt's own text produced. Hugging Face's tokenizer matches its added
 * tokens in the raw text before anything else (as {@code encode} does by default, {@code
 * split_special_tokens=False}), so a prompt that contains the text {@code [respond]} or {@code
 * <|im_start|>} gives the model that token's id, exactly as if the chat template had written it.
 *
 * <p>Which ids count: every entry of {@code tokenizer.json}'s {@code added_tokens} that is {@code
 * special} or matched in the raw text ({@code normalized: false}), and the configured control
 * tokens; not the model's unknown token (a WordLevel or WordPiece vocabulary gives it for any word
 * it does not know, so its id says nothing about the text), nor added tokens matched after
 * normalization that are not special (vocabulary extensions such as runs of spaces).
 *
 * <p>Which of them the prompt produced: the template's own are the special ids it renders around a
 * clean prompt ({@value #CLEAN_PROMPT}), so many before the prompt's text and so many after it. The
 * special ids of a prompt's rendered ids less those before and after are the prompt's, in the order
 * the model sees them, one per occurrence. (A template whose own special tokens change with the
 * content is read by the longest common prefix and suffix with the clean prompt's instead.) What is
 * reported is therefore exactly the special ids the encoded prompt has beyond those the template
 * adds for a clean prompt, however the tokenizer matched them (lstrip, rstrip, single word).
 */
public final class PromptSpecialTokens {

  /** The prompt whose rendering shows which special tokens are the template's own. */
  static final String CLEAN_PROMPT = "Hello";

  private static final JsonFactory JSON = new JsonFactory();

  private final Map<Long, String> special;
  private final long[] template;
  private final int before; // of the template's special ids, those before the prompt; -1: unknown

  private PromptSpecialTokens(Map<Long, String> special, long[] cleanIds, long[] beforeIds) {
    this.special = Map.copyOf(special);
    this.template = specialIds(cleanIds);
    this.before = beforeIds == null ? -1 : specialIds(beforeIds).length;
  }

  /**
   * @param controlTokens id → string of the configured control tokens
   * @param cleanIds the token ids of {@value #CLEAN_PROMPT} rendered by the chat template
   * @param beforeIds the token ids of that rendered text up to where {@value #CLEAN_PROMPT} is;
   *     null when the text has it other than once
   */
  static PromptSpecialTokens of(
      Path tokenizerJson, Map<Long, String> controlTokens, long[] cleanIds, long[] beforeIds)
      throws IOException {
    Map<Long, String> special = readAddedTokens(tokenizerJson);
    special.putAll(controlTokens);
    return new PromptSpecialTokens(special, cleanIds, beforeIds);
  }

  /** Every id counted as special, with its token string. */
  public Map<Long, String> ids() {
    return special;
  }

  /**
   * The special tokens that the prompt's text produced, in order, one per occurrence; empty when
   * none.
   *
   * @param ids the token ids of the rendered prompt
   */
  public List<String> inPrompt(long[] ids) {
    long[] found = specialIds(ids);
    if (before >= 0 && found.length >= template.length) {
      int after = template.length - before;
      if (Arrays.equals(found, 0, before, template, 0, before)
          && Arrays.equals(
              found, found.length - after, found.length, template, before, template.length)) {
        return tokens(found, before, found.length - after);
      }
    }
    int prefix = 0;
    while (prefix < template.length && prefix < found.length && found[prefix] == template[prefix]) {
      prefix++;
    }
    int suffix = 0;
    while (suffix < template.length - prefix
        && suffix < found.length - prefix
        && found[found.length - 1 - suffix] == template[template.length - 1 - suffix]) {
      suffix++;
    }
    return tokens(found, prefix, found.length - suffix);
  }

  private List<String> tokens(long[] ids, int from, int to) {
    List<String> out = new ArrayList<>(Math.max(0, to - from));
    for (int i = from; i < to; i++) {
      out.add(special.get(ids[i]));
    }
    return List.copyOf(out);
  }

  private long[] specialIds(long[] ids) {
    int n = 0;
    for (long id : ids) {
      if (special.containsKey(id)) {
        n++;
      }
    }
    long[] out = new long[n];
    int k = 0;
    for (long id : ids) {
      if (special.containsKey(id)) {
        out[k++] = id;
      }
    }
    return out;
  }

  /**
   * id → content of the added tokens of a {@code tokenizer.json} that count (see the class
   * comment), read as a stream: real tokenizer files are tens of MB.
   */
  static Map<Long, String> readAddedTokens(Path tokenizerJson) throws IOException {
    Map<Long, String> out = new HashMap<>();
    Map<Long, String> all = new HashMap<>();
    String unkToken = null;
    Long unkId = null;
    try (JsonParser p = JSON.createParser(tokenizerJson.toFile())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (field.equals("added_tokens") && value == JsonToken.START_ARRAY) {
          while (p.nextToken() == JsonToken.START_OBJECT) {
            AddedToken t = addedToken(p);
            if (t.id != null && t.content != null) {
              all.put(t.id, t.content);
              if (t.special || !t.normalized) {
                out.put(t.id, t.content);
              }
            }
          }
        } else if (field.equals("model") && value == JsonToken.START_OBJECT) {
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String modelField = p.currentName();
            JsonToken v = p.nextToken();
            if (modelField.equals("unk_token") && v == JsonToken.VALUE_STRING) {
              unkToken = p.getText();
            } else if (modelField.equals("unk_id") && v == JsonToken.VALUE_NUMBER_INT) {
              unkId = p.getLongValue(); // Unigram
            } else {
              p.skipChildren();
            }
          }
        } else {
          p.skipChildren();
        }
      }
    }
    if (unkId != null) {
      out.remove(unkId);
    }
    if (unkToken != null) {
      for (Map.Entry<Long, String> e : all.entrySet()) {
        if (e.getValue().equals(unkToken)) {
          out.remove(e.getKey());
        }
      }
    }
    return out;
  }

  private static final class AddedToken {
    Long id;
    String content;
    boolean special;
    boolean normalized = true; // the tokenizers library's default for an added token
  }

  private static AddedToken addedToken(JsonParser p) throws IOException {
    AddedToken t = new AddedToken();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken v = p.nextToken();
      switch (field) {
        case "id" -> t.id = p.getLongValue();
        case "content" -> t.content = p.getText();
        case "special" -> t.special = v == JsonToken.VALUE_TRUE;
        case "normalized" -> t.normalized = v == JsonToken.VALUE_TRUE;
        default -> p.skipChildren();
      }
    }
    return t;
  }
}

package dev.refusaltokens.eval.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How many ids a Hugging Face {@code tokenizer.json} can produce: the largest id of its model's
 * vocabulary and of its {@code added_tokens}, plus one. A model must return at least that many
 * logits per row. Read as a stream: real tokenizer files are tens of MB, and only the ids matter.
 */
final class TokenizerVocabulary {

  private static final JsonFactory JSON = new JsonFactory();

  private TokenizerVocabulary() {}

  /**
   * @throws IOException when the file is not readable JSON of that shape
   */
  static int size(Path tokenizerJson) throws IOException {
    long max = -1;
    try (JsonParser p = JSON.createParser(tokenizerJson.toFile())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (field.equals("added_tokens") && value == JsonToken.START_ARRAY) {
          while (p.nextToken() == JsonToken.START_OBJECT) {
            max = Math.max(max, idOfAddedToken(p));
          }
        } else if (field.equals("model") && value == JsonToken.START_OBJECT) {
          max = Math.max(max, largestModelId(p));
        } else {
          p.skipChildren();
        }
      }
    }
    return Math.toIntExact(max + 1);
  }

  private static long idOfAddedToken(JsonParser p) throws IOException {
    long id = -1;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      if (field.equals("id")) {
        id = p.getLongValue();
      } else {
        p.skipChildren();
      }
    }
    return id;
  }

  /**
   * {@code model.vocab}: {token: id} (BPE, WordPiece, WordLevel) or [[piece, score], …] (Unigram:
   * id = index).
   */
  private static long largestModelId(JsonParser p) throws IOException {
    long max = -1;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      if (field.equals("vocab") && value == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          p.nextToken();
          max = Math.max(max, p.getLongValue());
        }
      } else if (field.equals("vocab") && value == JsonToken.START_ARRAY) {
        long n = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
          p.skipChildren();
          n++;
        }
        max = Math.max(max, n - 1);
      } else {
        p.skipChildren();
      }
    }
    return max;
  }
}

package dev.refusaltokens.eval.judge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.bench.PromptParser;
import dev.refusaltokens.eval.config.JudgeCheckConfig;
import java.io.IOException;
import java.util.List;
import java.util.TreeSet;
import org.apache.spark.sql.Row;

/**
 * Reads one row of a labelled file — a JSON Lines line, a CSV record under its header, or a Parquet
 * row — through the configured columns and label mapping, into a {@link LabelledResponse}: a row to
 * judge or a reject with its reason. Never throws on bad input.
 */
final class LabelledParser {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One row's value of a column: its text, or null when absent or null. */
  @FunctionalInterface
  interface Fields {
    String get(String column);
  }

  private LabelledParser() {}

  static LabelledResponse parseJson(JudgeCheckConfig c, long line, String raw) {
    if (raw.indexOf('\uFFFD') >= 0) {
      return invalidUtf8(line, raw);
    }
    JsonNode node;
    try {
      node = JSON.readTree(raw);
    } catch (JsonProcessingException e) {
      return LabelledResponse.reject(
          line, raw, LabelledReject.MALFORMED_JSON, e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      return LabelledResponse.reject(
          line, raw, LabelledReject.MALFORMED_JSON, "the line is not a JSON object");
    }
    LabelledResponse badType =
        textOrAbsent(node, c.promptField(), LabelledReject.MISSING_PROMPT, line, raw);
    if (badType == null) {
      badType = textOrAbsent(node, c.responseField(), LabelledReject.MISSING_RESPONSE, line, raw);
    }
    JsonNode label = node.get(c.labelField());
    if (badType == null && label != null && label.isContainerNode()) {
      badType =
          LabelledResponse.reject(
              line,
              raw,
              LabelledReject.MISSING_LABEL,
              "'" + c.labelField() + "' is " + kind(label) + ", not a single value");
    }
    if (badType != null) {
      return badType;
    }
    return fields(
        c,
        line,
        raw,
        column -> {
          JsonNode n = node.get(column);
          return n == null || n.isNull() || n.isContainerNode() ? null : n.asText();
        });
  }

  /** A CSV record (RFC 4180; it may span lines) under the header's columns. */
  static LabelledResponse parseCsv(JudgeCheckConfig c, long line, String raw, List<String> header) {
    if (raw.indexOf('\uFFFD') >= 0) {
      return invalidUtf8(line, raw);
    }
    String[] values;
    try {
      values = PromptParser.csvFields(raw);
    } catch (IOException e) {
      return LabelledResponse.reject(
          line,
          raw,
          LabelledReject.MALFORMED_CSV,
          e.getMessage().lines().findFirst().orElse("unreadable CSV"));
    }
    if (values.length != header.size()) {
      return LabelledResponse.reject(
          line,
          raw,
          LabelledReject.MALFORMED_CSV,
          values.length + " fields where the header has " + header.size());
    }
    return fields(
        c,
        line,
        raw,
        column -> {
          int i = header.indexOf(column);
          return i < 0 ? null : values[i];
        });
  }

  /** A Parquet row; {@code raw} is the row as JSON. */
  static LabelledResponse parseRow(JudgeCheckConfig c, long line, Row row) {
    return fields(
        c,
        line,
        row.json(),
        column -> {
          int i;
          try {
            i = row.fieldIndex(column);
          } catch (IllegalArgumentException e) {
            return null;
          }
          return row.isNullAt(i) ? null : String.valueOf(row.get(i));
        });
  }

  private static LabelledResponse fields(JudgeCheckConfig c, long line, String raw, Fields f) {
    String prompt = f.get(c.promptField());
    if (prompt == null) {
      return LabelledResponse.reject(
          line, raw, LabelledReject.MISSING_PROMPT, "no '" + c.promptField() + "' value");
    }
    String response = f.get(c.responseField());
    if (response == null) {
      return LabelledResponse.reject(
          line, raw, LabelledReject.MISSING_RESPONSE, "no '" + c.responseField() + "' value");
    }
    String value = f.get(c.labelField());
    if (value == null || value.isEmpty()) {
      return LabelledResponse.reject(
          line, raw, LabelledReject.MISSING_LABEL, "no '" + c.labelField() + "' value");
    }
    Label label = c.labels().get(value);
    if (label == null) {
      return LabelledResponse.reject(
          line,
          raw,
          LabelledReject.UNKNOWN_LABEL,
          "'"
              + c.labelField()
              + "' = '"
              + value
              + "' is not in labels "
              + new TreeSet<>(c.labels().keySet()));
    }
    String category = f.get(c.categoryColumn());
    return new LabelledResponse(
        line,
        prompt,
        response,
        label,
        category == null || category.isEmpty() ? null : category,
        null,
        null,
        raw);
  }

  /** A reject when the column holds something other than text; null when it is text or absent. */
  private static LabelledResponse textOrAbsent(
      JsonNode row, String column, LabelledReject why, long line, String raw) {
    JsonNode n = row.get(column);
    if (n == null || n.isNull() || n.isTextual()) {
      return null;
    }
    return LabelledResponse.reject(
        line, raw, why, "'" + column + "' is " + kind(n) + ", not a string");
  }

  private static String kind(JsonNode n) {
    return n.isArray()
        ? "an array"
        : n.isObject() ? "an object" : n.isBoolean() ? "a boolean" : "a number";
  }

  private static LabelledResponse invalidUtf8(long line, String raw) {
    return LabelledResponse.reject(
        line,
        raw,
        LabelledReject.INVALID_UTF8,
        "the line has bytes that are not UTF-8 (decoded as U+FFFD)");
  }
}

package dev.refusaltokens.eval.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import dev.refusaltokens.eval.config.BenchmarkSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * Parses one input row of a prompt set — a JSON Lines line, a CSV line under its header, or a
 * Parquet row — into a {@link ParsedPrompt} through the benchmark's declared columns and label
 * mapping: either a prompt to score or a reject with its machine-readable reason. Never throws on
 * bad input.
 */
public final class PromptParser {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final CsvMapper CSV =
      CsvMapper.builder().enable(CsvParser.Feature.WRAP_AS_ARRAY).build();

  /**
   * The fields of one CSV record (RFC 4180 quoting); an unreadable record is an {@link IOException}
   * (Jackson's iterator wraps its parse errors in unchecked exceptions).
   */
  public static String[] csvFields(String record) throws IOException {
    try (MappingIterator<String[]> rows = CSV.readerFor(String[].class).readValues(record)) {
      return rows.hasNext() ? rows.next() : new String[0];
    } catch (RuntimeException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  /**
   * Whether {@code record} can be read as CSV at all. Its number of fields is not asked: a record
   * that reads, with the wrong count, is one {@code malformed_csv} reject as a whole, so that no
   * piece of its quoted field is read again as a record of its own.
   */
  static boolean isCsvRecord(String record) {
    try {
      csvFields(record);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** One row's fields by column name: the text of a value, or null when absent or null. */
  @FunctionalInterface
  interface Fields {
    String get(String column);
  }

  private PromptParser() {}

  /** A JSON Lines line. */
  public static ParsedPrompt parse(BenchmarkSpec spec, long line, String raw) {
    if (raw.indexOf('\uFFFD') >= 0) {
      return invalidUtf8(spec, line, raw);
    }
    JsonNode node;
    try {
      node = JSON.readTree(raw);
    } catch (JsonProcessingException e) {
      return ParsedPrompt.reject(
          spec, line, raw, null, RejectReason.MALFORMED_JSON, e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      return ParsedPrompt.reject(
          spec, line, raw, null, RejectReason.MALFORMED_JSON, "the line is not a JSON object");
    }
    JsonNode idNode = spec.idColumn() == null ? null : node.get(spec.idColumn());
    if (idNode != null && !idNode.isNull() && !idNode.isTextual() && !idNode.isNumber()) {
      return ParsedPrompt.reject(
          spec,
          line,
          raw,
          null,
          RejectReason.MISSING_ID,
          "'"
              + spec.idColumn()
              + "' is "
              + (idNode.isArray() ? "an array" : idNode.isObject() ? "an object" : "a boolean")
              + " ("
              + idNode
              + "), not a string or number");
    }
    JsonNode prompt = node.get(spec.promptColumn());
    if (prompt != null && !prompt.isNull() && !prompt.isTextual()) {
      String id = spec.idColumn() == null ? null : text(node.get(spec.idColumn()));
      return ParsedPrompt.reject(
          spec,
          line,
          raw,
          id,
          RejectReason.MISSING_PROMPT,
          "'" + spec.promptColumn() + "' is not a string");
    }
    return fields(spec, line, raw, column -> text(node.get(column)));
  }

  /** A CSV record under the header's columns (RFC 4180 quoting; it may span lines). */
  public static ParsedPrompt parseCsv(
      BenchmarkSpec spec, long line, String raw, List<String> header) {
    if (raw.indexOf('\uFFFD') >= 0) {
      return invalidUtf8(spec, line, raw);
    }
    String[] values;
    try {
      values = csvFields(raw);
    } catch (IOException e) {
      return ParsedPrompt.reject(
          spec,
          line,
          raw,
          null,
          RejectReason.MALFORMED_CSV,
          e.getMessage().lines().findFirst().orElse("unreadable CSV") + span(line, raw));
    }
    if (values.length != header.size()) {
      return ParsedPrompt.reject(
          spec,
          line,
          raw,
          null,
          RejectReason.MALFORMED_CSV,
          values.length + " fields where the header has " + header.size() + span(line, raw));
    }
    return fields(
        spec,
        line,
        raw,
        column -> {
          int i = header.indexOf(column);
          return i < 0 ? null : values[i];
        });
  }

  /** " (the record spans lines 5-7)" for a record of several lines, else nothing. */
  private static String span(long line, String raw) {
    long breaks = raw.chars().filter(c -> c == '\n').count();
    return breaks == 0 ? "" : " (the record spans lines " + line + "-" + (line + breaks) + ")";
  }

  /** A Parquet row; {@code raw} is the row as JSON. */
  public static ParsedPrompt parseRow(BenchmarkSpec spec, long line, Row row) {
    return fields(
        spec,
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

  private static ParsedPrompt fields(BenchmarkSpec spec, long line, String raw, Fields f) {
    String id = null;
    if (spec.idColumn() != null) {
      id = f.get(spec.idColumn());
      if (id == null || isBlank(id)) {
        return ParsedPrompt.reject(
            spec,
            line,
            raw,
            null,
            RejectReason.MISSING_ID,
            "no non-empty '" + spec.idColumn() + "' value");
      }
    }
    String prompt = f.get(spec.promptColumn());
    if (prompt == null) {
      return ParsedPrompt.reject(
          spec,
          line,
          raw,
          id,
          RejectReason.MISSING_PROMPT,
          "no '" + spec.promptColumn() + "' value");
    }
    if (isBlank(prompt)) {
      return ParsedPrompt.reject(
          spec, line, raw, id, RejectReason.EMPTY_PROMPT, "the prompt is empty or whitespace");
    }
    if (id == null) {
      id = "h" + sha256(prompt).substring(0, 16);
    }
    Boolean shouldRefuse = spec.shouldRefuse();
    if (shouldRefuse == null) {
      String label = f.get(spec.labelColumn());
      shouldRefuse = label == null ? null : spec.labelValues().get(label);
      if (shouldRefuse == null) {
        return ParsedPrompt.reject(
            spec,
            line,
            raw,
            id,
            RejectReason.UNKNOWN_LABEL,
            label == null
                ? "no '" + spec.labelColumn() + "' value"
                : "'"
                    + spec.labelColumn()
                    + "' = '"
                    + label
                    + "' is not in label.values "
                    + spec.labelValues().keySet());
      }
    }
    String category =
        emptyToNull(f.get(spec.categoryColumn() == null ? "category" : spec.categoryColumn()));
    Map<String, String> map = spec.categoryMap();
    return new ParsedPrompt(
        spec.name(),
        line,
        id,
        prompt,
        shouldRefuse,
        category == null ? null : map.getOrDefault(category, category),
        emptyToNull(
            f.get(spec.subcategoryColumn() == null ? "subcategory" : spec.subcategoryColumn())),
        raw,
        null,
        null);
  }

  /**
   * Whether {@code s} is empty or only whitespace as Python's {@code str.isspace()} sees it (what
   * the reference tooling and chat templates' {@code strip()} use): {@link #isPythonSpace}. Java's
   * {@link String#isBlank()} misses no-break and ideographic spaces.
   */
  static boolean isBlank(String s) {
    return s.codePoints().allMatch(PromptParser::isPythonSpace);
  }

  /**
   * Python's whitespace: the characters of Unicode general category Zs or bidirectional class WS, B
   * or S (CPython's {@code _PyUnicode_IsWhitespace}, Unicode 15): TAB..CR, the information
   * separators U+001C..U+001F, SPACE, NEL, NO-BREAK SPACE, OGHAM SPACE MARK, U+2000..U+200A, LINE
   * and PARAGRAPH SEPARATOR, NARROW NO-BREAK SPACE, MEDIUM MATHEMATICAL SPACE and IDEOGRAPHIC
   * SPACE. Not U+180E, U+200B or U+FEFF, which Python does not count either.
   */
  static boolean isPythonSpace(int c) {
    return (c >= 0x09 && c <= 0x0D)
        || (c >= 0x1C && c <= 0x20)
        || c == 0x85
        || c == 0xA0
        || c == 0x1680
        || (c >= 0x2000 && c <= 0x200A)
        || c == 0x2028
        || c == 0x2029
        || c == 0x202F
        || c == 0x205F
        || c == 0x3000;
  }

  private static ParsedPrompt invalidUtf8(BenchmarkSpec spec, long line, String raw) {
    return ParsedPrompt.reject(
        spec,
        line,
        raw,
        null,
        RejectReason.INVALID_UTF8,
        "the line has bytes that are not UTF-8 (decoded as U+FFFD)");
  }

  private static String text(JsonNode n) {
    return n == null || n.isNull() || n.isContainerNode() ? null : n.asText();
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

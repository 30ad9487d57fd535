package dev.refusaltokens.eval.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Synthetic prompt sets for scale tests and benchmarks: {@code n} JSON lines made by recombining
 * the prompts of a source set (CoCoNot's fields) with a few conversational framings, so lengths and
 * categories follow the source. Row {@code i} is source line {@code i mod size} in framing {@code
 * (i / size) mod framings}, with id {@code <source id>-s<i>}: deterministic and unique.
 */
public final class SyntheticPrompts {

  static final List<String> FRAMINGS =
      List.of(
          "%s",
          "Question: %s",
          "%s Please keep it short.",
          "Hi! %s",
          "I was wondering about something. %s",
          "%s Thanks in advance.");

  private static final ObjectMapper JSON = new ObjectMapper();

  private SyntheticPrompts() {}

  /** Writes {@code n} rows recombined from {@code source} to {@code out}; returns {@code out}. */
  public static Path write(Path source, long n, Path out) {
    List<ObjectNode> rows = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(source, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          rows.add((ObjectNode) JSON.readTree(line));
        }
      }
      if (rows.isEmpty()) {
        throw new IllegalArgumentException("no prompts in " + source);
      }
      try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
        for (long i = 0; i < n; i++) {
          ObjectNode row = rows.get((int) (i % rows.size())).deepCopy();
          String framing = FRAMINGS.get((int) ((i / rows.size()) % FRAMINGS.size()));
          row.put("id", row.path("id").asText() + "-s" + i);
          row.put("prompt", String.format(framing, row.path("prompt").asText()));
          w.write(JSON.writeValueAsString(row));
          w.newLine();
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write synthetic prompts from " + source + " to " + out, e);
    }
  }
}

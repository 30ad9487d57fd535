package dev.refusaltokens.eval.bench;

import dev.refusaltokens.eval.config.BenchmarkSpec;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * One input row of a prompt set in the common schema ({@code Tables.PROMPTS}); {@code reason} is
 * non-null for a row that will not be scored.
 */
public record ParsedPrompt(
    String benchmark,
    long line,
    String promptId,
    String prompt,
    Boolean shouldRefuse,
    String category,
    String subcategory,
    String raw,
    String reason,
    String detail) {

  static ParsedPrompt reject(BenchmarkSpec spec, long line, String raw, String id, RejectReason reason,
      String detail) {
    return new ParsedPrompt(spec.name(), line, id, null, spec.shouldRefuse(), null, null, raw, reason.id(),
        detail);
  }

  public Row toRow() {
    return RowFactory.create(benchmark, line, promptId, prompt, shouldRefuse, category, subcategory, raw,
        reason, detail);
  }
}

package dev.refusaltokens.eval.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.BenchmarkSpec;

/**
 * Parses one JSON Lines row of a prompt set ({@code id, prompt, category, subcategory}) into a
 * {@link ParsedPrompt}: either a prompt to score or a reject with its reason. Never throws on bad input.
 */
public final class PromptParser {

  private static final ObjectMapper JSON = new ObjectMapper();

  private PromptParser() {}

  public static ParsedPrompt parse(BenchmarkSpec spec, long line, String raw) {
    JsonNode node;
    try {
      node = JSON.readTree(raw);
    } catch (JsonProcessingException e) {
      return ParsedPrompt.reject(spec, line, raw, null, RejectReason.MALFORMED_JSON,
          e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      return ParsedPrompt.reject(spec, line, raw, null, RejectReason.MALFORMED_JSON,
          "the line is not a JSON object");
    }
    JsonNode idNode = node.get("id");
    String id = idNode == null || idNode.isNull() || idNode.isContainerNode() ? null : idNode.asText();
    if (id == null || id.isBlank()) {
      return ParsedPrompt.reject(spec, line, raw, null, RejectReason.MISSING_ID, "no non-empty 'id' field");
    }
    JsonNode promptNode = node.get("prompt");
    if (promptNode == null || !promptNode.isTextual()) {
      return ParsedPrompt.reject(spec, line, raw, id, RejectReason.MISSING_PROMPT,
          "no string 'prompt' field");
    }
    String prompt = promptNode.asText();
    if (prompt.isBlank()) {
      return ParsedPrompt.reject(spec, line, raw, id, RejectReason.EMPTY_PROMPT,
          "the prompt is empty or whitespace");
    }
    return new ParsedPrompt(spec.name(), line, id, prompt, spec.shouldRefuse(), text(node, "category"),
        text(node, "subcategory"), raw, null, null);
  }

  private static String text(JsonNode node, String field) {
    JsonNode n = node.get(field);
    return n == null || n.isNull() || n.asText().isEmpty() ? null : n.asText();
  }
}

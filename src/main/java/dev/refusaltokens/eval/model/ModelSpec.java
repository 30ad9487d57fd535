package dev.refusaltokens.eval.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.ModelConfig;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A validated model folder: Hugging Face tokenizer files, a TorchScript file and the resolved control
 * tokens with their vocabulary ids. Built on the driver by {@link #open}, before any Spark work, and
 * shipped to executors (it is small and serializable; executors open the files themselves, so the
 * folder must be readable at the same path on every node).
 *
 * <p>Folder layout: {@code tokenizer.json}, {@code tokenizer_config.json} (with {@code chat_template}),
 * the TorchScript file ({@code model.pt} unless the manifest names another) and the optional manifest
 * {@code refusal_tokens.json} ({@code respond_token}, {@code refusal_tokens}, {@code max_length},
 * {@code model_file}; {@code output} and {@code vocab_size} as {@code tools/export_torchscript.py} writes
 * them). Config keys win over the manifest.
 *
 * <p>{@code vocabSize} is the number of ids the tokenizer can produce (added tokens included): the model
 * must return at least that many logits per row. The model file itself is not opened here: loading it on
 * the driver would cost the model's whole memory (and a file traced on a GPU does not run on a CPU-only
 * driver). What the exporter's manifest declares is checked here; the model's real output is checked by a
 * probe forward pass when an executor loads it ({@link ScoringModel}) and on every batch.
 */
public record ModelSpec(
    String dir,
    String modelFile,
    String respondToken,
    List<String> refusalTokens,
    long respondId,
    long[] refusalIds,
    long padId,
    int vocabSize,
    int maxLength,
    String chatTemplate,
    String bosToken,
    String eosToken,
    String systemPrompt) implements Serializable {

  public static final String TOKENIZER_FILE = "tokenizer.json";
  public static final String TOKENIZER_CONFIG_FILE = "tokenizer_config.json";
  public static final String MANIFEST_FILE = "refusal_tokens.json";
  public static final String DEFAULT_MODEL_FILE = "model.pt";
  public static final String DEFAULT_RESPOND_TOKEN = "[respond]";
  /** The paper's category variant: one token per CoCoNot category. */
  public static final List<String> DEFAULT_REFUSAL_TOKENS = List.of(
      "[Humanizing requests]", "[Incomplete requests]", "[Indeterminate requests]",
      "[Requests with safety concerns]", "[Unsupported requests]");
  public static final int DEFAULT_MAX_LENGTH = 4096;
  /** The manifest's {@code output}: the model returns {@code [B, V]} or {@code [B, T, V]} logits. */
  public static final List<String> OUTPUT_LAYOUTS = List.of("last", "full");

  private static final ObjectMapper JSON = new ObjectMapper();

  public ModelSpec {
    refusalTokens = List.copyOf(refusalTokens);
    refusalIds = refusalIds.clone();
  }

  public Path tokenizerPath() {
    return Path.of(dir, TOKENIZER_FILE);
  }

  public Path modelPath() {
    return Path.of(dir, modelFile);
  }

  /** Every configured control token, {@code [respond]} first: the keys of {@code scores.logprobs}. */
  public List<String> controlTokens() {
    List<String> all = new ArrayList<>();
    all.add(respondToken);
    all.addAll(refusalTokens);
    return all;
  }

  /** Reads and checks the folder; every problem is a {@link ConfigException} naming key, value, fix. */
  public static ModelSpec open(ModelConfig config) {
    Path dir = Path.of(config.dir()).toAbsolutePath().normalize();
    if (!Files.isDirectory(dir)) {
      throw ConfigException.badValue("model.dir", config.dir(), "is not a folder",
          "point model.dir (or --model) at a model folder such as models/demo-categories");
    }
    JsonNode manifest = readJson(dir.resolve(MANIFEST_FILE), false);
    JsonNode tokenizerConfig = readJson(dir.resolve(TOKENIZER_CONFIG_FILE), true);
    requireFile(dir.resolve(TOKENIZER_FILE), "the Hugging Face tokenizer");

    String modelFile = text(manifest, "model_file", DEFAULT_MODEL_FILE);
    requireFile(dir.resolve(modelFile), "the TorchScript model");
    String template = text(tokenizerConfig, "chat_template", null);
    if (template == null) {
      throw ConfigException.badValue("model.dir", config.dir(),
          "has a " + TOKENIZER_CONFIG_FILE + " without 'chat_template'",
          "add the model's chat template to " + TOKENIZER_CONFIG_FILE);
    }
    String respond = config.respondToken() != null ? config.respondToken()
        : text(manifest, "respond_token", DEFAULT_RESPOND_TOKEN);
    List<String> refusal = config.refusalTokens() != null ? config.refusalTokens()
        : textList(manifest, "refusal_tokens", DEFAULT_REFUSAL_TOKENS);
    int maxLength = maxLength(manifest, tokenizerConfig);
    int vocabSize = vocabSize(dir.resolve(TOKENIZER_FILE));
    checkDeclaredOutput(manifest, dir.resolve(modelFile), vocabSize);
    if (refusal.isEmpty()) {
      throw ConfigException.badValue("model.refusal_tokens", refusal, "is empty",
          "list the model's refusal tokens in config or in " + MANIFEST_FILE);
    }
    if (refusal.contains(respond)) {
      throw ConfigException.badValue("model.refusal_tokens", refusal, "contains the respond token " + respond,
          "keep [respond] out of the refusal tokens");
    }

    try (PromptEncoder encoder = PromptEncoder.open(dir.resolve(TOKENIZER_FILE),
        new ChatTemplate(template, null, null), null)) {
      long respondId = encoder.singleTokenId("model.respond_token", respond);
      long[] refusalIds = new long[refusal.size()];
      for (int i = 0; i < refusal.size(); i++) {
        refusalIds[i] = encoder.singleTokenId("model.refusal_tokens", refusal.get(i));
      }
      long distinct = java.util.stream.LongStream.concat(java.util.stream.LongStream.of(respondId),
          java.util.Arrays.stream(refusalIds)).distinct().count();
      if (distinct != refusal.size() + 1) {
        throw ConfigException.badValue("model.refusal_tokens", refusal, "maps two control tokens to the same "
            + "vocabulary id", "give each control token its own special token");
      }
      String pad = text(tokenizerConfig, "pad_token", null);
      long padId = pad == null ? 0 : encoder.singleTokenId("pad_token", pad);
      ModelSpec spec = new ModelSpec(dir.toString(), modelFile, respond, refusal, respondId, refusalIds,
          padId, vocabSize, maxLength, template, specialToken(tokenizerConfig, "bos_token"),
          specialToken(tokenizerConfig, "eos_token"), config.systemPrompt());
      try (PromptEncoder probe = spec.newEncoder()) { // the template must render, with the real special tokens
        if (probe.encode("Hello").length == 0) {
          throw ConfigException.badValue("model.dir", config.dir(), "has a chat template that renders "
              + "no tokens", "check chat_template in " + TOKENIZER_CONFIG_FILE);
        }
      } catch (IllegalStateException e) {
        throw ConfigException.badValue("model.dir", config.dir(), "has a chat template that fails to "
            + "render (" + e.getMessage() + ")", "fix chat_template in " + TOKENIZER_CONFIG_FILE);
      }
      return spec;
    }
  }

  /** A new encoder for this model (one per thread: the native tokenizer is not shared across tasks). */
  public PromptEncoder newEncoder() {
    return PromptEncoder.open(tokenizerPath(), new ChatTemplate(chatTemplate, bosToken, eosToken),
        systemPrompt);
  }

  private static void requireFile(Path file, String what) {
    if (!Files.isRegularFile(file)) {
      throw ConfigException.badValue("model.dir", file.getParent(), "has no " + file.getFileName()
          + " (" + what + ")", "put " + what + " at " + file.getFileName()
          + " in the model folder (see the README, \"Model folder layout\")");
    }
  }

  private static JsonNode readJson(Path file, boolean required) {
    if (!Files.isRegularFile(file)) {
      if (required) {
        requireFile(file, "the tokenizer configuration");
      }
      return null;
    }
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw ConfigException.badValue("model.dir", file.getParent(), "has an unreadable "
          + file.getFileName() + " (" + e.getMessage() + ")", "fix or regenerate that file");
    }
  }

  /**
   * The model window: the manifest's {@code max_length}, else {@code model_max_length} of the tokenizer
   * config — where Hugging Face writes a huge number (1e30) for "no limit", which means the default here.
   */
  private static int maxLength(JsonNode manifest, JsonNode tokenizerConfig) {
    JsonNode n = manifest != null && manifest.has("max_length") ? manifest.get("max_length")
        : tokenizerConfig.get("model_max_length");
    if (n == null || n.isNull() || (n.isNumber() && n.doubleValue() >= 1e9)) {
      return DEFAULT_MAX_LENGTH;
    }
    if (!n.isNumber() || n.doubleValue() < 1 || n.doubleValue() != Math.floor(n.doubleValue())) {
      throw ConfigException.badValue("model.dir", "max_length = " + n, "is not a positive whole number",
          "fix max_length in " + MANIFEST_FILE + " or model_max_length in " + TOKENIZER_CONFIG_FILE);
    }
    return n.intValue();
  }

  private static int vocabSize(Path tokenizerJson) {
    try {
      return TokenizerVocabulary.size(tokenizerJson);
    } catch (IOException | RuntimeException e) {
      throw ConfigException.badValue("model.dir", tokenizerJson.getParent(), "has an unreadable " + TOKENIZER_FILE
          + " (" + e.getMessage() + ")", "put the model's Hugging Face " + TOKENIZER_FILE + " there");
    }
  }

  /** {@code output} and {@code vocab_size} of the manifest, when the exporter wrote them. */
  private static void checkDeclaredOutput(JsonNode manifest, Path modelFile, int tokenizerIds) {
    if (manifest == null) {
      return;
    }
    String output = text(manifest, "output", null);
    if (output != null && !OUTPUT_LAYOUTS.contains(output)) {
      throw ConfigException.badValue("model.dir", "output = " + output, "in " + MANIFEST_FILE + " is not one of "
          + OUTPUT_LAYOUTS, "re-export the model with tools/export_torchscript.py, or fix output in " + MANIFEST_FILE);
    }
    JsonNode v = manifest.get("vocab_size");
    if (v != null && v.isNumber() && v.longValue() < tokenizerIds) {
      throw ConfigException.badValue("model.dir", modelFile, "returns " + v.longValue() + " logits per row ("
          + MANIFEST_FILE + " vocab_size), fewer than the " + tokenizerIds + " ids of its " + TOKENIZER_FILE
          + " (added tokens included): the model does not belong to this tokenizer, or its embeddings were "
          + "not resized after tokens were added", "put the model's own tokenizer files in the folder, or "
          + "re-export the matching model with tools/export_torchscript.py");
    }
  }

  private static String text(JsonNode node, String field, String dflt) {
    return node != null && node.hasNonNull(field) ? node.get(field).asText() : dflt;
  }

  private static List<String> textList(JsonNode node, String field, List<String> dflt) {
    if (node == null || !node.has(field)) {
      return dflt;
    }
    List<String> out = new ArrayList<>();
    node.get(field).forEach(n -> out.add(n.asText()));
    return out;
  }

  /** {@code bos_token} is either a string or {@code {"content": …}} in tokenizer_config.json. */
  private static String specialToken(JsonNode config, String field) {
    JsonNode n = config.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    return n.isObject() ? n.path("content").asText(null) : n.asText();
  }
}

package dev.refusaltokens.eval.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.ModelConfig;
import dev.refusaltokens.eval.template.TemplateException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

/**
 * A validated model folder: Hugging Face tokenizer files, a TorchScript file and the resolved
 * control tokens with their vocabulary ids. Built on the driver by {@link #open}, before any Spark
 * work, and shipped to executors (it is small and serializable; executors open the files
 * themselves, so the folder must be readable at the same path on every node).
 *
 * <p>Folder layout: {@code tokenizer.json}, {@code tokenizer_config.json} (with {@code
 * chat_template}), the TorchScript file ({@code model.pt} unless the manifest names another) and
 * the optional manifest {@code refusal_tokens.json} ({@code respond_token}, {@code refusal_tokens},
 * {@code max_length}, {@code model_file}; {@code output} and {@code vocab_size} as {@code
 * tools/export_torchscript.py} writes them). Config keys win over the manifest.
 *
 * <p>{@code vocabSize} is the number of ids the tokenizer can produce (added tokens included): the
 * model must return at least that many logits per row. The model file itself is not opened here:
 * loading it on the driver would cost the model's whole memory (and a file traced on a GPU does not
 * run on a CPU-only driver). What the exporter's manifest declares is checked here; the model's
 * real output is checked by a probe forward pass when an executor loads it ({@link ScoringModel})
 * and on every batch.
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
    Map<String, Object> specialTokens,
    String systemPrompt,
    LocalDateTime chatTemplateTime,
    long[] eosIds,
    DecodeModule decode)
    implements Serializable {

  public static final String TOKENIZER_FILE = "tokenizer.json";
  public static final String TOKENIZER_CONFIG_FILE = "tokenizer_config.json";
  public static final String MANIFEST_FILE = "refusal_tokens.json";

  /** Hugging Face's generation settings; only {@code eos_token_id} is read. Optional. */
  public static final String GENERATION_CONFIG_FILE = "generation_config.json";

  /** The manifest key naming the optional KV-cache decode module ({@link DecodeModule}). */
  public static final String DECODE_KEY = "decode";

  /** Where transformers 4.43+ may save the template instead of tokenizer_config.json. */
  public static final String CHAT_TEMPLATE_FILE = "chat_template.jinja";

  /**
   * transformers' {@code SPECIAL_TOKENS_ATTRIBUTES}: the special tokens a chat template sees by
   * name.
   */
  static final List<String> SPECIAL_TOKEN_NAMES =
      List.of(
          "bos_token",
          "eos_token",
          "unk_token",
          "sep_token",
          "pad_token",
          "cls_token",
          "mask_token",
          "additional_special_tokens");

  public static final String DEFAULT_MODEL_FILE = "model.pt";
  public static final String DEFAULT_RESPOND_TOKEN = "[respond]";

  /** The paper's category variant: one token per CoCoNot category. */
  public static final List<String> DEFAULT_REFUSAL_TOKENS =
      List.of(
          "[Humanizing requests]",
          "[Incomplete requests]",
          "[Indeterminate requests]",
          "[Requests with safety concerns]",
          "[Unsupported requests]");

  public static final int DEFAULT_MAX_LENGTH = 4096;

  /**
   * The manifest's {@code output}: the model returns {@code [B, V]} or {@code [B, T, V]} logits.
   */
  public static final List<String> OUTPUT_LAYOUTS = List.of("last", "full");

  private static final ObjectMapper JSON = new ObjectMapper();

  public ModelSpec {
    refusalTokens = List.copyOf(refusalTokens);
    refusalIds = refusalIds.clone();
    specialTokens = Map.copyOf(specialTokens);
    eosIds = eosIds.clone();
  }

  /**
   * The optional KV-cache decode module named by the manifest's {@code "decode"} entry: a second
   * TorchScript file of the same weights that takes the past keys and values as tensors and returns
   * them updated, so that greedy decoding feeds one new token per row and step instead of the whole
   * prefix ({@link GreedyGenerator}). Its contract:
   *
   * <pre>
   * forward(input_ids      int64[B, S],
   *         attention_mask int64[B, P+S],
   *         position_ids   int64[B, S],
   *         last_index     int64[B],
   *         past_keys      float[L, B, H, P, D],
   *         past_values    float[L, B, H, P, D])
   *   -> (logits float[B, V]        at position last_index[b] among the S new positions,
   *       keys   float[L, B, H, P+S, D],
   *       values float[L, B, H, P+S, D])
   * </pre>
   *
   * P = 0 on the prefill call (empty past tensors). {@code attention_mask} marks real (1) and
   * padded (0) key slots over past + new; the prefill is right padded, so padded slots stay inside
   * the cache, masked, and every later token gets mask 1 and position = the row's real tokens so
   * far. Attention is causal within the S new positions. Nothing may be frozen from the traced
   * shapes: the job calls it with other B, S and P than the tracing example.
   *
   * @param file the TorchScript file, relative to the model folder
   * @param layers L, the transformer layers
   * @param kvHeads H, key-value heads (fewer than attention heads in a grouped-query model)
   * @param headDim D
   * @param dtype the cache's floating type: {@code float32} (default), {@code float16} or {@code
   *     bfloat16}
   */
  public record DecodeModule(String file, int layers, int kvHeads, int headDim, String dtype)
      implements Serializable {

    public static final List<String> DTYPES = List.of("float32", "float16", "bfloat16");

    /**
     * The manifest's dtype spellings ({@code fp32}, {@code bf16}, {@code half}, …) → {@link
     * #DTYPES}.
     */
    static String canonicalDtype(String dtype) {
      return switch (dtype.toLowerCase(java.util.Locale.ROOT)) {
        case "float32", "fp32", "float" -> "float32";
        case "float16", "fp16", "half" -> "float16";
        case "bfloat16", "bf16" -> "bfloat16";
        default -> dtype;
      };
    }

    public DecodeModule {
      if (layers < 1 || kvHeads < 1 || headDim < 1 || !DTYPES.contains(dtype)) {
        throw new IllegalArgumentException(
            "decode module "
                + file
                + ": layers "
                + layers
                + ", kv_heads "
                + kvHeads
                + ", head_dim "
                + headDim
                + " must be positive and dtype "
                + dtype
                + " one of "
                + DTYPES);
      }
    }
  }

  public Path tokenizerPath() {
    return Path.of(dir, TOKENIZER_FILE);
  }

  public Path modelPath() {
    return Path.of(dir, modelFile);
  }

  /**
   * The end-of-sequence ids: {@code eos_token} of tokenizer_config.json, then {@code eos_token_id}
   * of generation_config.json (an id or a list) when that file exists, without repeats. May be
   * empty: generation then needs stop strings.
   */
  @Override
  public long[] eosIds() {
    return eosIds.clone();
  }

  /** The KV-cache decode module's file, or null when the manifest names none. */
  public Path decodePath() {
    return decode == null ? null : Path.of(dir, decode.file());
  }

  /**
   * Every configured control token, {@code [respond]} first: the keys of {@code scores.logprobs}.
   */
  public List<String> controlTokens() {
    List<String> all = new ArrayList<>();
    all.add(respondToken);
    all.addAll(refusalTokens);
    return all;
  }

  /** The Hugging Face part of a model folder: tokenizer files and a chat template that parses. */
  private record TokenizerFolder(
      Path dir,
      JsonNode manifest,
      JsonNode tokenizerConfig,
      String template,
      Map<String, Object> specialTokens) {}

  private static TokenizerFolder tokenizerFolder(ModelConfig config) {
    Path dir = Path.of(config.dir()).toAbsolutePath().normalize();
    if (!Files.isDirectory(dir)) {
      throw ConfigException.badValue(
          ModelConfig.DIR,
          config.dir(),
          "is not a folder",
          "point model.dir (or --model) at a model folder such as models/demo-categories");
    }
    JsonNode manifest = readJson(dir.resolve(MANIFEST_FILE), false);
    JsonNode tokenizerConfig = readJson(dir.resolve(TOKENIZER_CONFIG_FILE), true);
    requireFile(dir.resolve(TOKENIZER_FILE), "the Hugging Face tokenizer");
    String template = chatTemplate(dir, tokenizerConfig, config.dir());
    Map<String, Object> specialTokens = specialTokens(tokenizerConfig);
    try {
      new ChatTemplate(template, specialTokens, templateTime(config));
    } catch (TemplateException e) {
      throw ConfigException.badValue(
          ModelConfig.DIR,
          config.dir(),
          "has a chat template this job cannot render "
              + "exactly as Hugging Face does ("
              + e.getMessage()
              + ")",
          "fix chat_template in "
              + TOKENIZER_CONFIG_FILE
              + ", or report the jinja2 feature it needs (see the README, \"Chat "
              + "templates\")");
    }
    return new TokenizerFolder(dir, manifest, tokenizerConfig, template, specialTokens);
  }

  /**
   * An encoder for a bare Hugging Face tokenizer folder (no TorchScript file, no refusal tokens
   * needed): what {@code inspect} uses to show the prompt a model would see.
   */
  public static PromptEncoder openTokenizerFolder(ModelConfig config) {
    TokenizerFolder f = tokenizerFolder(config);
    return PromptEncoder.open(
        f.dir().resolve(TOKENIZER_FILE),
        new ChatTemplate(f.template(), f.specialTokens(), templateTime(config)),
        config.systemPrompt());
  }

  /**
   * Reads and checks the folder; every problem is a {@link ConfigException} naming key, value, fix.
   */
  public static ModelSpec open(ModelConfig config) {
    TokenizerFolder folder = tokenizerFolder(config);
    Path dir = folder.dir();
    JsonNode manifest = folder.manifest();
    JsonNode tokenizerConfig = folder.tokenizerConfig();
    String template = folder.template();
    Map<String, Object> specialTokens = folder.specialTokens();
    String modelFile = text(manifest, "model_file", DEFAULT_MODEL_FILE);
    requireFile(dir.resolve(modelFile), "the TorchScript model");
    String respond =
        config.respondToken() != null
            ? config.respondToken()
            : text(manifest, "respond_token", DEFAULT_RESPOND_TOKEN);
    List<String> refusal =
        config.refusalTokens() != null
            ? config.refusalTokens()
            : textList(manifest, "refusal_tokens", DEFAULT_REFUSAL_TOKENS);
    int maxLength = maxLength(manifest, tokenizerConfig);
    int vocabSize = vocabSize(dir.resolve(TOKENIZER_FILE));
    checkDeclaredOutput(manifest, dir.resolve(modelFile), vocabSize);
    DecodeModule decode = decodeModule(dir, manifest);
    long[] generationEos = generationConfigEos(dir.resolve(GENERATION_CONFIG_FILE));
    if (refusal.isEmpty()) {
      throw ConfigException.badValue(
          ModelConfig.REFUSAL_TOKENS,
          refusal,
          "is empty",
          "list the model's refusal tokens in config or in " + MANIFEST_FILE);
    }
    if (refusal.contains(respond)) {
      throw ConfigException.badValue(
          ModelConfig.REFUSAL_TOKENS,
          refusal,
          "contains the respond token " + respond,
          "keep [respond] out of the refusal tokens");
    }

    try (PromptEncoder encoder =
        PromptEncoder.open(
            dir.resolve(TOKENIZER_FILE),
            new ChatTemplate(template, specialTokens, templateTime(config)),
            null)) {
      long respondId = encoder.singleTokenId(ModelConfig.RESPOND_TOKEN, respond);
      long[] refusalIds = new long[refusal.size()];
      for (int i = 0; i < refusal.size(); i++) {
        refusalIds[i] = encoder.singleTokenId(ModelConfig.REFUSAL_TOKENS, refusal.get(i));
      }
      long distinct =
          LongStream.concat(LongStream.of(respondId), Arrays.stream(refusalIds)).distinct().count();
      if (distinct != refusal.size() + 1) {
        throw ConfigException.badValue(
            ModelConfig.REFUSAL_TOKENS,
            refusal,
            "maps two control tokens to the same " + "vocabulary id",
            "give each control token its own special token");
      }
      String pad = (String) specialTokens.get("pad_token");
      long padId = pad == null ? 0 : encoder.singleTokenId("pad_token", pad);
      String eos = (String) specialTokens.get("eos_token");
      long[] eosIds =
          LongStream.concat(
                  eos == null
                      ? LongStream.empty()
                      : LongStream.of(encoder.singleTokenId("eos_token", eos)),
                  Arrays.stream(generationEos))
              .distinct()
              .toArray();
      ModelSpec spec =
          new ModelSpec(
              dir.toString(),
              modelFile,
              respond,
              refusal,
              respondId,
              refusalIds,
              padId,
              vocabSize,
              maxLength,
              template,
              specialTokens,
              config.systemPrompt(),
              templateTime(config),
              eosIds,
              decode);
      try (PromptEncoder probe =
          spec.newEncoder()) { // the template must render, with the real special tokens
        if (probe.encode("Hello").length == 0) {
          throw ConfigException.badValue(
              ModelConfig.DIR,
              config.dir(),
              "has a chat template that renders " + "no tokens",
              "check chat_template in " + TOKENIZER_CONFIG_FILE);
        }
      } catch (TemplateException e) {
        throw ConfigException.badValue(
            ModelConfig.DIR,
            config.dir(),
            "has a chat template that fails to "
                + "render one user message ("
                + e.getMessage()
                + ")",
            "fix chat_template in " + TOKENIZER_CONFIG_FILE);
      }
      return spec;
    }
  }

  /**
   * A new encoder for this model (one per thread: the native tokenizer is not shared across tasks).
   */
  public PromptEncoder newEncoder() {
    return PromptEncoder.open(
        tokenizerPath(),
        new ChatTemplate(chatTemplate, specialTokens, chatTemplateTime),
        systemPrompt);
  }

  private static void requireFile(Path file, String what) {
    if (!Files.isRegularFile(file)) {
      throw ConfigException.badValue(
          ModelConfig.DIR,
          file.getParent(),
          "has no " + file.getFileName() + " (" + what + ")",
          "put "
              + what
              + " at "
              + file.getFileName()
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
      throw ConfigException.badValue(
          ModelConfig.DIR,
          file.getParent(),
          "has an unreadable " + file.getFileName() + " (" + e.getMessage() + ")",
          "fix or regenerate that file");
    }
  }

  /**
   * The model window: the manifest's {@code max_length}, else {@code model_max_length} of the
   * tokenizer config — where Hugging Face writes a huge number (1e30) for "no limit", which means
   * the default here.
   */
  private static int maxLength(JsonNode manifest, JsonNode tokenizerConfig) {
    JsonNode n =
        manifest != null && manifest.has("max_length")
            ? manifest.get("max_length")
            : tokenizerConfig.get("model_max_length");
    if (n == null || n.isNull() || (n.isNumber() && n.doubleValue() >= 1e9)) {
      return DEFAULT_MAX_LENGTH;
    }
    if (!n.isNumber() || n.doubleValue() < 1 || n.doubleValue() != Math.floor(n.doubleValue())) {
      throw ConfigException.badValue(
          ModelConfig.DIR,
          "max_length = " + n,
          "is not a positive whole number",
          "fix max_length in "
              + MANIFEST_FILE
              + " or model_max_length in "
              + TOKENIZER_CONFIG_FILE);
    }
    return n.intValue();
  }

  private static int vocabSize(Path tokenizerJson) {
    try {
      return TokenizerVocabulary.size(tokenizerJson);
    } catch (IOException | RuntimeException e) {
      throw ConfigException.badValue(
          ModelConfig.DIR,
          tokenizerJson.getParent(),
          "has an unreadable " + TOKENIZER_FILE + " (" + e.getMessage() + ")",
          "put the model's Hugging Face " + TOKENIZER_FILE + " there");
    }
  }

  /** {@code output} and {@code vocab_size} of the manifest, when the exporter wrote them. */
  private static void checkDeclaredOutput(JsonNode manifest, Path modelFile, int tokenizerIds) {
    if (manifest == null) {
      return;
    }
    String output = text(manifest, "output", null);
    if (output != null && !OUTPUT_LAYOUTS.contains(output)) {
      throw ConfigException.badValue(
          ModelConfig.DIR,
          "output = " + output,
          "in " + MANIFEST_FILE + " is not one of " + OUTPUT_LAYOUTS,
          "re-export the model with tools/export_torchscript.py, or fix output in "
              + MANIFEST_FILE);
    }
    JsonNode v = manifest.get("vocab_size");
    if (v != null && v.isNumber() && v.longValue() < tokenizerIds) {
      throw ConfigException.badValue(
          ModelConfig.DIR,
          modelFile,
          "returns "
              + v.longValue()
              + " logits per row ("
              + MANIFEST_FILE
              + " vocab_size), fewer than the "
              + tokenizerIds
              + " ids of its "
              + TOKENIZER_FILE
              + " (added tokens included): the model does not belong to this tokenizer, or its embeddings were "
              + "not resized after tokens were added",
          "put the model's own tokenizer files in the folder, or "
              + "re-export the matching model with tools/export_torchscript.py");
    }
  }

  /**
   * The manifest's {@code "decode": {"file", "layers", "kv_heads", "head_dim", "dtype"}}, or null.
   * Its file must exist; the cache shapes it declares are checked against the module itself by a
   * probe call when an executor loads it ({@link ScoringModel}).
   */
  private static DecodeModule decodeModule(Path dir, JsonNode manifest) {
    JsonNode d = manifest == null ? null : manifest.get(DECODE_KEY);
    if (d == null || d.isNull()) {
      return null;
    }
    String fix =
        "write \""
            + DECODE_KEY
            + "\": {\"file\": \"decode.pt\", \"layers\": L, \"kv_heads\": H, \"head_dim\": D} in "
            + MANIFEST_FILE
            + " (tools/export_torchscript.py --decode-cache does), or remove the entry to decode "
            + "without a cache";
    if (!d.isObject() || !d.path("file").isTextual()) {
      throw ConfigException.badValue(
          ModelConfig.DIR,
          dir,
          "has a " + MANIFEST_FILE + " whose decode entry " + d + " names no file",
          fix);
    }
    String file = d.get("file").asText();
    Path path = dir.resolve(file);
    if (!Files.isRegularFile(path)) {
      throw ConfigException.badValue(
          ModelConfig.DIR,
          dir,
          "has a "
              + MANIFEST_FILE
              + " naming the decode module "
              + file
              + ", but there is no such file in the folder",
          "put the decode module exported with the model (tools/export_torchscript.py "
              + "--decode-cache) at "
              + path.getFileName()
              + ", or remove the \""
              + DECODE_KEY
              + "\" entry from "
              + MANIFEST_FILE
              + " to decode without a cache");
    }
    try {
      return new DecodeModule(
          file,
          wholeNumber(d, "layers"),
          wholeNumber(d, "kv_heads"),
          wholeNumber(d, "head_dim"),
          DecodeModule.canonicalDtype(d.path("dtype").asText("float32")));
    } catch (IllegalArgumentException e) {
      throw ConfigException.badValue(
          ModelConfig.DIR,
          dir,
          "has a "
              + MANIFEST_FILE
              + " decode entry "
              + d
              + " that is invalid ("
              + e.getMessage()
              + ")",
          fix);
    }
  }

  private static int wholeNumber(JsonNode node, String field) {
    JsonNode n = node.get(field);
    if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
      throw new IllegalArgumentException(field + " is " + n + ", not a whole number");
    }
    return n.intValue();
  }

  /** {@code eos_token_id} of generation_config.json: an id, a list of ids, null, or no file. */
  private static long[] generationConfigEos(Path file) {
    JsonNode config = readJson(file, false);
    JsonNode n = config == null ? null : config.get("eos_token_id");
    if (n == null || n.isNull()) {
      return new long[0];
    }
    List<JsonNode> items = new ArrayList<>();
    if (n.isArray()) {
      n.forEach(items::add);
    } else {
      items.add(n);
    }
    long[] ids = new long[items.size()];
    for (int i = 0; i < ids.length; i++) {
      JsonNode id = items.get(i);
      if (!id.isIntegralNumber() || id.longValue() < 0) {
        throw ConfigException.badValue(
            ModelConfig.DIR,
            file.getParent(),
            "has a "
                + GENERATION_CONFIG_FILE
                + " whose eos_token_id "
                + n
                + " is not an id or a list of ids",
            "fix eos_token_id there (Hugging Face writes an int or a list of ints)");
      }
      ids[i] = id.longValue();
    }
    return ids;
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

  /**
   * The configured {@code model.chat_template_time}, else now (local time, as Python's
   * datetime.now()).
   */
  private static LocalDateTime templateTime(ModelConfig config) {
    return config.chatTemplateTime() != null
        ? ModelConfig.parseTemplateTime(config.chatTemplateTime())
        : LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS);
  }

  /**
   * The template as transformers finds it: {@code chat_template} of tokenizer_config.json (a
   * string, or a list of named templates of which {@code apply_chat_template} uses "default"), else
   * {@code chat_template.jinja} in the folder.
   */
  private static String chatTemplate(Path dir, JsonNode tokenizerConfig, String configured) {
    JsonNode node = tokenizerConfig.get("chat_template");
    if (node != null && node.isTextual()) {
      return node.asText();
    }
    if (node != null && node.isArray()) {
      List<String> names = new ArrayList<>();
      for (JsonNode t : node) {
        names.add(t.path("name").asText());
        if ("default".equals(t.path("name").asText())) {
          return t.path("template").asText();
        }
      }
      throw ConfigException.badValue(
          ModelConfig.DIR,
          configured,
          "has named chat templates " + names + " but none named 'default'",
          "name the template for plain chat 'default' in " + TOKENIZER_CONFIG_FILE);
    }
    Path file = dir.resolve(CHAT_TEMPLATE_FILE);
    if (Files.isRegularFile(file)) {
      try {
        return Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw ConfigException.badValue(
            ModelConfig.DIR,
            configured,
            "has an unreadable " + CHAT_TEMPLATE_FILE + " (" + e.getMessage() + ")",
            "fix or regenerate that file");
      }
    }
    throw ConfigException.badValue(
        ModelConfig.DIR,
        configured,
        "has no chat template (no 'chat_template' in "
            + TOKENIZER_CONFIG_FILE
            + " and no "
            + CHAT_TEMPLATE_FILE
            + ")",
        "add the model's chat template to " + TOKENIZER_CONFIG_FILE);
  }

  /**
   * transformers' {@code special_tokens_map}: each special token of tokenizer_config.json that is
   * set (a string or an {@code {"content": …}} object), and {@code additional_special_tokens} as a
   * list.
   */
  static Map<String, Object> specialTokens(JsonNode config) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String name : SPECIAL_TOKEN_NAMES) {
      JsonNode n = config.get(name);
      if (n == null || n.isNull()) {
        continue;
      }
      if (name.equals("additional_special_tokens")) {
        List<String> tokens = new ArrayList<>();
        n.forEach(t -> tokens.add(content(t)));
        if (!tokens.isEmpty()) {
          out.put(name, List.copyOf(tokens));
        }
      } else if (content(n) != null && !content(n).isEmpty()) {
        out.put(name, content(n));
      }
    }
    return out;
  }

  private static String content(JsonNode n) {
    return n.isObject() ? n.path("content").asText(null) : n.asText(null);
  }
}

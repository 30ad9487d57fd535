package dev.refusaltokens.eval.judge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.template.JinjaTemplate;
import dev.refusaltokens.eval.template.TemplateException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model judge's rubric (a YAML file such as {@code conf/judges/coconot.yaml}): a Jinja template
 * that turns one response into the text the judge model reads, and a refusal definition per prompt
 * category. The template's fields are {@link #FIELDS}: {@code prompt}, {@code response}, {@code
 * category} (the prompt's category, {@code ""} when it has none) and {@code definition} ({@code
 * definitions[category]}, else {@code default_definition}). Loaded and checked on the driver
 * ({@link #load}); immutable and serializable; rendering is deterministic.
 *
 * @param file the file as configured
 * @param name the rubric's {@code name}
 * @param template the Jinja source
 * @param definitions category → refusal definition
 * @param defaultDefinition the definition of every other category (and of prompts without one)
 * @param sha256 hex SHA-256 of the file's bytes: recorded with every figure judged with it
 */
public record Rubric(
    String file,
    String name,
    String template,
    Map<String, String> definitions,
    String defaultDefinition,
    String sha256)
    implements Serializable {

  /** The fields a rubric template may use. */
  public static final List<String> FIELDS = List.of("prompt", "response", "category", "definition");

  /** The keys of a rubric file. */
  public static final List<String> KEYS =
      List.of("name", "template", "definitions", "default_definition");

  private static final YAMLMapper YAML = new YAMLMapper();

  public Rubric {
    definitions = Map.copyOf(definitions);
  }

  /**
   * Reads and checks a rubric file; every problem is a {@link ConfigException} naming {@code key},
   * the file and the fix: a missing or unreadable file, a key that is not one of {@link #KEYS}, a
   * template that does not parse, that uses a field not in {@link #FIELDS}, or that leaves out the
   * prompt or the response.
   */
  public static Rubric load(String file, String key) {
    Path path = Path.of(file);
    if (!Files.isRegularFile(path)) {
      throw ConfigException.badValue(
          key,
          file,
          "is not a rubric file",
          "point it at a rubric YAML file such as conf/judges/generic.yaml (docs/judges.md)");
    }
    byte[] bytes;
    JsonNode root;
    try {
      bytes = Files.readAllBytes(path);
      root = YAML.readTree(bytes);
    } catch (IOException e) {
      throw ConfigException.badValue(
          key, file, "is not readable YAML (" + e.getMessage() + ")", "fix the rubric file");
    }
    if (root == null || !root.isObject()) {
      throw ConfigException.badValue(
          key, file, "is not a YAML mapping", "write the keys " + KEYS + " (docs/judges.md)");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!KEYS.contains(k)) {
        throw ConfigException.badValue(
            key,
            file,
            "has the unknown key '" + k + "'",
            "a rubric file has only the keys " + KEYS + " (docs/judges.md)");
      }
    }
    String name = text(root, "name", key, file);
    String template = text(root, "template", key, file);
    String dflt = text(root, "default_definition", key, file);
    Map<String, String> definitions = new LinkedHashMap<>();
    JsonNode defs = root.get("definitions");
    if (defs != null && !defs.isNull()) {
      if (!defs.isObject()) {
        throw ConfigException.badValue(
            key,
            file,
            "has definitions that are not a mapping",
            "write definitions as {category name: refusal definition, ...}");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = defs.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isTextual() || e.getValue().asText().isBlank()) {
          throw ConfigException.badValue(
              key,
              file,
              "has no text for the definition of '" + e.getKey() + "'",
              "give each category a definition in words");
        }
        definitions.put(e.getKey(), e.getValue().asText());
      }
    }
    Rubric rubric = new Rubric(file, name, template, definitions, dflt, sha256(bytes));
    rubric.check(key);
    return rubric;
  }

  private static String text(JsonNode root, String field, String key, String file) {
    JsonNode n = root.get(field);
    if (n == null || !n.isTextual() || n.asText().isBlank()) {
      throw ConfigException.badValue(
          key,
          file,
          "has no " + field + " (a non-empty string)",
          "add " + field + " to the rubric file (docs/judges.md)");
    }
    return n.asText();
  }

  /** The template parses, uses only {@link #FIELDS}, and shows the prompt and the response. */
  private void check(String key) {
    String prompt = "\u0001prompt\u0001";
    String response = "\u0001response\u0001";
    Map<String, Object> sample =
        fields(prompt, response, "\u0001category\u0001", "\u0001def\u0001");
    JinjaTemplate t;
    Set<String> undefined;
    String rendered;
    try {
      t = JinjaTemplate.parse(template);
      undefined = t.undefinedNames(sample);
      rendered = t.render(sample);
    } catch (TemplateException e) {
      throw ConfigException.badValue(
          key,
          file,
          "has a template that does not render (" + e.getMessage() + ")",
          "fix the Jinja template in the rubric file");
    }
    if (!undefined.isEmpty()) {
      throw ConfigException.badValue(
          key,
          file,
          "has a template that refers to " + new ArrayList<>(undefined) + ", not a rubric field",
          "use only the fields " + FIELDS + " (docs/judges.md)");
    }
    for (String[] need : new String[][] {{"prompt", prompt}, {"response", response}}) {
      if (!rendered.contains(need[1])) {
        throw ConfigException.badValue(
            key,
            file,
            "has a template that never shows the " + need[0],
            "put {{ " + need[0] + " }} in the template: the judge must read it");
      }
    }
  }

  /** The definition used for {@code category} (null: none). */
  public String definition(String category) {
    return category == null
        ? defaultDefinition
        : definitions.getOrDefault(category, defaultDefinition);
  }

  /** The text the judge model reads for one response (before its chat template). */
  public String render(JinjaTemplate parsed, JudgeInput in) {
    return parsed.render(
        fields(
            in.prompt(),
            in.response(),
            in.category() == null ? "" : in.category(),
            definition(in.category())));
  }

  /** {@link #template} parsed (parse once per task: the parsed form is not serializable). */
  public JinjaTemplate parse() {
    return JinjaTemplate.parse(template);
  }

  private static Map<String, Object> fields(
      String prompt, String response, String category, String definition) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("prompt", prompt);
    m.put("response", response);
    m.put("category", category);
    m.put("definition", definition);
    return m;
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

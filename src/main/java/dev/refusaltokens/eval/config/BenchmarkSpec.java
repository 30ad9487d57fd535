package dev.refusaltokens.eval.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One prompt set, declared in configuration: where it is, its format, which columns hold the id,
 * the prompt, the category and subcategory, how {@code should_refuse} is derived (a constant, or a
 * label column mapped value by value), and an optional renaming of its categories to the model's.
 *
 * @param name benchmark name ({@code rates.benchmark} etc.)
 * @param path file, folder or glob Spark reads (local or any Hadoop file system URI)
 * @param format JSON Lines, CSV (a header record, then RFC 4180 records, which may span lines) or
 *     Parquet; null: by the path's extension
 * @param idColumn column of the prompt id; null: a stable hash of the prompt text
 * @param promptColumn column of the prompt text
 * @param categoryColumn column of the category; null: {@code category} when the input has it
 * @param subcategoryColumn column of the subcategory; null: {@code subcategory} when the input has
 *     it
 * @param shouldRefuse the same for every row; null when {@code labelColumn} decides
 * @param labelColumn column whose value decides should_refuse through {@code labelValues}
 * @param labelValues label value → should_refuse; a value not listed is a reject ({@code
 *     unknown_label})
 * @param categoryMap benchmark category → category reported (e.g. the model's category names)
 * @param source the YAML file that declared it, null when inline (for error messages)
 */
public record BenchmarkSpec(
    String name,
    String path,
    BenchmarkFormat format,
    String idColumn,
    String promptColumn,
    String categoryColumn,
    String subcategoryColumn,
    Boolean shouldRefuse,
    String labelColumn,
    Map<String, Boolean> labelValues,
    Map<String, String> categoryMap,
    String source)
    implements Serializable {

  /**
   * The list of benchmarks: mappings with the keys below, or YAML files holding one mapping each.
   */
  public static final String KEY = "benchmarks";

  public static final String NAME = "name";
  public static final String PATH = "path";
  public static final String FORMAT = "format";
  public static final String ID_COLUMN = "id_column";
  public static final String PROMPT_COLUMN = "prompt_column";
  public static final String CATEGORY_COLUMN = "category_column";
  public static final String SUBCATEGORY_COLUMN = "subcategory_column";
  public static final String SHOULD_REFUSE = "should_refuse";
  public static final String LABEL_COLUMN = "label.column";
  public static final String LABEL_VALUES = "label.values";
  public static final String CATEGORY_MAP = "category_map";

  public static final String DEFAULT_ID_COLUMN = "id";
  public static final String DEFAULT_PROMPT_COLUMN = "prompt";
  private static final Pattern NAME_PATTERN = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  /**
   * The built-in prompt sets, shipped in {@code data/coconot/} (after NAME_PATTERN: they are
   * checked).
   */
  public static final List<BenchmarkSpec> DEFAULTS =
      List.of(
          // in the order conf/benchmarks/*.yaml lists them (sorted file names)
          new BenchmarkSpec("coconot_contrast", "data/coconot/coconot_contrast_eval.jsonl", false),
          new BenchmarkSpec("coconot_original", "data/coconot/coconot_eval.jsonl", true));

  /**
   * A CoCoNot-style JSON Lines set ({@code id, prompt, category, subcategory}) with a constant
   * label.
   */
  public BenchmarkSpec(String name, String path, boolean shouldRefuse) {
    this(
        name,
        path,
        BenchmarkFormat.JSONL,
        DEFAULT_ID_COLUMN,
        DEFAULT_PROMPT_COLUMN,
        null,
        null,
        shouldRefuse,
        null,
        Map.of(),
        Map.of(),
        null);
  }

  public BenchmarkSpec {
    String where = where(source);
    String key = checkedKey(name, path, source);
    if (format == null) {
      format = BenchmarkFormat.ofPath(path);
    }
    if (promptColumn == null || promptColumn.isBlank()) {
      throw ConfigException.badValue(
          key + PROMPT_COLUMN + where,
          promptColumn,
          "is empty",
          "name the column holding the prompt text");
    }
    labelValues = labelValues == null ? Map.of() : Map.copyOf(labelValues);
    categoryMap = categoryMap == null ? Map.of() : Map.copyOf(categoryMap);
    if ((shouldRefuse == null) == (labelColumn == null)) {
      throw ConfigException.badValue(
          key + SHOULD_REFUSE + where,
          shouldRefuse == null ? "(none)" : shouldRefuse,
          shouldRefuse == null ? "and label are both missing" : "and label are both given",
          "give either should_refuse: true|false for the whole set, or label: {column: …, values: {…: true, …: false}}");
    }
    if (labelColumn != null && labelValues.isEmpty()) {
      throw ConfigException.badValue(
          key + LABEL_VALUES + where,
          labelValues,
          "is empty",
          "map each label value to true (should refuse) or false, e.g. {unsafe: true, safe: false}");
    }
  }

  /**
   * {@code benchmarks}, or {@link #DEFAULTS} when absent; file items (globs allowed) are read here.
   */
  static List<BenchmarkSpec> readAll(ConfigReader r) {
    if (!r.has(KEY)) {
      return DEFAULTS;
    }
    JsonNode list = r.raw(KEY);
    if (!list.isArray()) {
      throw ConfigException.badValue(
          KEY,
          list,
          "is not a list",
          "list benchmark mappings or benchmark files, e.g. [conf/benchmarks/*.yaml]");
    }
    List<BenchmarkSpec> specs = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode item = list.get(i);
      String at = KEY + "[" + i + "]";
      if (item.isTextual()) {
        for (Path file : YamlFiles.expand(item.asText(), at)) {
          specs.add(read(r.item(YamlFiles.read(file), KEY + "[" + file + "]."), file.toString()));
        }
      } else if (item.isObject()) {
        specs.add(read(r.item((ObjectNode) item, at + "."), null));
      } else {
        throw ConfigException.badValue(
            at,
            item,
            "is neither a mapping nor a file path",
            "give {name, path, …} or the path of a benchmark YAML file");
      }
    }
    return specs;
  }

  /** Every key a benchmark may have. */
  private static final List<String> KEYS =
      List.of(
          NAME,
          PATH,
          FORMAT,
          ID_COLUMN,
          PROMPT_COLUMN,
          CATEGORY_COLUMN,
          SUBCATEGORY_COLUMN,
          SHOULD_REFUSE,
          LABEL_COLUMN,
          LABEL_VALUES,
          CATEGORY_MAP);

  private static BenchmarkSpec read(ConfigReader item, String source) {
    // A misspelt key is reported before anything else: it explains the key that then looks
    // missing (shuold_refuse → "should_refuse and label are both missing") or badly set.
    KEYS.forEach(item::raw);
    JsonNode named = item.raw(NAME);
    item.rejectUnknownKeys(
        named != null && named.isValueNode() && !named.isNull()
            ? " (benchmark '" + named.asText() + "')"
            : "");
    String idColumn =
        item.explicitNull(ID_COLUMN) ? null : item.string(ID_COLUMN, DEFAULT_ID_COLUMN);
    item.string(ID_COLUMN, null); // an explicit null is read too
    String name = item.string(NAME, null);
    String path = item.string(PATH, null);
    String format = item.string(FORMAT, null);
    String promptColumn = item.string(PROMPT_COLUMN, DEFAULT_PROMPT_COLUMN);
    String categoryColumn = item.string(CATEGORY_COLUMN, null);
    String subcategoryColumn = item.string(SUBCATEGORY_COLUMN, null);
    Boolean shouldRefuse = item.optionalBool(SHOULD_REFUSE);
    String labelColumn = item.string(LABEL_COLUMN, null);
    Map<String, Boolean> labelValues = item.boolMap(LABEL_VALUES);
    Map<String, String> categoryMap = item.stringMap(CATEGORY_MAP);
    // the format's message names the benchmark, so a bad name or path is reported first
    BenchmarkFormat parsed =
        format == null
            ? null
            : BenchmarkFormat.parse(
                format, checkedKey(name, path, source) + FORMAT + where(source));
    BenchmarkSpec spec =
        new BenchmarkSpec(
            name,
            path,
            parsed,
            idColumn,
            promptColumn,
            categoryColumn,
            subcategoryColumn,
            shouldRefuse,
            labelColumn,
            labelValues,
            categoryMap,
            source);
    return spec;
  }

  /** As recorded: every key spelled out, inline (the file it came from is not recorded). */
  void write(ConfigWriter w) {
    w.put(NAME, name);
    w.put(PATH, path);
    w.put(FORMAT, format.id());
    w.put(ID_COLUMN, idColumn);
    w.put(PROMPT_COLUMN, promptColumn);
    w.put(CATEGORY_COLUMN, categoryColumn);
    w.put(SUBCATEGORY_COLUMN, subcategoryColumn);
    if (shouldRefuse != null) {
      w.put(SHOULD_REFUSE, shouldRefuse);
    } else {
      w.put(LABEL_COLUMN, labelColumn);
      w.put(LABEL_VALUES, labelValues);
    }
    w.put(CATEGORY_MAP, categoryMap);
  }

  /**
   * Whether some prompts of this set may be should-refuse ({@code true}) or should-answer ({@code
   * false}).
   */
  public boolean mayHave(boolean refuse) {
    return shouldRefuse != null ? shouldRefuse == refuse : labelValues.containsValue(refuse);
  }

  /**
   * {@code benchmarks[name].}, the start of every other key's message, once the name and path are
   * valid.
   */
  private static String checkedKey(String name, String path, String source) {
    if (name == null || !NAME_PATTERN.matcher(name).matches()) {
      throw ConfigException.badValue(
          KEY + "[]." + NAME + where(source),
          name,
          "is not a valid benchmark name",
          "use 1-64 letters, digits, '_', '-' or '.'");
    }
    String key = KEY + "[" + name + "].";
    if (path == null || path.isBlank()) {
      throw ConfigException.badValue(
          key + PATH + where(source), path, "is empty", "give the prompt set's file or folder");
    }
    return key;
  }

  /** Where a benchmark was declared, for messages: " (in file)", or nothing when inline. */
  private static String where(String source) {
    return source == null ? "" : " (in " + source + ")";
  }
}

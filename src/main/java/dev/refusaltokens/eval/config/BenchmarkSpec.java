package dev.refusaltokens.eval.config;

import java.io.Serializable;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One prompt set, declared in configuration: where it is, its format, which columns hold the id, the
 * prompt, the category and subcategory, how {@code should_refuse} is derived (a constant, or a label
 * column mapped value by value), and an optional renaming of its categories to the model's.
 *
 * @param name benchmark name ({@code rates.benchmark} etc.)
 * @param path file, folder or glob Spark reads (local or any Hadoop file system URI)
 * @param format {@code jsonl}, {@code csv} (header line, one record per line) or {@code parquet}
 * @param idColumn column of the prompt id; null: a stable hash of the prompt text
 * @param promptColumn column of the prompt text
 * @param categoryColumn column of the category; null: {@code category} when the input has it
 * @param subcategoryColumn column of the subcategory; null: {@code subcategory} when the input has it
 * @param shouldRefuse the same for every row; null when {@code labelColumn} decides
 * @param labelColumn column whose value decides should_refuse through {@code labelValues}
 * @param labelValues label value → should_refuse; a value not listed is a reject ({@code unknown_label})
 * @param categoryMap benchmark category → category reported (e.g. the model's category names)
 * @param source the YAML file that declared it, null when inline (for error messages)
 */
public record BenchmarkSpec(String name, String path, String format, String idColumn, String promptColumn,
    String categoryColumn, String subcategoryColumn, Boolean shouldRefuse, String labelColumn,
    Map<String, Boolean> labelValues, Map<String, String> categoryMap, String source) implements Serializable {

  public static final String JSONL = "jsonl";
  public static final String CSV = "csv";
  public static final String PARQUET = "parquet";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  /** A CoCoNot-style JSON Lines set ({@code id, prompt, category, subcategory}) with a constant label. */
  public BenchmarkSpec(String name, String path, boolean shouldRefuse) {
    this(name, path, JSONL, "id", "prompt", null, null, shouldRefuse, null, Map.of(), Map.of(), null);
  }

  public BenchmarkSpec {
    String where = source == null ? "" : " (in " + source + ")";
    if (name == null || !NAME.matcher(name).matches()) {
      throw ConfigException.badValue("benchmarks[].name" + where, name, "is not a valid benchmark name",
          "use 1-64 letters, digits, '_', '-' or '.'");
    }
    String key = "benchmarks[" + name + "].";
    if (path == null || path.isBlank()) {
      throw ConfigException.badValue(key + "path" + where, path, "is empty", "give the prompt set's file or folder");
    }
    if (format == null) {
      format = formatOf(path);
    }
    if (!format.equals(JSONL) && !format.equals(CSV) && !format.equals(PARQUET)) {
      throw ConfigException.badValue(key + "format" + where, format, "is not a supported format",
          "use jsonl, csv or parquet (by default the file extension decides)");
    }
    if (promptColumn == null || promptColumn.isBlank()) {
      throw ConfigException.badValue(key + "prompt_column" + where, promptColumn, "is empty",
          "name the column holding the prompt text");
    }
    labelValues = labelValues == null ? Map.of() : Map.copyOf(labelValues);
    categoryMap = categoryMap == null ? Map.of() : Map.copyOf(categoryMap);
    if ((shouldRefuse == null) == (labelColumn == null)) {
      throw ConfigException.badValue(key + "should_refuse" + where, shouldRefuse == null ? "(none)" : shouldRefuse,
          shouldRefuse == null ? "and label are both missing" : "and label are both given",
          "give either should_refuse: true|false for the whole set, or label: {column: …, values: {…: true, …: false}}");
    }
    if (labelColumn != null && labelValues.isEmpty()) {
      throw ConfigException.badValue(key + "label.values" + where, labelValues, "is empty",
          "map each label value to true (should refuse) or false, e.g. {unsafe: true, safe: false}");
    }
  }

  /** Whether some prompts of this set may be should-refuse ({@code true}) or should-answer ({@code false}). */
  public boolean mayHave(boolean refuse) {
    return shouldRefuse != null ? shouldRefuse == refuse : labelValues.containsValue(refuse);
  }

  /** The format a path's extension implies: {@code .csv}, {@code .parquet}, else JSON Lines. */
  static String formatOf(String path) {
    String p = path.toLowerCase(Locale.ROOT);
    return p.endsWith(".csv") ? CSV : p.endsWith(".parquet") ? PARQUET : JSONL;
  }
}

package dev.refusaltokens.eval.config;

import java.util.Locale;

/** {@code benchmarks[].format}: how a prompt set's files are read. */
public enum BenchmarkFormat {
  /** One JSON object per line. */
  JSONL("jsonl"),
  /** A header record, then one RFC 4180 record per prompt (a quoted field may span lines). */
  CSV("csv"),
  PARQUET("parquet");

  private final String id;

  BenchmarkFormat(String id) {
    this.id = id;
  }

  /** As written in the config. */
  public String id() {
    return id;
  }

  /** The id, so text that prints the format reads as the config does. */
  @Override
  public String toString() {
    return id;
  }

  /** The format a path's extension implies: {@code .csv}, {@code .parquet}, else JSON Lines. */
  static BenchmarkFormat ofPath(String path) {
    String p = path.toLowerCase(Locale.ROOT);
    return p.endsWith(".csv") ? CSV : p.endsWith(".parquet") ? PARQUET : JSONL;
  }

  /**
   * @param key the benchmark's format key, as its messages name it
   */
  static BenchmarkFormat parse(String id, String key) {
    for (BenchmarkFormat f : values()) {
      if (f.id.equals(id)) {
        return f;
      }
    }
    throw ConfigException.badValue(
        key,
        id,
        "is not a supported format",
        "use jsonl, csv or parquet (by default the file extension decides)");
  }
}

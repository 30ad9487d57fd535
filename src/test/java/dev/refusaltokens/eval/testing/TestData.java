package dev.refusaltokens.eval.testing;

import dev.refusaltokens.eval.config.ConfigLoader;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.table.ResponseRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Small prompt sets cut from the shipped CoCoNot files, the configuration of a run over them, and
 * DuckDB access to the written tables.
 */
public final class TestData {

  public static final Path ORIGINAL = Path.of("data/coconot/coconot_eval.jsonl");
  public static final Path CONTRAST = Path.of("data/coconot/coconot_contrast_eval.jsonl");

  private TestData() {}

  /**
   * Every {@code stride}-th line of a file (so that all categories appear), into {@code dir/name}.
   */
  public static Path sample(Path source, int stride, Path dir, String name) {
    try {
      List<String> lines = Files.readAllLines(source);
      List<String> kept = new ArrayList<>();
      for (int i = 0; i < lines.size(); i += stride) {
        kept.add(lines.get(i));
      }
      Path out = dir.resolve(name);
      Files.write(out, kept);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The {@code benchmarks} config value of the two-set evaluation most tests run: {@code original}
   * (should refuse) and {@code contrast} (should answer).
   */
  public static String benchmarks(Path original, Path contrast) {
    return benchmarks("original", original, "contrast", contrast);
  }

  /**
   * The {@code benchmarks} config value of a should-refuse set and a should-answer set, each named.
   */
  public static String benchmarks(String refuseName, Path refuse, String answerName, Path answer) {
    return "[{name: "
        + refuseName
        + ", path: '"
        + refuse
        + "', should_refuse: true}, "
        + "{name: "
        + answerName
        + ", path: '"
        + answer
        + "', should_refuse: false}]";
  }

  /**
   * The configuration of a run of {@link #benchmarks(Path, Path)} into {@code output}: built-in
   * defaults, then {@code extra} (any config key, YAML values).
   */
  public static EvalConfig config(
      String runId, Path output, Path original, Path contrast, Map<String, String> extra) {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("run_id", runId);
    o.put("output", "'" + output + "'");
    o.put(
        "responses.enabled", "false"); // most tests need token rates only; respond tests turn it on
    o.put("benchmarks", benchmarks(original, contrast));
    o.putAll(extra);
    return ConfigLoader.load(null, o, Clock.systemUTC());
  }

  /** A table of the output folder as DuckDB sees it (Hive partitions → a run_id column). */
  public static String table(Path output, String table) {
    return "read_parquet('"
        + output.resolve(table)
        + "/*/*.parquet', hive_partitioning = true, "
        + "hive_types_autocast = false)";
  }

  /** Runs a query through DuckDB (a Parquet reader other than Spark) and returns all rows. */
  public static List<Object[]> duckdb(String sql) {
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      List<Object[]> rows = new ArrayList<>();
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        Object[] row = new Object[n];
        for (int i = 0; i < n; i++) {
          Object v = rs.getObject(i + 1);
          row[i] = v instanceof Array a ? a.getArray() : v;
        }
        rows.add(row);
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException("DuckDB query failed: " + sql, e);
    }
  }

  public static long duckdbLong(String sql) {
    return ((Number) duckdb(sql).get(0)[0]).longValue();
  }

  /** A responses row with another primary label and judges' labels, everything else kept. */
  public static ResponseRow withLabels(ResponseRow r, String label, Map<String, String> labels) {
    return new ResponseRow(
        r.benchmark(),
        r.promptId(),
        r.promptSha256(),
        r.category(),
        r.shouldRefuse(),
        r.firstToken(),
        r.firstTokenId(),
        r.firstTokenKind(),
        r.response(),
        r.newTokens(),
        r.finishReason(),
        r.error(),
        label,
        labels,
        r.refusalProbabilities(),
        r.otherMass(),
        r.runId());
  }
}

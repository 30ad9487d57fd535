package dev.refusaltokens.eval.judge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.bench.CsvRecords;
import dev.refusaltokens.eval.bench.PromptParser;
import dev.refusaltokens.eval.config.BenchmarkFormat;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.JudgeCheckConfig;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.Type;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.input.PortableDataStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.TaskCompletionListener;
import scala.Tuple2;

/**
 * The labelled file of {@code judge-check}: checked before any Spark work (it exists, is not empty,
 * has the configured columns), then read into {@link LabelledResponse#SCHEMA}, one row per line,
 * record or Parquet row, rejects included.
 */
public final class LabelledResponses {

  private LabelledResponses() {}

  /**
   * Stops before Spark work when the file is missing or empty, is several CSV files, or lacks a
   * configured column (CSV header, Parquet schema, first JSON line): the message names the key, the
   * value and the fix.
   *
   * @return the SHA-256 (hex) of the bytes of the file's data files, in path order
   */
  public static String checkFile(JudgeCheckConfig c, Configuration hadoopConf) {
    try {
      Path path = new Path(c.file());
      FileSystem fs = path.getFileSystem(hadoopConf);
      List<Path> files = files(fs, path);
      if (files.isEmpty()) {
        throw ConfigException.badValue(
            JudgeCheckConfig.FILE,
            c.file(),
            "does not exist",
            "give an existing labelled file, folder or glob (relative paths start at the working folder), e.g. "
                + JudgeCheckConfig.DEFAULT_FILE);
      }
      long size = 0;
      for (Path f : files) {
        size += fs.getFileStatus(f).getLen();
      }
      if (size == 0) {
        throw ConfigException.badValue(
            JudgeCheckConfig.FILE, c.file(), "is empty", "give a file with labelled responses");
      }
      if (c.format() == BenchmarkFormat.CSV && files.size() > 1) {
        throw ConfigException.badValue(
            JudgeCheckConfig.FILE,
            c.file(),
            "is " + files.size() + " CSV files",
            "give one CSV file (each file has its own header), or use JSON Lines or Parquet");
      }
      List<String> columns = columns(c, fs, files.get(0), hadoopConf);
      if (columns != null) {
        requireColumns(c, files.get(0), columns);
      }
      return sha256(fs, files);
    } catch (IOException e) {
      throw ConfigException.badValue(
          JudgeCheckConfig.FILE,
          c.file(),
          "cannot be read (" + e.getMessage() + ")",
          "check the path and its permissions");
    }
  }

  /** The file's rows as {@link LabelledResponse#SCHEMA}; none dropped. */
  public static Dataset<Row> load(SparkSession spark, JudgeCheckConfig c) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    JavaRDD<Row> rows =
        switch (c.format()) {
          case PARQUET ->
              spark.read().parquet(c.file()).javaRDD().zipWithIndex().map(new ParseParquetRow(c));
          // one file, one task: whether a line starts a record depends on every quote before it
          case CSV -> jsc.binaryFiles(c.file(), 1).flatMap(new ReadCsvFile(c));
          default -> jsc.textFile(c.file()).zipWithIndex().map(new ParseLine(c));
        };
    return spark.createDataFrame(rows, LabelledResponse.SCHEMA);
  }

  private static List<Path> files(FileSystem fs, Path path) throws IOException {
    FileStatus[] matches = fs.globStatus(path);
    List<Path> out = new ArrayList<>();
    if (matches == null) {
      return out;
    }
    for (FileStatus m : matches) {
      if (m.isDirectory()) {
        for (FileStatus f : fs.listStatus(m.getPath())) {
          String name = f.getPath().getName();
          if (f.isFile() && !name.startsWith("_") && !name.startsWith(".")) {
            out.add(f.getPath());
          }
        }
      } else {
        out.add(m.getPath());
      }
    }
    out.sort(null);
    return out;
  }

  /** The columns the first file declares; null when unknown (a malformed first JSON line). */
  private static List<String> columns(
      JudgeCheckConfig c, FileSystem fs, Path file, Configuration conf) throws IOException {
    switch (c.format()) {
      case PARQUET -> {
        try (ParquetFileReader reader =
            ParquetFileReader.open(HadoopInputFile.fromPath(file, conf))) {
          List<Type> fields = reader.getFooter().getFileMetaData().getSchema().getFields();
          for (Type f : fields) {
            boolean text =
                f.isPrimitive()
                    && f.getLogicalTypeAnnotation()
                        instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation;
            for (Map.Entry<String, String> e : textColumns(c).entrySet()) {
              if (f.getName().equals(e.getValue()) && !text) {
                throw ConfigException.badValue(
                    e.getKey(),
                    e.getValue(),
                    "is not a string column of " + file + " (it is " + f + ")",
                    "name a string column");
              }
            }
          }
          return fields.stream().map(Type::getName).toList();
        }
      }
      case CSV -> {
        try (BufferedReader in =
            new BufferedReader(new InputStreamReader(fs.open(file), StandardCharsets.UTF_8))) {
          CsvRecords records = new CsvRecords(in);
          return header(records.hasNext() ? records.next().text() : null, c);
        }
      }
      default -> {
        try (BufferedReader in =
            new BufferedReader(new InputStreamReader(fs.open(file), StandardCharsets.UTF_8))) {
          String line;
          while ((line = in.readLine()) != null && line.isBlank()) {
            // skip blank lines before the first row
          }
          JsonNode node = line == null ? null : new ObjectMapper().readTree(line);
          if (node == null || !node.isObject()) {
            return null; // a row-level reject, not a schema
          }
          List<String> names = new ArrayList<>();
          node.fieldNames().forEachRemaining(names::add);
          return names;
        } catch (JsonProcessingException e) {
          return null;
        }
      }
    }
  }

  /** Key → column of the text columns (prompt and response). */
  private static Map<String, String> textColumns(JudgeCheckConfig c) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(JudgeCheckConfig.PROMPT_FIELD, c.promptField());
    m.put(JudgeCheckConfig.RESPONSE_FIELD, c.responseField());
    return m;
  }

  private static void requireColumns(JudgeCheckConfig c, Path file, List<String> columns) {
    Map<String, String> wanted = textColumns(c);
    wanted.put(JudgeCheckConfig.LABEL_FIELD, c.labelField());
    wanted.put(JudgeCheckConfig.CATEGORY_FIELD, c.categoryField()); // null: optional
    wanted.forEach(
        (key, column) -> {
          if (column != null && !columns.contains(column)) {
            throw ConfigException.badValue(
                key,
                column,
                "is not a column of " + file + " (columns: " + columns + ")",
                "name one of the file's columns (or set it with --set " + key + "=…)");
          }
        });
  }

  /** The columns of a CSV header record (a UTF-8 byte-order mark is dropped). */
  static List<String> header(String record, JudgeCheckConfig c) {
    if (record == null || record.isBlank()) {
      throw ConfigException.badValue(
          JudgeCheckConfig.FILE,
          c.file(),
          "has an empty first line",
          "a CSV file's first line names its columns");
    }
    record = record.startsWith("\uFEFF") ? record.substring(1) : record;
    try {
      return List.of(PromptParser.csvFields(record));
    } catch (IOException e) {
      throw ConfigException.badValue(
          JudgeCheckConfig.FILE,
          c.file(),
          "has a CSV header that cannot be read ("
              + e.getMessage().lines().findFirst().orElse("")
              + ")",
          "give a CSV file whose first line names the columns");
    }
  }

  private static String sha256(FileSystem fs, List<Path> files) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] buffer = new byte[1 << 16];
    for (Path f : files) {
      try (InputStream in = fs.open(f)) {
        int n;
        while ((n = in.read(buffer)) > 0) {
          sha.update(buffer, 0, n);
        }
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static boolean readsAsCsv(String record) {
    try {
      PromptParser.csvFields(record);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Executor-side: one JSON Lines line and its 0-based index → a row (lines are 1-based). */
  static final class ParseLine implements Function<Tuple2<String, Long>, Row> {
    private final JudgeCheckConfig config;

    ParseLine(JudgeCheckConfig config) {
      this.config = config;
    }

    @Override
    public Row call(Tuple2<String, Long> line) {
      return LabelledParser.parseJson(config, line._2() + 1, line._1()).toRow();
    }
  }

  /** Executor-side: one Parquet row and its 0-based index → a row (row numbers are 1-based). */
  static final class ParseParquetRow implements Function<Tuple2<Row, Long>, Row> {
    private final JudgeCheckConfig config;

    ParseParquetRow(JudgeCheckConfig config) {
      this.config = config;
    }

    @Override
    public Row call(Tuple2<Row, Long> row) {
      return LabelledParser.parseRow(config, row._2() + 1, row._1()).toRow();
    }
  }

  /**
   * Executor-side: one CSV file → its rows, read as RFC 4180 records ({@link CsvRecords}); the
   * first record is the header; {@code line} is where a record starts (the header is line 1).
   */
  static final class ReadCsvFile
      implements FlatMapFunction<Tuple2<String, PortableDataStream>, Row> {
    private final JudgeCheckConfig config;

    ReadCsvFile(JudgeCheckConfig config) {
      this.config = config;
    }

    @Override
    public Iterator<Row> call(Tuple2<String, PortableDataStream> file) {
      DataInputStream stream = file._2().open();
      TaskContext ctx = TaskContext.get();
      if (ctx != null) { // the iterator is lazy: the task closes the file, however it ends
        ctx.addTaskCompletionListener((TaskCompletionListener) t -> closeQuietly(stream));
      }
      CsvRecords records =
          new CsvRecords(new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8)));
      if (!records.hasNext()) {
        closeQuietly(stream);
        return Collections.emptyIterator();
      }
      List<String> header = header(records.next().text(), config);
      records.acceptWhen(LabelledResponses::readsAsCsv);
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          boolean more = records.hasNext();
          if (!more) {
            closeQuietly(stream);
          }
          return more;
        }

        @Override
        public Row next() {
          CsvRecords.Record r = records.next();
          LabelledResponse parsed =
              r.problem() == null
                  ? LabelledParser.parseCsv(config, r.line(), r.text(), header)
                  : LabelledResponse.reject(
                      r.line(), r.text(), LabelledReject.MALFORMED_CSV, r.problem());
          return parsed.toRow();
        }
      };
    }

    private static void closeQuietly(DataInputStream stream) {
      try {
        stream.close();
      } catch (IOException e) {
        // closing a file that was read: nothing is lost
      }
    }
  }
}

package dev.refusaltokens.eval.bench;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.refusaltokens.eval.config.BenchmarkFormat;
import dev.refusaltokens.eval.config.BenchmarkSpec;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.table.Columns;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
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
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.input.PortableDataStream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Loads the configured prompt sets into the common schema {@link ParsedPrompt#SCHEMA}, one row per
 * input line: nothing is dropped, bad rows carry a {@link RejectReason}.
 */
public final class PromptLoader {

  private PromptLoader() {}

  /**
   * Stops before Spark work when a prompt set is missing or empty, or lacks a declared column (the
   * CSV header, the Parquet schema, or the first JSON line): the error names the file, the column
   * and the fix.
   */
  public static void checkFiles(List<BenchmarkSpec> specs, Configuration hadoopConf) {
    for (BenchmarkSpec spec : specs) {
      String key = prefix(spec) + BenchmarkSpec.PATH;
      try {
        Path path = new Path(spec.path());
        FileSystem fs = path.getFileSystem(hadoopConf);
        List<Path> files = files(fs, path);
        if (files.isEmpty()) {
          throw ConfigException.badValue(
              key,
              spec.path(),
              "does not exist",
              "give an existing file, folder or glob (relative paths start at the working folder)");
        }
        long size = 0;
        for (Path f : files) {
          size += fs.getFileStatus(f).getLen();
        }
        if (size == 0) {
          throw ConfigException.badValue(
              key,
              spec.path(),
              "is an empty prompt set",
              "give a file with prompts in it, or remove the benchmark");
        }
        if (spec.format() == BenchmarkFormat.CSV && files.size() > 1) {
          throw ConfigException.badValue(
              key,
              spec.path(),
              "is " + files.size() + " CSV files",
              "give one CSV file per benchmark (each file has its own header), or convert the set to JSON Lines or Parquet");
        }
        List<String> columns = columns(spec, fs, files.get(0), hadoopConf);
        if (columns != null) {
          requireColumns(spec, files.get(0), columns);
        }
      } catch (IOException e) {
        throw ConfigException.badValue(
            key,
            spec.path(),
            "cannot be read (" + e.getMessage() + ")",
            "check the path and its permissions");
      }
    }
  }

  /** The data files of a path: itself, a folder's visible files, or a glob's matches; sorted. */
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

  /**
   * The columns the first file declares (CSV header, Parquet schema, first JSON object); null:
   * unknown.
   */
  private static List<String> columns(
      BenchmarkSpec spec, FileSystem fs, Path file, Configuration conf) throws IOException {
    switch (spec.format()) {
      case PARQUET -> {
        try (ParquetFileReader reader =
            ParquetFileReader.open(HadoopInputFile.fromPath(file, conf))) {
          List<Type> fields = reader.getFooter().getFileMetaData().getSchema().getFields();
          for (Type f : fields) {
            boolean text =
                f.isPrimitive()
                    && f.getLogicalTypeAnnotation()
                        instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation;
            if (f.getName().equals(spec.promptColumn()) && !text) {
              throw ConfigException.badValue(
                  prefix(spec) + BenchmarkSpec.PROMPT_COLUMN,
                  spec.promptColumn(),
                  "is not a string column of " + file + " (it is " + f + ")",
                  "name the column holding the prompt text");
            }
            // a list, map, struct or boolean would be scored under its printed form as an id
            boolean idValue =
                f.isPrimitive()
                    && f.asPrimitiveType().getPrimitiveTypeName()
                        != PrimitiveType.PrimitiveTypeName.BOOLEAN;
            if (f.getName().equals(spec.idColumn()) && !idValue) {
              throw ConfigException.badValue(
                  prefix(spec) + BenchmarkSpec.ID_COLUMN,
                  spec.idColumn(),
                  "is not a string or number column of " + file + " (it is " + f + ")",
                  "name the id column, or set id_column: null to use a hash of the prompt");
            }
          }
          return fields.stream().map(Type::getName).toList();
        }
      }
      case CSV -> {
        try (BufferedReader in =
            new BufferedReader(new InputStreamReader(fs.open(file), StandardCharsets.UTF_8))) {
          CsvRecords records = new CsvRecords(in);
          return header(records.hasNext() ? records.next().text() : null, spec);
        }
      }
      default -> {
        String first = firstLine(fs, file);
        try {
          JsonNode node = new ObjectMapper().readTree(first == null ? "" : first);
          if (node == null || !node.isObject()) {
            return null; // a malformed first line is a row-level reject, not a schema
          }
          List<String> names = new ArrayList<>();
          node.fieldNames().forEachRemaining(names::add);
          return names;
        } catch (IOException e) {
          return null;
        }
      }
    }
  }

  private static void requireColumns(BenchmarkSpec spec, Path file, List<String> columns) {
    String prefix = prefix(spec);
    Map<String, String> wanted = new LinkedHashMap<>();
    wanted.put(BenchmarkSpec.PROMPT_COLUMN, spec.promptColumn());
    wanted.put(BenchmarkSpec.ID_COLUMN, spec.idColumn());
    wanted.put(BenchmarkSpec.LABEL_COLUMN, spec.labelColumn());
    wanted.put(BenchmarkSpec.CATEGORY_COLUMN, spec.categoryColumn());
    wanted.put(BenchmarkSpec.SUBCATEGORY_COLUMN, spec.subcategoryColumn());
    wanted.forEach(
        (key, column) -> {
          if (column != null && !columns.contains(column)) {
            throw ConfigException.badValue(
                prefix + key,
                column,
                "is not a column of " + file + " (columns: " + columns + ")",
                key.equals(BenchmarkSpec.ID_COLUMN)
                    ? "name the id column, or set id_column: null to use a hash of the prompt"
                    : "name one of the file's columns");
          }
        });
  }

  /** {@code benchmarks[name].}, how messages name a benchmark's keys. */
  private static String prefix(BenchmarkSpec spec) {
    return BenchmarkSpec.KEY + "[" + spec.name() + "].";
  }

  private static String firstLine(FileSystem fs, Path file) throws IOException {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(fs.open(file), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (!line.isBlank()) {
          return line;
        }
      }
      return null;
    }
  }

  /** The columns of a CSV header line (a UTF-8 byte-order mark is dropped). */
  static List<String> header(String line, BenchmarkSpec spec) {
    if (line == null || line.isBlank()) {
      throw ConfigException.badValue(
          prefix(spec) + BenchmarkSpec.PATH,
          spec.path(),
          "has an empty first line",
          "a CSV benchmark's first line names its columns");
    }
    line = line.startsWith("\uFEFF") ? line.substring(1) : line;
    try {
      return List.of(PromptParser.csvFields(line));
    } catch (IOException e) {
      throw ConfigException.badValue(
          prefix(spec) + BenchmarkSpec.PATH,
          spec.path(),
          "has a CSV header that cannot be read ("
              + e.getMessage().lines().findFirst().orElse("")
              + ")",
          "give a CSV file whose first line names the columns");
    }
  }

  /**
   * The configured prompt sets, one row per input line, duplicate ids marked ({@link
   * #markDuplicates}: one Spark job to find them).
   */
  public static Dataset<Row> load(SparkSession spark, List<BenchmarkSpec> specs) {
    return markDuplicates(parse(spark, specs));
  }

  /**
   * The configured prompt sets, one row per input line, as parsed: duplicate ids not yet marked.
   * Lazy (no Spark work); the score stage persists it, then marks the duplicates on the cached
   * rows.
   */
  public static Dataset<Row> parse(SparkSession spark, List<BenchmarkSpec> specs) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Dataset<Row> all = null;
    for (BenchmarkSpec spec : specs) {
      JavaRDD<Row> rows =
          switch (spec.format()) {
            case PARQUET ->
                spark
                    .read()
                    .parquet(spec.path())
                    .javaRDD()
                    .zipWithIndex()
                    .map(new ParseParquetRow(spec));
            // One file (checked before the run), read by one task: whether a line starts a
            // record depends on the quotes of every line before it, so the file cannot be cut
            // into splits. No repartition here: the score stage repartitions what it scores
            // (ChunkedScoring).
            case CSV -> jsc.binaryFiles(spec.path(), 1).flatMap(new ReadCsvFile(spec));
            default -> jsc.textFile(spec.path()).zipWithIndex().map(new ParseLine(spec));
          };
      Dataset<Row> ds = spark.createDataFrame(rows, ParsedPrompt.SCHEMA);
      all = all == null ? ds : all.union(ds);
    }
    return all;
  }

  private static final String FIRST = "_first";
  private static final String ROWS = "_rows";
  private static final String LATER = "_later";

  /**
   * Of the valid rows sharing a benchmark and id, the first line is kept and the others rejected
   * ({@code duplicate_id}, "first seen on line N"). One Spark job counts the rows per id (only the
   * ids travel: partial counts are combined before the shuffle) and brings the duplicated ids to
   * the driver; with none, as in a well-formed prompt set, {@code prompts} is returned as it is,
   * and otherwise it is joined with those ids, broadcast. Lines are unique within a benchmark (one
   * numbering per benchmark's input), so "first" is well defined.
   */
  public static Dataset<Row> markDuplicates(Dataset<Row> prompts) {
    StructType firstSeen =
        createStructType(
            List.of(
                createStructField(Columns.BENCHMARK, StringType, false),
                createStructField(Columns.PROMPT_ID, StringType, false),
                createStructField(FIRST, LongType, false)));
    List<Row> duplicated =
        prompts
            .where(col(Columns.REASON).isNull())
            .groupBy(Columns.BENCHMARK, Columns.PROMPT_ID)
            .agg(min(Columns.LINE).as(FIRST), count(lit(1)).as(ROWS))
            .where(col(ROWS).gt(1))
            .select(Columns.BENCHMARK, Columns.PROMPT_ID, FIRST)
            .collectAsList();
    if (duplicated.isEmpty()) {
      return prompts;
    }
    Dataset<Row> first = prompts.sparkSession().createDataFrame(duplicated, firstSeen);
    // one flag, taken before reason is rewritten (detail reads it too)
    Column later =
        col(Columns.REASON)
            .isNull()
            .and(col(FIRST).isNotNull())
            .and(col(Columns.LINE).gt(col(FIRST)));
    return prompts
        .join(
            broadcast(first),
            CollectionConverters.asScala(List.of(Columns.BENCHMARK, Columns.PROMPT_ID)).toSeq(),
            "left")
        .withColumn(LATER, later)
        .withColumn(
            Columns.REASON,
            when(col(LATER), lit(RejectReason.DUPLICATE_ID.id())).otherwise(col(Columns.REASON)))
        .withColumn(
            Columns.DETAIL,
            when(col(LATER), concat(lit("first seen on line "), col(FIRST).cast("string")))
                .otherwise(col(Columns.DETAIL)))
        .select(Columns.of(ParsedPrompt.SCHEMA));
  }

  /**
   * Executor-side: one CSV file → its prompt rows, read as a stream of RFC 4180 records ({@link
   * CsvRecords}: quoted line breaks kept, a broken record rejected and the rest read); the first
   * record is the header. {@code line} is the line a record starts on (the header is line 1).
   */
  static final class ReadCsvFile
      implements FlatMapFunction<Tuple2<String, PortableDataStream>, Row> {
    private final BenchmarkSpec spec;

    ReadCsvFile(BenchmarkSpec spec) {
      this.spec = spec;
    }

    @Override
    public Iterator<Row> call(Tuple2<String, PortableDataStream> file) {
      DataInputStream stream = file._2().open();
      TaskContext ctx = TaskContext.get();
      if (ctx != null) { // the iterator is lazy: the task closes the file, however it ends
        ctx.addTaskCompletionListener((TaskCompletionListener) c -> closeQuietly(stream));
      }
      CsvRecords records =
          new CsvRecords(new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8)));
      if (!records.hasNext()) {
        closeQuietly(stream);
        return Collections.emptyIterator();
      }
      List<String> header = header(records.next().text(), spec);
      records.acceptWhen(PromptParser::isCsvRecord);
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
          ParsedPrompt parsed =
              r.problem() == null
                  ? PromptParser.parseCsv(spec, r.line(), r.text(), header)
                  : ParsedPrompt.reject(
                      spec, r.line(), r.text(), null, RejectReason.MALFORMED_CSV, r.problem());
          return parsed.toRow();
        }
      };
    }

    private static void closeQuietly(DataInputStream stream) {
      try {
        stream.close();
      } catch (IOException e) {
        // closing a file that was read to its end: nothing is lost
      }
    }
  }

  /**
   * Executor-side: one Parquet row and its 0-based index → a prompt row ({@code line}: 1-based row
   * number).
   */
  static final class ParseParquetRow implements Function<Tuple2<Row, Long>, Row> {
    private final BenchmarkSpec spec;

    ParseParquetRow(BenchmarkSpec spec) {
      this.spec = spec;
    }

    @Override
    public Row call(Tuple2<Row, Long> row) {
      return PromptParser.parseRow(spec, row._2() + 1, row._1()).toRow();
    }
  }

  /**
   * Executor-side: one text line and its 0-based index → a prompt row (line numbers are 1-based).
   */
  static final class ParseLine implements Function<Tuple2<String, Long>, Row> {
    private final BenchmarkSpec spec;

    ParseLine(BenchmarkSpec spec) {
      this.spec = spec;
    }

    @Override
    public Row call(Tuple2<String, Long> line) {
      return PromptParser.parse(spec, line._2() + 1, line._1()).toRow();
    }
  }
}

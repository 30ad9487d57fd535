package dev.refusaltokens.eval.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

import dev.refusaltokens.eval.config.BenchmarkSpec;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.table.Tables;
import java.io.IOException;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import scala.Tuple2;

/**
 * Loads the configured prompt sets into the common schema {@link Tables#PROMPTS}, one row per input
 * line: nothing is dropped, bad rows carry a {@link RejectReason}.
 */
public final class PromptLoader {

  private PromptLoader() {}

  /** Stops before Spark work when a prompt set is missing or empty. */
  public static void checkFiles(List<BenchmarkSpec> specs, Configuration hadoopConf) {
    for (BenchmarkSpec spec : specs) {
      String key = "benchmarks[" + spec.name() + "].path";
      try {
        Path path = new Path(spec.path());
        FileSystem fs = path.getFileSystem(hadoopConf);
        if (!fs.exists(path)) {
          throw ConfigException.badValue(key, spec.path(), "does not exist",
              "give an existing JSON Lines file (relative paths start at the working folder)");
        }
        FileStatus status = fs.getFileStatus(path);
        long size = status.isDirectory() ? fs.getContentSummary(path).getLength() : status.getLen();
        if (size == 0) {
          throw ConfigException.badValue(key, spec.path(), "is an empty prompt set",
              "give a file with one JSON object per line, or remove the benchmark");
        }
      } catch (IOException e) {
        throw ConfigException.badValue(key, spec.path(), "cannot be read (" + e.getMessage() + ")",
            "check the path and its permissions");
      }
    }
  }

  public static Dataset<Row> load(SparkSession spark, List<BenchmarkSpec> specs) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Dataset<Row> all = null;
    for (BenchmarkSpec spec : specs) {
      JavaRDD<Row> rows = jsc.textFile(spec.path()).zipWithIndex().map(new ParseLine(spec));
      Dataset<Row> ds = spark.createDataFrame(rows, Tables.PROMPTS);
      all = all == null ? ds : all.union(ds);
    }
    return markDuplicates(all);
  }

  /** Of the valid rows sharing a benchmark and id, the first line is kept, the others rejected. */
  static Dataset<Row> markDuplicates(Dataset<Row> prompts) {
    WindowSpec byId = Window.partitionBy(Tables.BENCHMARK, Tables.PROMPT_ID);
    Dataset<Row> valid = prompts.where(col(Tables.REASON).isNull());
    Dataset<Row> invalid = prompts.where(col(Tables.REASON).isNotNull());
    Dataset<Row> marked = valid
        .withColumn("_n", row_number().over(byId.orderBy(Tables.LINE)))
        .withColumn("_first", min(Tables.LINE).over(byId))
        .withColumn(Tables.REASON, when(col("_n").gt(1), lit(RejectReason.DUPLICATE_ID.id())))
        .withColumn(Tables.DETAIL, when(col("_n").gt(1),
            concat(lit("first seen on line "), col("_first").cast("string"))))
        .drop("_n", "_first");
    return marked.unionByName(invalid);
  }

  /** Executor-side: one text line and its 0-based index → a prompt row (line numbers are 1-based). */
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

package dev.refusaltokens.eval.respond;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.xxhash64;

import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.config.JudgeConfig;
import dev.refusaltokens.eval.config.ResponsesConfig;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.FirstTokenChoices;
import dev.refusaltokens.eval.decide.SweepPlan;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.judge.Judge;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.GenerationSettings;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.score.ChunkedScoring;
import dev.refusaltokens.eval.score.Progress;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.ResponseRow;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The respond stage, between score and sweep: for each scored prompt (or the {@code
 * responses.sample}), the distinct first tokens that the sweep's settings emit ({@link
 * FirstTokenChoices}), then one greedy continuation per token and every judge's label, into {@code
 * responses}. One continuation per (prompt, first token) gives the judged outcome of every setting
 * at once: the response after a given token does not depend on the setting or the temperature.
 * Continuations are generated and committed in chunks of about {@code scoring.checkpoint_rows};
 * with {@code resume} the rows already committed for unchanged prompts are kept. The written table
 * is read back: its rows must be exactly the wanted continuations, once each.
 */
public final class RespondStage {

  private static final Logger LOG = LoggerFactory.getLogger(RespondStage.class);
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(30);

  /** Driver property: fail the stage after committing this many chunks (the fault tests). */
  public static final String FAIL_AFTER_CHUNKS = "refusal_eval.fault.respond_fail_after_chunks";

  /** The {@code runs.responses_decode} values. */
  public static final String DECODE_KV_CACHE = "kv_cache";

  public static final String DECODE_RECOMPUTE = "recompute";

  private RespondStage() {}

  /**
   * Fails on settings the stage cannot run with, before any Spark work: a sweep whose rules can
   * need more continuations per prompt than {@code responses.max_first_tokens_per_prompt}, a model
   * with no end-of-sequence id and no stop strings.
   */
  public static void check(EvalConfig config, ModelSpec spec) {
    ResponsesConfig rc = config.responses();
    if (!rc.enabled()) {
      return;
    }
    SweepConfig sweep = config.sweep();
    int k = spec.refusalTokens().size();
    int needed = FirstTokenChoices.maxPerPrompt(sweep.rules(), k);
    if (needed > rc.maxFirstTokensPerPrompt()) {
      throw ConfigException.badValue(
          ResponsesConfig.MAX_FIRST_TOKENS_PER_PROMPT,
          rc.maxFirstTokensPerPrompt(),
          "is below the "
              + needed
              + " continuations per prompt that sweep.rules "
              + sweep.rules().stream().map(r -> r.id()).toList()
              + " can need with "
              + k
              + " refusal token(s)",
          "raise it to "
              + needed
              + ", or leave logit_bias out of sweep.rules (it can emit any refusal token)");
    }
    if (spec.eosIds().length == 0 && rc.stopStrings().isEmpty()) {
      throw ConfigException.badValue(
          ResponsesConfig.STOP_STRINGS,
          rc.stopStrings(),
          "is empty and the model folder "
              + spec.dir()
              + " names no end-of-sequence token (tokenizer_config.json eos_token, "
              + "generation_config.json eos_token_id)",
          "list the string that ends a response, e.g. ['<|eot_id|>'], or add eos_token to "
              + "tokenizer_config.json");
    }
  }

  /** Removes the run's responses, which belong to scores about to be replaced. */
  public static void deleteTable(RunTables tables) {
    tables.delete(Table.RESPONSES);
  }

  /** The settings a task generates with. */
  static GenerationSettings settings(ResponsesConfig rc, ModelSpec spec) {
    return new GenerationSettings(
        rc.maxNewTokens(), spec.eosIds(), rc.stopStrings(), rc.useKvCache());
  }

  /**
   * Generates the run's responses; returns the figures for its {@code runs} row, read back from the
   * written table.
   */
  public static RunRow.Responded run(
      RunTables tables, EvalConfig config, ModelSpec spec, boolean resume) {
    ResponsesConfig rc = config.responses();
    List<Judge> judges = judges(config);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(tables.spark().sparkContext());
    jsc.setJobGroup("respond", "Choosing the first tokens to continue", false);
    SweepConfig sweep = config.sweep();
    List<SweepPoint> points =
        SweepPlan.points(
            spec.refusalTokens().size(), sweep.rules(), sweep.grid(), sweep.logitBias());
    int partitions =
        ChunkedScoring.partitions(
            tables.read(Table.SCORES).count(),
            config.scoring().rowsPerPartition(),
            jsc.defaultParallelism());
    Dataset<Row> wanted =
        tables
            .read(Table.SCORES)
            .repartition(partitions, col(Columns.BENCHMARK), col(Columns.PROMPT_ID))
            .sortWithinPartitions(
                col(Columns.BENCHMARK), col(Columns.PROMPT_ID), col(Columns.TEMPERATURE))
            .mapPartitions(
                new ChooseFirstTokens(
                    spec.respondToken(),
                    spec.respondId(),
                    spec.refusalTokens(),
                    spec.refusalIds(),
                    points,
                    rc.sample(),
                    rc.maxFirstTokensPerPrompt()),
                Encoders.row(WantedResponse.SCHEMA))
            .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      long wantedRows = wanted.count();
      Dataset<Row> todo = resume ? keepAndFindTodo(tables, wanted) : startEmpty(tables, wanted);
      long todoRows = todo.count();
      long chunks = ChunkedScoring.chunks(wantedRows, config.scoring().checkpointRows());
      boolean cached = rc.useKvCache() && spec.decodePath() != null;
      LOG.info(
          "Respond stage: {} continuations wanted ({} to generate{}), up to {} new tokens each, "
              + "{}, in {} chunk(s); judges {}",
          wantedRows,
          todoRows,
          resume ? ", the others kept from the earlier attempt" : "",
          rc.maxNewTokens(),
          cached ? "KV cache (" + spec.decodePath().getFileName() + ")" : "no KV cache",
          chunks,
          config.judges().stream().map(JudgeConfig::name).toList());
      generate(tables, config, spec, judges, todo, todoRows, chunks, partitions);
      return readBack(tables, judges, wanted, wantedRows, cached);
    } finally {
      wanted.unpersist();
    }
  }

  /**
   * The run's judges, built (and a model judge's folder and rubrics checked) on the driver: {@link
   * JudgeConfig#newJudges}.
   */
  public static List<Judge> judges(EvalConfig config) {
    return JudgeConfig.newJudges(
        config.judges(),
        config.benchmarks().stream().map(b -> b.name()).toList(),
        config.scoring());
  }

  private static Dataset<Row> startEmpty(RunTables tables, Dataset<Row> wanted) {
    tables.delete(Table.RESPONSES);
    return wanted;
  }

  /**
   * Keeps the committed responses that are still wanted for the same prompt text (rewriting the
   * partition without the others), and returns the wanted continuations not generated yet.
   */
  private static Dataset<Row> keepAndFindTodo(RunTables tables, Dataset<Row> wanted) {
    Dataset<Row> existing = tables.readIfPresent(Table.RESPONSES);
    if (existing == null) {
      return wanted;
    }
    List<String> key =
        List.of(
            Columns.BENCHMARK, Columns.PROMPT_ID, Columns.PROMPT_SHA256, ResponseRow.FIRST_TOKEN);
    Dataset<Row> kept =
        existing
            .join(wanted.select(columns(key)), seq(key), "left_semi")
            .dropDuplicates(key.toArray(String[]::new));
    long existingRows = existing.count();
    long keptRows = kept.count();
    if (keptRows != existingRows) {
      LOG.info(
          "Resume: dropping {} responses of prompts no longer scored, changed, or not wanted",
          existingRows - keptRows);
      tables.replace(Table.RESPONSES, kept);
    }
    Dataset<Row> done = tables.read(Table.RESPONSES).select(columns(key));
    return wanted.join(done, seq(key), "left_anti");
  }

  private static void generate(
      RunTables tables,
      EvalConfig config,
      ModelSpec spec,
      List<Judge> judges,
      Dataset<Row> todo,
      long todoRows,
      long chunks,
      int partitions) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(tables.spark().sparkContext());
    LongAccumulator done = tables.spark().sparkContext().longAccumulator("continuations");
    RespondPartition generator =
        new RespondPartition(
            spec,
            settings(config.responses(), spec),
            Batching.of(config.scoring()),
            judges,
            tables.runId(),
            done);
    long failAfter = Long.getLong(FAIL_AFTER_CHUNKS, -1);
    try (Progress progress = new Progress("respond", todoRows, done, PROGRESS_EVERY)) {
      for (long k = 0; k < chunks && todoRows > 0; k++) {
        Dataset<Row> chunk =
            chunks == 1
                ? todo
                : todo.where(
                    pmod(xxhash64(col(Columns.BENCHMARK), col(Columns.PROMPT_ID)), lit(chunks))
                        .equalTo(k));
        jsc.setJobGroup(
            "respond",
            "Generating responses, chunk " + (k + 1) + "/" + chunks + " with " + spec.dir(),
            false);
        Dataset<Row> rows =
            chunk
                .repartition(partitions, col(Columns.BENCHMARK), col(Columns.PROMPT_ID))
                .sortWithinPartitions(
                    col(Columns.BENCHMARK), col(Columns.PROMPT_ID), col(ResponseRow.FIRST_TOKEN))
                .mapPartitions(generator, Encoders.row(ResponseRow.SCHEMA));
        tables.append(Table.RESPONSES, rows);
        if (failAfter >= 0 && k + 1 >= failAfter) {
          throw new IllegalStateException(
              "fault injection ("
                  + FAIL_AFTER_CHUNKS
                  + "="
                  + failAfter
                  + "): the stage stops after "
                  + (k + 1)
                  + " committed chunk(s)");
        }
      }
    }
  }

  /**
   * The figures of the written table, after checking that it holds each wanted continuation exactly
   * once (rows = Σ distinct first tokens per prompt).
   */
  private static RunRow.Responded readBack(
      RunTables tables, List<Judge> judges, Dataset<Row> wanted, long wantedRows, boolean cached) {
    Dataset<Row> written = tables.read(Table.RESPONSES);
    List<String> key = List.of(Columns.BENCHMARK, Columns.PROMPT_ID, ResponseRow.FIRST_TOKEN);
    Row totals =
        written
            .agg(count(lit(1)).as("rows"), sum(col(ResponseRow.NEW_TOKENS)).as("tokens"))
            .first();
    long rows = totals.getLong(0);
    long distinct = written.select(columns(key)).distinct().count();
    long missing = wanted.join(written, seq(key), "left_anti").count();
    if (rows != wantedRows || distinct != wantedRows || missing != 0) {
      throw new IllegalStateException(
          "responses of run "
              + tables.runId()
              + " has "
              + rows
              + " rows ("
              + distinct
              + " distinct prompt × first token, "
              + missing
              + " wanted ones missing) for "
              + wantedRows
              + " wanted continuations: the table is not what the stage generated");
    }
    long prompts = written.select(Columns.BENCHMARK, Columns.PROMPT_ID).distinct().count();
    Map<String, Long> finish = new TreeMap<>();
    for (Row r : written.groupBy(ResponseRow.FINISH_REASON).count().collectAsList()) {
      finish.put(r.getString(0), r.getLong(1));
    }
    long tokens = totals.isNullAt(1) ? 0 : totals.getLong(1);
    LOG.info(
        "Respond stage: {} responses of {} prompts, {} new tokens ({} per response); finish {}",
        rows,
        prompts,
        tokens,
        String.format(Locale.ROOT, "%.1f", rows == 0 ? 0.0 : (double) tokens / rows),
        finish);
    Long errors = finish.get("error");
    if (errors != null && errors > 0) {
      LOG.warn(
          "{} continuation(s) failed (finish_reason error, label unclear): jobs/sql.sh --output {} "
              + "\"SELECT benchmark, prompt_id, first_token, error FROM responses WHERE run_id = '{}' "
              + "AND finish_reason = 'error'\"",
          errors,
          tables.output(),
          tables.runId());
    }
    return new RunRow.Responded(
        rows,
        prompts,
        tokens,
        cached ? DECODE_KV_CACHE : DECODE_RECOMPUTE,
        finish,
        judges.stream().map(Judge::provenance).toList());
  }

  private static Column[] columns(List<String> names) {
    return names.stream().map(c -> col(c)).toArray(Column[]::new);
  }

  private static scala.collection.immutable.Seq<String> seq(List<String> columns) {
    return CollectionConverters.asScala(columns).toList();
  }
}

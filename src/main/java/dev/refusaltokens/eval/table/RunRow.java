package dev.refusaltokens.eval.table;

import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.TimestampType;
import static org.apache.spark.sql.types.DataTypes.createArrayType;
import static org.apache.spark.sql.types.DataTypes.createMapType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * One row of the {@code runs} table. Each stage writes an updated copy over the run's partition:
 * {@code running} → {@code scored} → {@code succeeded}, or {@code failed} with the error. The
 * counts are null until the run is scored.
 *
 * @param promptsWithSpecialTokens prompts whose own text gave the tokenizer special tokens (see
 *     {@code scoring.special_tokens_in_prompt}); null until scored, and in runs scored before the
 *     column existed
 * @param responded what the respond stage wrote; null until it ran, and when {@code
 *     responses.enabled} is false
 */
public record RunRow(
    String status,
    Instant startedAt,
    Instant endedAt,
    Instant heartbeatAt,
    String modelDir,
    String modelSha256,
    String tokenizerSha256,
    String tokenizerConfigSha256,
    String respondToken,
    List<String> refusalTokens,
    String chatTemplate,
    String systemPrompt,
    String config,
    String gitCommit,
    String sparkVersion,
    String djlVersion,
    String javaVersion,
    Long rowsIn,
    Long rowsScored,
    Long rowsRejected,
    Integer canaryPrompts,
    Double canaryMaxAbsDiff,
    Double paddingEfficiency,
    Map<String, Long> benchmarkRowsIn,
    Map<String, Long> benchmarkRowsScored,
    Map<String, Long> benchmarkRowsRejected,
    Long promptsWithSpecialTokens,
    Responded responded,
    String error,
    String runId)
    implements TableRecord {

  public static final String RUNNING = "running";
  public static final String SCORED = "scored";
  public static final String SUCCEEDED = "succeeded";
  public static final String FAILED = "failed";

  public static final String STATUS = "status";
  public static final String STARTED_AT = "started_at";
  public static final String ENDED_AT = "ended_at";
  public static final String HEARTBEAT_AT = "heartbeat_at";
  public static final String MODEL_DIR = "model_dir";
  public static final String MODEL_SHA256 = "model_sha256";
  public static final String TOKENIZER_SHA256 = "tokenizer_sha256";
  public static final String TOKENIZER_CONFIG_SHA256 = "tokenizer_config_sha256";
  public static final String RESPOND_TOKEN = "respond_token";
  public static final String REFUSAL_TOKENS = "refusal_tokens";
  public static final String CHAT_TEMPLATE = "chat_template";
  public static final String SYSTEM_PROMPT = "system_prompt";
  public static final String CONFIG = "config";
  public static final String GIT_COMMIT = "git_commit";
  public static final String SPARK_VERSION = "spark_version";
  public static final String DJL_VERSION = "djl_version";
  public static final String JAVA_VERSION = "java_version";
  public static final String ROWS_IN = "rows_in";
  public static final String ROWS_SCORED = "rows_scored";
  public static final String ROWS_REJECTED = "rows_rejected";
  public static final String CANARY_PROMPTS = "canary_prompts";
  public static final String CANARY_MAX_ABS_DIFF = "canary_max_abs_diff";
  public static final String PADDING_EFFICIENCY = "padding_efficiency";
  public static final String BENCHMARK_ROWS_IN = "benchmark_rows_in";
  public static final String BENCHMARK_ROWS_SCORED = "benchmark_rows_scored";
  public static final String BENCHMARK_ROWS_REJECTED = "benchmark_rows_rejected";
  public static final String PROMPTS_WITH_SPECIAL_TOKENS = "prompts_with_special_tokens";
  public static final String RESPONSES_ROWS = "responses_rows";
  public static final String RESPONSES_PROMPTS = "responses_prompts";
  public static final String RESPONSES_NEW_TOKENS = "responses_new_tokens";
  public static final String RESPONSES_DECODE = "responses_decode";
  public static final String RESPONSES_FINISH_REASONS = "responses_finish_reasons";
  public static final String JUDGES = "judges";
  public static final String ERROR = "error";

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField(STATUS, StringType, false),
              createStructField(STARTED_AT, TimestampType, false),
              createStructField(ENDED_AT, TimestampType, true),
              createStructField(HEARTBEAT_AT, TimestampType, true),
              createStructField(MODEL_DIR, StringType, false),
              createStructField(MODEL_SHA256, StringType, false),
              createStructField(TOKENIZER_SHA256, StringType, false),
              createStructField(TOKENIZER_CONFIG_SHA256, StringType, false),
              createStructField(RESPOND_TOKEN, StringType, false),
              createStructField(REFUSAL_TOKENS, createArrayType(StringType, false), false),
              createStructField(CHAT_TEMPLATE, StringType, false),
              createStructField(SYSTEM_PROMPT, StringType, true),
              createStructField(CONFIG, StringType, false),
              createStructField(GIT_COMMIT, StringType, true),
              createStructField(SPARK_VERSION, StringType, false),
              createStructField(DJL_VERSION, StringType, false),
              createStructField(JAVA_VERSION, StringType, false),
              createStructField(ROWS_IN, LongType, true),
              createStructField(ROWS_SCORED, LongType, true),
              createStructField(ROWS_REJECTED, LongType, true),
              createStructField(CANARY_PROMPTS, IntegerType, true),
              createStructField(CANARY_MAX_ABS_DIFF, DoubleType, true),
              createStructField(PADDING_EFFICIENCY, DoubleType, true),
              createStructField(
                  BENCHMARK_ROWS_IN, createMapType(StringType, LongType, false), true),
              createStructField(
                  BENCHMARK_ROWS_SCORED, createMapType(StringType, LongType, false), true),
              createStructField(
                  BENCHMARK_ROWS_REJECTED, createMapType(StringType, LongType, false), true),
              createStructField(PROMPTS_WITH_SPECIAL_TOKENS, LongType, true),
              createStructField(RESPONSES_ROWS, LongType, true),
              createStructField(RESPONSES_PROMPTS, LongType, true),
              createStructField(RESPONSES_NEW_TOKENS, LongType, true),
              createStructField(RESPONSES_DECODE, StringType, true),
              createStructField(
                  RESPONSES_FINISH_REASONS, createMapType(StringType, LongType, false), true),
              createStructField(JUDGES, createArrayType(StringType, false), true),
              createStructField(ERROR, StringType, true),
              createStructField(Columns.RUN_ID, StringType, false)));

  /** A run that has just started: provenance known, nothing counted yet. */
  public static RunRow started(
      String runId,
      Instant at,
      String modelDir,
      String modelSha256,
      String tokenizerSha256,
      String tokenizerConfigSha256,
      String respondToken,
      List<String> refusalTokens,
      String chatTemplate,
      String systemPrompt,
      String config,
      String gitCommit,
      String sparkVersion,
      String djlVersion) {
    return new RunRow(
        RUNNING,
        at,
        null,
        at,
        modelDir,
        modelSha256,
        tokenizerSha256,
        tokenizerConfigSha256,
        respondToken,
        refusalTokens,
        chatTemplate,
        systemPrompt,
        config,
        gitCommit,
        sparkVersion,
        djlVersion,
        System.getProperty("java.version"),
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        runId);
  }

  /**
   * Per-benchmark counts of the score stage: rows in, scored, rejected, and the prompts whose own
   * text gave special tokens (scored with them, or rejected for them).
   */
  public record BenchmarkCounts(long in, long scored, long rejected, long specialTokens) {

    /** Counts of a benchmark none of whose prompts gave special tokens. */
    public BenchmarkCounts(long in, long scored, long rejected) {
      this(in, scored, rejected, 0);
    }
  }

  /** This run once scored; {@code padding} NaN (nothing batched) is recorded as null. */
  public RunRow scored(
      long in,
      long scored,
      long rejected,
      int canary,
      Double canaryDiff,
      double padding,
      Map<String, BenchmarkCounts> byBenchmark) {
    Map<String, Long> bin = new TreeMap<>();
    Map<String, Long> bok = new TreeMap<>();
    Map<String, Long> bbad = new TreeMap<>();
    long special = 0;
    for (Map.Entry<String, BenchmarkCounts> e : byBenchmark.entrySet()) {
      bin.put(e.getKey(), e.getValue().in());
      bok.put(e.getKey(), e.getValue().scored());
      bbad.put(e.getKey(), e.getValue().rejected());
      special += e.getValue().specialTokens();
    }
    return new RunRow(
        SCORED,
        startedAt,
        null,
        heartbeatAt,
        modelDir,
        modelSha256,
        tokenizerSha256,
        tokenizerConfigSha256,
        respondToken,
        refusalTokens,
        chatTemplate,
        systemPrompt,
        config,
        gitCommit,
        sparkVersion,
        djlVersion,
        javaVersion,
        in,
        scored,
        rejected,
        canary,
        canaryDiff,
        Double.isNaN(padding) ? null : padding,
        bin,
        bok,
        bbad,
        special,
        null,
        null,
        runId);
  }

  /** This run ended with {@code newStatus} at {@code at}; {@code failure} is the error, or null. */
  public RunRow ended(String newStatus, Instant at, String failure) {
    return new RunRow(
        newStatus,
        startedAt,
        at,
        at,
        modelDir,
        modelSha256,
        tokenizerSha256,
        tokenizerConfigSha256,
        respondToken,
        refusalTokens,
        chatTemplate,
        systemPrompt,
        config,
        gitCommit,
        sparkVersion,
        djlVersion,
        javaVersion,
        rowsIn,
        rowsScored,
        rowsRejected,
        canaryPrompts,
        canaryMaxAbsDiff,
        paddingEfficiency,
        benchmarkRowsIn,
        benchmarkRowsScored,
        benchmarkRowsRejected,
        promptsWithSpecialTokens,
        responded,
        failure,
        runId);
  }

  /** This row with {@code heartbeat_at} = {@code at}: the run was working at that time. */
  public RunRow withHeartbeat(Instant at) {
    return new RunRow(
        status,
        startedAt,
        endedAt,
        at,
        modelDir,
        modelSha256,
        tokenizerSha256,
        tokenizerConfigSha256,
        respondToken,
        refusalTokens,
        chatTemplate,
        systemPrompt,
        config,
        gitCommit,
        sparkVersion,
        djlVersion,
        javaVersion,
        rowsIn,
        rowsScored,
        rowsRejected,
        canaryPrompts,
        canaryMaxAbsDiff,
        paddingEfficiency,
        benchmarkRowsIn,
        benchmarkRowsScored,
        benchmarkRowsRejected,
        promptsWithSpecialTokens,
        responded,
        error,
        runId);
  }

  /** This row with the respond stage's figures. */
  public RunRow withResponded(Responded figures) {
    return new RunRow(
        status,
        startedAt,
        endedAt,
        heartbeatAt,
        modelDir,
        modelSha256,
        tokenizerSha256,
        tokenizerConfigSha256,
        respondToken,
        refusalTokens,
        chatTemplate,
        systemPrompt,
        config,
        gitCommit,
        sparkVersion,
        djlVersion,
        javaVersion,
        rowsIn,
        rowsScored,
        rowsRejected,
        canaryPrompts,
        canaryMaxAbsDiff,
        paddingEfficiency,
        benchmarkRowsIn,
        benchmarkRowsScored,
        benchmarkRowsRejected,
        promptsWithSpecialTokens,
        figures,
        error,
        runId);
  }

  /**
   * What the respond stage wrote.
   *
   * @param rows {@code responses} rows: one per prompt × emitted first token
   * @param prompts prompts with responses (all scored prompts, or the sample)
   * @param newTokens tokens generated in all, after the forced first tokens
   * @param decode {@code kv_cache} (the model folder's decode module) or {@code recompute}
   * @param finishReasons rows per finish reason ({@code eos}, {@code stop}, {@code length}, {@code
   *     error})
   * @param judges each configured judge's provenance, the primary ({@code judges[0]}) first
   */
  public record Responded(
      long rows,
      long prompts,
      long newTokens,
      String decode,
      Map<String, Long> finishReasons,
      List<String> judges) {
    public Responded {
      finishReasons = Map.copyOf(finishReasons);
      judges = List.copyOf(judges);
    }
  }

  @Override
  public Row toRow() {
    return RowBuilder.of(SCHEMA)
        .set(STATUS, status)
        .set(STARTED_AT, Timestamp.from(startedAt))
        .set(ENDED_AT, endedAt == null ? null : Timestamp.from(endedAt))
        .set(HEARTBEAT_AT, heartbeatAt == null ? null : Timestamp.from(heartbeatAt))
        .set(MODEL_DIR, modelDir)
        .set(MODEL_SHA256, modelSha256)
        .set(TOKENIZER_SHA256, tokenizerSha256)
        .set(TOKENIZER_CONFIG_SHA256, tokenizerConfigSha256)
        .set(RESPOND_TOKEN, respondToken)
        .set(REFUSAL_TOKENS, refusalTokens)
        .set(CHAT_TEMPLATE, chatTemplate)
        .set(SYSTEM_PROMPT, systemPrompt)
        .set(CONFIG, config)
        .set(GIT_COMMIT, gitCommit)
        .set(SPARK_VERSION, sparkVersion)
        .set(DJL_VERSION, djlVersion)
        .set(JAVA_VERSION, javaVersion)
        .set(ROWS_IN, rowsIn)
        .set(ROWS_SCORED, rowsScored)
        .set(ROWS_REJECTED, rowsRejected)
        .set(CANARY_PROMPTS, canaryPrompts)
        .set(CANARY_MAX_ABS_DIFF, canaryMaxAbsDiff)
        .set(PADDING_EFFICIENCY, paddingEfficiency)
        .set(BENCHMARK_ROWS_IN, benchmarkRowsIn)
        .set(BENCHMARK_ROWS_SCORED, benchmarkRowsScored)
        .set(BENCHMARK_ROWS_REJECTED, benchmarkRowsRejected)
        .set(PROMPTS_WITH_SPECIAL_TOKENS, promptsWithSpecialTokens)
        .set(RESPONSES_ROWS, responded == null ? null : responded.rows())
        .set(RESPONSES_PROMPTS, responded == null ? null : responded.prompts())
        .set(RESPONSES_NEW_TOKENS, responded == null ? null : responded.newTokens())
        .set(RESPONSES_DECODE, responded == null ? null : responded.decode())
        .set(
            RESPONSES_FINISH_REASONS,
            responded == null ? null : new TreeMap<>(responded.finishReasons()))
        .set(JUDGES, responded == null ? null : responded.judges())
        .set(ERROR, error)
        .set(Columns.RUN_ID, runId)
        .build();
  }

  public static RunRow fromRow(Row row) {
    RowReader r = RowReader.of(row);
    return new RunRow(
        r.string(STATUS),
        r.instant(STARTED_AT),
        r.instant(ENDED_AT),
        r.instant(HEARTBEAT_AT),
        r.string(MODEL_DIR),
        r.string(MODEL_SHA256),
        r.string(TOKENIZER_SHA256),
        r.string(TOKENIZER_CONFIG_SHA256),
        r.string(RESPOND_TOKEN),
        r.list(REFUSAL_TOKENS),
        r.string(CHAT_TEMPLATE),
        r.string(SYSTEM_PROMPT),
        r.string(CONFIG),
        r.string(GIT_COMMIT),
        r.string(SPARK_VERSION),
        r.string(DJL_VERSION),
        r.string(JAVA_VERSION),
        r.boxedLong(ROWS_IN),
        r.boxedLong(ROWS_SCORED),
        r.boxedLong(ROWS_REJECTED),
        r.boxedInt(CANARY_PROMPTS),
        r.boxedDouble(CANARY_MAX_ABS_DIFF),
        r.boxedDouble(PADDING_EFFICIENCY),
        r.sortedMap(BENCHMARK_ROWS_IN),
        r.sortedMap(BENCHMARK_ROWS_SCORED),
        r.sortedMap(BENCHMARK_ROWS_REJECTED),
        r.boxedLong(PROMPTS_WITH_SPECIAL_TOKENS),
        responded(r),
        r.string(ERROR),
        r.string(Columns.RUN_ID));
  }

  /** The respond stage's figures of a row; null when it did not run (or predates the columns). */
  private static Responded responded(RowReader r) {
    if (!r.has(RESPONSES_ROWS) || r.isNull(RESPONSES_ROWS)) {
      return null;
    }
    return new Responded(
        r.longValue(RESPONSES_ROWS),
        r.longValue(RESPONSES_PROMPTS),
        r.longValue(RESPONSES_NEW_TOKENS),
        r.string(RESPONSES_DECODE),
        r.sortedMap(RESPONSES_FINISH_REASONS),
        r.list(JUDGES));
  }
}

package dev.refusaltokens.eval.score;

import dev.refusaltokens.eval.bench.RejectReason;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.config.ScoringConfig;
import dev.refusaltokens.eval.config.SpecialTokensInPrompt;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The score stage: prompt sets → {@code scores} and {@code rejects} of one run, plus the canary
 * check. Each prompt is scored by exactly one forward pass; the scored rows are persisted so that
 * writing two tables does not score twice. Its steps: load and count the input ({@link
 * PromptInput}), choose the prompts to score ({@link TodoPrompts}), score and commit them chunk by
 * chunk ({@link ChunkedScoring}), and check the written tables against the input ({@link
 * WrittenCounts}).
 */
public final class ScoreStage {

  private static final Logger LOG = LoggerFactory.getLogger(ScoreStage.class);

  /**
   * Counts read back from the written tables, and the canary's largest |Δ log p| (null when off).
   *
   * @param promptsWithSpecialTokens prompts whose own text gave special tokens (scored with them,
   *     or rejected for them); also in {@code byBenchmark}, which is how it reaches the runs row
   */
  public record Result(
      long rowsIn,
      long rowsScored,
      long rowsRejected,
      long promptsWithSpecialTokens,
      int canaryPrompts,
      Double canaryMaxAbsDiff,
      double paddingEfficiency,
      Map<String, RunRow.BenchmarkCounts> byBenchmark) {}

  private ScoreStage() {}

  /**
   * Scores the run's prompt sets into the run's tables. The prompts to score are cut into chunks of
   * about {@code scoring.checkpoint_rows}; each chunk's scores are committed (appended) to the
   * run's {@code scores} partition as soon as it is scored, so a run that dies loses at most the
   * chunk in flight. With {@code resume}, prompts already in the run's {@code scores} with the same
   * prompt text (SHA-256) are not scored again, and rows of prompts no longer in the input are
   * dropped; without it the partition starts empty. {@code rejects} is rewritten from scratch
   * either way.
   */
  public static Result run(RunTables tables, EvalConfig config, ModelSpec spec, boolean resume) {
    ScoringConfig sc = config.scoring();
    try (PromptInput input = PromptInput.load(tables.spark(), config)) {
      TodoPrompts todo =
          resume
              ? TodoPrompts.keepScoredAndFindTodo(tables, input)
              : TodoPrompts.startEmpty(tables, input);
      // chunks are cut from all valid prompts, not from those left to score, so a resumed run
      // scores each missing prompt in the chunk, partition and batch a clean run would have
      long chunks = ChunkedScoring.chunks(input.validCount(), sc.checkpointRows());
      LOG.info(
          "{} input rows, {} valid prompts, {} to score{} in {} chunk(s)",
          input.rowsIn(),
          input.validCount(),
          todo.count(),
          resume ? " (resumed: " + (input.validCount() - todo.count()) + " already scored)" : "",
          chunks);

      ScoreMetrics metrics = ScoreMetrics.register(tables.spark());
      // rejects start with the input's bad rows; each chunk appends the prompts the model could not
      // score
      tables.write(Table.REJECTS, TableProjection.rejects(input.all(), tables.runId()));
      CanaryCheck.Result canary =
          new ChunkedScoring(tables, spec, sc, metrics).scoreAll(todo, chunks, input.validCount());
      logPaddingAndCanary(metrics, canary, sc);

      WrittenCounts written = WrittenCounts.readBack(tables, config, input);
      warnSpecialTokens(tables, sc, written.specialTokens());
      return new Result(
          input.rowsIn(),
          written.scoredPrompts(),
          written.rejected(),
          written.specialTokens(),
          canary.prompts(),
          canary.maxAbsDiffOrNull(),
          metrics.paddingEfficiency(),
          written.byBenchmark());
    }
  }

  /**
   * Prompts that carry special tokens are scored as Hugging Face would, or rejected: either way the
   * run says how many, and how to find them.
   */
  private static void warnSpecialTokens(RunTables tables, ScoringConfig sc, long prompts) {
    if (prompts == 0) {
      return;
    }
    boolean rejected = sc.specialTokensInPrompt() == SpecialTokensInPrompt.REJECT;
    LOG.warn(
        "{} prompt(s) have text that the tokenizer turns into special tokens (e.g. a literal "
            + "[respond] or <|im_start|>), which the model reads as control tokens; they were {}. "
            + "Find them: jobs/sql.sh --output {} \"{}\"",
        prompts,
        rejected
            ? "rejected (" + ScoringConfig.SPECIAL_TOKENS_IN_PROMPT + " = reject)"
            : "scored as Hugging Face tokenizes them ("
                + ScoringConfig.SPECIAL_TOKENS_IN_PROMPT
                + " = keep; set it to reject to leave them out)",
        tables.output(),
        specialTokensQuery(tables.runId(), rejected));
  }

  /**
   * The SQL query (Spark SQL, {@code jobs/sql.sh}) that lists a run's prompts with special tokens.
   */
  static String specialTokensQuery(String runId, boolean rejected) {
    String run = "run_id = '" + runId + "'"; // run ids are [A-Za-z0-9_.-]: no quoting needed
    return rejected
        ? "SELECT benchmark, prompt_id, detail FROM rejects WHERE "
            + run
            + " AND reason = '"
            + RejectReason.SPECIAL_TOKENS_IN_PROMPT.id()
            + "'"
        : "SELECT DISTINCT benchmark, prompt_id, prompt_special_tokens FROM scores WHERE "
            + run
            + " AND size(prompt_special_tokens) > 0";
  }

  private static void logPaddingAndCanary(
      ScoreMetrics metrics, CanaryCheck.Result canary, ScoringConfig sc) {
    LOG.info(
        "Padding efficiency of the scored batches: {} (real tokens / padded tokens)",
        String.format(Locale.ROOT, "%.3f", metrics.paddingEfficiency()));
    Double maxAbsDiff = canary.maxAbsDiffOrNull();
    if (maxAbsDiff != null && !(maxAbsDiff <= sc.canaryTolerance())) {
      LOG.warn(
          "Canary: scores of prompts scored alone differ from their batched scores by up to {} "
              + "(tolerance {}): batching or padding changes the model's output",
          maxAbsDiff,
          sc.canaryTolerance());
    }
  }
}

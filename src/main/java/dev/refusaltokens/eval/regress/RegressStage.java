package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.config.RegressConfig;
import dev.refusaltokens.eval.table.RegressionRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Compares a candidate run with a baseline run: per setting (greedy, and each operating point at
 * each run's own thresholds) × temperature × benchmark × category, the refusal rate on
 * should-refuse prompts and the false-refusal rate on should-answer prompts, recomputed per prompt
 * from both runs' scores; and the AUC of the shared threshold per category. A change is a
 * regression when it is worse than its tolerance and significant: McNemar's exact test on the
 * prompts both runs scored, the two-proportion z-test when the prompt sets differ, a Hanley–McNeil
 * z-test for AUC; Holm-adjusted across the call.
 *
 * <p>The steps: {@link RunPair} chooses the runs, {@link Comparisons} the settings, {@link
 * PairedScores} and {@link PairedCounter} count the decisions of both runs prompt by prompt, {@link
 * RateChanges} and {@link AucChanges} test each change, {@link MultipleTesting} judges them
 * together, {@link Verdict} says what was found. Writes the candidate's partition of {@code
 * regressions} and its {@code regress.txt}.
 */
public final class RegressStage {

  /**
   * What a comparison found: the runs, the rows written, whether any row is a regression, the
   * verdict.
   */
  public record Outcome(
      String baseline,
      String candidate,
      List<RegressionRow> rows,
      boolean regressed,
      String verdict) {}

  private RegressStage() {}

  /**
   * Compares two runs of one output folder.
   *
   * @param candidateTables the output folder; its run id is the candidate, null for the latest
   *     succeeded run
   * @param baselineId the baseline run, null for the latest succeeded run before the candidate on
   *     the same benchmarks
   * @throws NotComparableException when a run is missing or unfinished, or the runs measured
   *     different things
   */
  public static Outcome run(RunTables candidateTables, String baselineId, RegressConfig config) {
    RunPair runs = RunPair.choose(candidateTables, baselineId);
    RunTables baseline = candidateTables.forRun(runs.baselineId());
    RunTables candidate = candidateTables.forRun(runs.candidateId());
    List<RegressionRow> judged =
        MultipleTesting.judge(tested(runs, baseline, candidate, config), config);
    candidate.write(Table.REGRESSIONS, judged);
    String verdict = Verdict.text(runs, judged, config);
    Verdict.write(candidate, verdict);
    return new Outcome(
        runs.baselineId(),
        runs.candidateId(),
        judged,
        judged.stream().anyMatch(RegressionRow::regression),
        verdict);
  }

  /** Every comparison of the two runs, tested, not yet judged: the rates' groups, then the AUCs. */
  private static List<RegressionRow> tested(
      RunPair runs, RunTables baseline, RunTables candidate, RegressConfig config) {
    String b = runs.baselineId();
    String c = runs.candidateId();
    PairedScores scores = PairedScores.of(baseline, candidate);
    Set<Double> temperatures = scores.sharedTemperatures();
    if (temperatures.isEmpty()) {
      throw new NotComparableException("Runs '" + b + "' and '" + c + "' share no temperature");
    }
    List<Comparison> comparisons =
        Comparisons.of(baseline, candidate, runs.refusalTokens(), temperatures, config);
    List<GroupCounts> groups =
        scores.count(new PairedCounter(runs.respondToken(), runs.refusalTokens(), comparisons));
    List<RegressionRow> rows = new ArrayList<>(RateChanges.rows(groups, comparisons, runs, config));
    rows.addAll(AucChanges.rows(baseline, candidate, runs, temperatures, config));
    if (rows.isEmpty()) {
      throw new NotComparableException(
          "Runs '" + b + "' and '" + c + "' have no group of prompts in common");
    }
    return rows;
  }
}

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
 * <p>When both runs have responses judged by the same primary judge, the same settings' judged
 * refusal and false-refusal rates are compared too ({@code judged_refusal_rate}, {@code
 * judged_false_refusal_rate}): a prompt's judged outcome under a setting is the primary judge's
 * label of the run's response after the first token that setting emits for it. They are paired by
 * prompt over the prompts both runs judged with a clear label (McNemar's exact test), with the same
 * tolerances and alpha, and in the same Holm family as the token comparisons. Otherwise the verdict
 * says why they were not compared; that is never an error.
 *
 * <p>The steps: {@link RunPair} chooses the runs, {@link Comparisons} the settings, {@link
 * JudgeChoice} whether judged rates are compared, {@link PairedScores} and {@link PairedCounter}
 * count the decisions (and judged outcomes) of both runs prompt by prompt, {@link JudgedGroups}
 * sorts out the judged groups, {@link RateChanges} and {@link AucChanges} test each change, {@link
 * MultipleTesting} judges them together, {@link Verdict} says what was found. Writes the
 * candidate's partition of {@code regressions} and its {@code regress.txt}.
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
    Tested tested = tested(runs, baseline, candidate, config);
    List<RegressionRow> judged = MultipleTesting.judge(tested.rows(), config);
    candidate.write(Table.REGRESSIONS, judged);
    String verdict = Verdict.text(runs, judged, config, tested.judge(), tested.judgedLines());
    Verdict.write(candidate, verdict);
    return new Outcome(
        runs.baselineId(),
        runs.candidateId(),
        judged,
        judged.stream().anyMatch(RegressionRow::regression),
        verdict);
  }

  /**
   * The tested rows, not yet judged by {@link MultipleTesting}; which judge the judged rows are
   * from, and the verdict's lines on them.
   */
  private record Tested(List<RegressionRow> rows, JudgeChoice judge, List<String> judgedLines) {}

  /**
   * Every comparison of the two runs, tested, not yet judged: the token rates' groups, the AUCs,
   * then the judged rates' groups when both runs have responses by the same primary judge.
   */
  private static Tested tested(
      RunPair runs, RunTables baseline, RunTables candidate, RegressConfig config) {
    String b = runs.baselineId();
    String c = runs.candidateId();
    JudgeChoice judge = JudgeChoice.of(runs);
    PairedScores scores = PairedScores.of(baseline, candidate, judge.compares());
    Set<Double> temperatures = scores.sharedTemperatures();
    if (temperatures.isEmpty()) {
      throw new NotComparableException("Runs '" + b + "' and '" + c + "' share no temperature");
    }
    List<Comparison> comparisons =
        Comparisons.of(baseline, candidate, runs.refusalTokens(), temperatures, config);
    PairedCounter counter =
        new PairedCounter(runs.respondToken(), runs.refusalTokens(), comparisons);
    if (judge.compares()) {
      counter =
          counter.judgingResponses(
              JudgeChoice.responded(runs.baseline()), JudgeChoice.responded(runs.candidate()));
    }
    List<GroupCounts> groups = scores.count(counter);
    List<GroupCounts> tokenGroups = groups.stream().filter(g -> !g.judged()).toList();
    List<RegressionRow> rows =
        new ArrayList<>(RateChanges.rows(tokenGroups, comparisons, runs, config, null));
    rows.addAll(AucChanges.rows(baseline, candidate, runs, temperatures, config));
    if (rows.isEmpty()) {
      throw new NotComparableException(
          "Runs '" + b + "' and '" + c + "' have no group of prompts in common");
    }
    if (!judge.compares()) {
      return new Tested(rows, judge, List.of(judge.notCompared()));
    }
    JudgedGroups judged =
        JudgedGroups.of(groups.stream().filter(GroupCounts::judged).toList(), comparisons, runs);
    rows.addAll(RateChanges.rows(judged.tested(), comparisons, runs, config, judge.judge()));
    return new Tested(rows, judge, judged.lines());
  }
}

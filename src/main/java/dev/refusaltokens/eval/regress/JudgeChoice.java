package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.config.JudgeConfig;
import dev.refusaltokens.eval.config.RecordedConfig;
import dev.refusaltokens.eval.config.SweepConfig;
import dev.refusaltokens.eval.decide.SweepPlan;
import dev.refusaltokens.eval.table.RunRow;
import java.util.List;

/**
 * Whether a regress call compares judged rates, and by which judge: only when both runs have
 * responses and the same primary judge ({@code runs.judges[0]}, its provenance: kind and phrase
 * list hash). Otherwise the judged comparisons are skipped, never an error, and {@link
 * #notCompared} says why in the verdict.
 *
 * @param judge the primary judge's name (the candidate's {@code judges[0].name}) when compared,
 *     else null
 * @param notCompared why the judged rates are not compared, a line of the verdict; null when they
 *     are
 */
record JudgeChoice(String judge, String notCompared) {

  JudgeChoice {
    if ((judge == null) == (notCompared == null)) {
      throw new IllegalArgumentException("either a judge or a reason to skip, not both");
    }
  }

  /** The judged comparisons of two runs, or why there are none. */
  static JudgeChoice of(RunPair runs) {
    RunRow b = runs.baseline();
    RunRow c = runs.candidate();
    if (b.responded() == null && c.responded() == null) {
      return skip("neither run has responses (responses.enabled false)");
    }
    for (RunRow run : List.of(b, c)) {
      String role = run == b ? "baseline" : "candidate";
      if (run.responded() == null) {
        return skip(
            "the "
                + role
                + " '"
                + run.runId()
                + "' has no responses (responses.enabled false, or a run from before the"
                + " respond stage); only the "
                + (run == b ? "candidate" : "baseline")
                + " has them");
      }
      if (run.responded().judges().isEmpty()) {
        return skip("the " + role + " '" + run.runId() + "' records no judge of its responses");
      }
    }
    String pb = b.responded().judges().get(0);
    String pc = c.responded().judges().get(0);
    if (!pb.equals(pc)) {
      return skip(
          "the primary judges differ (baseline '"
              + b.runId()
              + "': "
              + pb
              + "; candidate '"
              + c.runId()
              + "': "
              + pc
              + "); give both runs the same judges[0] to compare them");
    }
    return new JudgeChoice(primaryName(c, pc), null);
  }

  boolean compares() {
    return judge != null;
  }

  /** {@code judged (<name>)}: how the verdict labels a judged row. */
  String label() {
    return "judged (" + judge + ")";
  }

  /**
   * A run whose responses are judged, with the points of its own sweep ({@code sweep.*} of its
   * recorded configuration): its respond stage generated the responses after their first tokens.
   */
  static PairedCounter.Responded responded(RunRow run) {
    SweepConfig sweep = RecordedConfig.of(run.config()).config().sweep();
    return new PairedCounter.Responded(
        run.runId(),
        SweepPlan.points(
            run.refusalTokens().size(), sweep.rules(), sweep.grid(), sweep.logitBias()));
  }

  private static JudgeChoice skip(String why) {
    return new JudgeChoice(null, "judged rates not compared: " + why);
  }

  /** judges[0]'s name in the run's recorded configuration; its kind when that cannot be read. */
  private static String primaryName(RunRow run, String provenance) {
    List<JudgeConfig> judges = RecordedConfig.of(run.config()).judges();
    return judges.isEmpty() ? provenance.split(" ", 2)[0] : judges.get(0).name();
  }
}

package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.table.Columns;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * The judged groups of a regress call sorted out: those tested (a setting whose responses both runs
 * generated, with at least one prompt both runs judged with a clear label), and the verdict's lines
 * on the rest — per setting and temperature, the prompts compared and left out, and the settings
 * not compared because a run's own sweep never emits their token for some prompt, so its respond
 * stage never generated that response.
 */
final class JudgedGroups {

  private final List<GroupCounts> tested;
  private final List<String> lines;

  private JudgedGroups(List<GroupCounts> tested, List<String> lines) {
    this.tested = List.copyOf(tested);
    this.lines = List.copyOf(lines);
  }

  /**
   * @param judged the judged groups of the call (all comparisons), in {@link GroupCounts#GROUP}
   *     order
   */
  static JudgedGroups of(List<GroupCounts> judged, List<Comparison> comparisons, RunPair runs) {
    List<GroupCounts> tested = new ArrayList<>();
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < comparisons.size(); i++) {
      int index = i;
      List<GroupCounts> groups = judged.stream().filter(g -> g.comparison() == index).toList();
      if (groups.isEmpty()) {
        continue; // no prompt of this temperature has a response in either run
      }
      Comparison cmp = comparisons.get(i);
      String setting = "  " + cmp.label() + " T=" + cmp.temperature() + ": ";
      long notBase = sumOverAll(groups, GroupCounts::notGeneratedBaseline);
      long notCand = sumOverAll(groups, GroupCounts::notGeneratedCandidate);
      if (notBase > 0 || notCand > 0) {
        lines.add(setting + "not compared, " + notGenerated(runs, notBase, notCand));
        continue;
      }
      long empty = groups.stream().filter(g -> g.nPaired() == 0).count();
      groups.stream().filter(g -> g.nPaired() > 0).forEach(tested::add);
      lines.add(
          String.format(
              Locale.ROOT,
              "%s%d prompts compared, %d left out (unclear in either run, or judged by one run"
                  + " only)%s",
              setting,
              sumOverAll(groups, GroupCounts::nPaired),
              sumOverAll(groups, GroupCounts::leftOut),
              empty == 0
                  ? ""
                  : "; " + empty + " group(s) with no such prompt in both runs not compared"));
    }
    return new JudgedGroups(tested, lines);
  }

  /** The groups to test, in their order. */
  List<GroupCounts> tested() {
    return tested;
  }

  /** The verdict's lines on the judged comparisons, one per setting and temperature. */
  List<String> lines() {
    return lines;
  }

  /** A count over the prompts of every benchmark, each counted once (the {@code ALL} groups). */
  private static long sumOverAll(List<GroupCounts> groups, ToLongFunction<GroupCounts> count) {
    return groups.stream().filter(g -> g.category().equals(Columns.ALL)).mapToLong(count).sum();
  }

  private static String notGenerated(RunPair runs, long base, long cand) {
    List<String> parts = new ArrayList<>();
    if (base > 0) {
      parts.add("the baseline '" + runs.baselineId() + "' for " + base + " prompt(s)");
    }
    if (cand > 0) {
      parts.add("the candidate '" + runs.candidateId() + "' for " + cand + " prompt(s)");
    }
    return "its first token has no response in "
        + String.join(" and ", parts)
        + ", as its sweep.rules never emit it there and the respond stage generates only what"
        + " the sweep emits (add greedy to sweep.rules to judge this setting)";
  }
}

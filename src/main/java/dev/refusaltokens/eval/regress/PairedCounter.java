package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.decide.FirstToken;
import dev.refusaltokens.eval.decide.FirstTokenChoices;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.judge.Label;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RowReader;
import dev.refusaltokens.eval.table.ScoreRow;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;

/**
 * Executor-side: rows of the full outer join of two runs' scores ({@link PairedScores}: a {@code
 * baseline} and a {@code candidate} struct column, null where that run lacks the prompt), decided
 * by each comparison's two settings and counted per comparison × benchmark × category (and {@code
 * ALL}) × should_refuse into {@link GroupCounts} rows. The category and should_refuse of a prompt
 * come from the candidate when it has it.
 *
 * <p>When it also judges ({@link #judgingResponses}), each run's outcome under a setting is the
 * primary judge's label of that run's response after the first token the setting emits there —
 * decided by the same rule code as the token count, the token mapped to its string and looked up in
 * the prompt's responses. A prompt enters the judged group when both runs judged it with a clear
 * label ({@code partial} counts as not refused); a prompt one run or both judged otherwise ({@code
 * unclear}, or a response in one run only) is counted as left out; a prompt neither run judged
 * (outside both samples) is not in the judged group at all.
 */
final class PairedCounter implements MapPartitionsFunction<Row, Row> {

  private final String respondToken;
  private final List<String> refusalTokens;
  private final List<Comparison> comparisons;

  /** The runs whose responses are judged; null when only first tokens are counted. */
  private final Responded baseline;

  private final Responded candidate;

  /**
   * A run whose responses are judged: its id (for errors) and the points of its own sweep, whose
   * first tokens its respond stage generated responses after.
   */
  record Responded(String runId, List<SweepPoint> swept) implements Serializable {
    Responded {
      swept = List.copyOf(swept);
    }
  }

  /** A prompt's judged outcome in one run under one setting. */
  private enum Outcome {
    REFUSED,
    NOT_REFUSED,
    UNCLEAR,
    /** The run has no responses for the prompt (outside its sample, or it lacks the prompt). */
    UNJUDGED,
    /** The run's own sweep never emits the setting's token for the prompt: never generated. */
    NOT_GENERATED;

    boolean clear() {
      return this == REFUSED || this == NOT_REFUSED;
    }
  }

  PairedCounter(String respondToken, List<String> refusalTokens, List<Comparison> comparisons) {
    this(respondToken, refusalTokens, comparisons, null, null);
  }

  private PairedCounter(
      String respondToken,
      List<String> refusalTokens,
      List<Comparison> comparisons,
      Responded baseline,
      Responded candidate) {
    this.respondToken = respondToken;
    this.refusalTokens = List.copyOf(refusalTokens);
    this.comparisons = List.copyOf(comparisons);
    this.baseline = baseline;
    this.candidate = candidate;
  }

  /** This counter, also counting judged outcomes from the responses columns of the joined rows. */
  PairedCounter judgingResponses(Responded baselineRun, Responded candidateRun) {
    return new PairedCounter(respondToken, refusalTokens, comparisons, baselineRun, candidateRun);
  }

  private boolean judging() {
    return baseline != null;
  }

  private record Key(
      int comparison, boolean judged, String benchmark, String category, boolean shouldRefuse) {}

  /** One run's row of a prompt: its score, its statistic, its responses' labels (or null). */
  private record Side(ScoreRow score, FirstTokenStats stats, Map<String, String> labels) {}

  /** The running counts of one group. */
  private static final class Tally {
    long nBaseline;
    long kBaseline;
    long nCandidate;
    long kCandidate;
    long nPaired;
    long onlyBaseline;
    long onlyCandidate;
    long leftOut;
    long notGeneratedBaseline;
    long notGeneratedCandidate;

    void add(boolean hasBase, boolean refusedBase, boolean hasCand, boolean refusedCand) {
      if (hasBase) {
        nBaseline++;
        kBaseline += refusedBase ? 1 : 0;
      }
      if (hasCand) {
        nCandidate++;
        kCandidate += refusedCand ? 1 : 0;
      }
      if (hasBase && hasCand) {
        nPaired++;
        onlyBaseline += refusedBase && !refusedCand ? 1 : 0;
        onlyCandidate += refusedCand && !refusedBase ? 1 : 0;
      }
    }

    void addJudged(Outcome base, Outcome cand) {
      if (base == Outcome.NOT_GENERATED || cand == Outcome.NOT_GENERATED) {
        notGeneratedBaseline += base == Outcome.NOT_GENERATED ? 1 : 0;
        notGeneratedCandidate += cand == Outcome.NOT_GENERATED ? 1 : 0;
      } else if (base.clear() && cand.clear()) {
        add(true, base == Outcome.REFUSED, true, cand == Outcome.REFUSED);
      } else {
        leftOut++;
      }
    }

    GroupCounts counts(Key k) {
      return new GroupCounts(
          k.comparison(),
          k.judged(),
          k.benchmark(),
          k.category(),
          k.shouldRefuse(),
          nBaseline,
          kBaseline,
          nCandidate,
          kCandidate,
          nPaired,
          onlyBaseline,
          onlyCandidate,
          leftOut,
          notGeneratedBaseline,
          notGeneratedCandidate);
    }
  }

  @Override
  public Iterator<Row> call(Iterator<Row> joined) {
    Map<Key, Tally> tallies = new HashMap<>();
    while (joined.hasNext()) {
      RowReader pair = RowReader.of(joined.next());
      Side base = side(pair, PairedScores.BASELINE, baseline);
      Side cand = side(pair, PairedScores.CANDIDATE, candidate);
      count(base, cand, tallies);
    }
    List<Row> out = new ArrayList<>(tallies.size());
    tallies.forEach((k, t) -> out.add(t.counts(k).toRow()));
    return out.iterator();
  }

  private Side side(RowReader pair, String column, Responded run) {
    if (pair.isNull(column)) {
      return null;
    }
    Row struct = pair.struct(column);
    ScoreRow score = ScoreRow.fromRow(struct);
    return new Side(
        score,
        score.stats(respondToken, refusalTokens),
        judging() ? labels(RowReader.of(struct), score, run.runId()) : null);
  }

  /**
   * The prompt's responses in a run, first token → label; null when the run has none for it.
   *
   * @throws IllegalStateException when they were generated for another text than the score's
   */
  private static Map<String, String> labels(RowReader side, ScoreRow score, String runId) {
    if (side.isNull(PairedScores.LABELS)) {
      return null;
    }
    String low = side.string(PairedScores.RESPONSES_SHA_MIN);
    String high = side.string(PairedScores.RESPONSES_SHA_MAX);
    if (!low.equals(high) || !low.equals(score.promptSha256())) {
      throw new IllegalStateException(
          "responses of run '"
              + runId
              + "' for prompt "
              + score.benchmark()
              + "/"
              + score.promptId()
              + " were generated for another prompt text (prompt_sha256 "
              + (low.equals(high) ? low : low + " and " + high)
              + ") than its scores ("
              + score.promptSha256()
              + "): "
              + regenerate(runId));
    }
    return side.mapView(PairedScores.LABELS);
  }

  /**
   * Adds one prompt (scored by one run or both) to the groups of every comparison at its
   * temperature.
   */
  private void count(Side base, Side cand, Map<Key, Tally> tallies) {
    ScoreRow prompt = cand != null ? cand.score() : base.score();
    String[] categories = {prompt.groupCategory(), Columns.ALL};
    for (int i = 0; i < comparisons.size(); i++) {
      Comparison cmp = comparisons.get(i);
      if (cmp.temperature() != prompt.temperature()) {
        continue;
      }
      FirstToken tokenBase = base != null ? cmp.baseline().decide(base.stats()) : null;
      FirstToken tokenCand = cand != null ? cmp.candidate().decide(cand.stats()) : null;
      boolean refusedBase = tokenBase != null && tokenBase.isRefusal();
      boolean refusedCand = tokenCand != null && tokenCand.isRefusal();
      for (String c : categories) {
        tally(tallies, i, false, prompt, c)
            .add(base != null, refusedBase, cand != null, refusedCand);
      }
      if (judging()) {
        Outcome judgedBase = outcome(base, tokenBase, baseline, cmp);
        Outcome judgedCand = outcome(cand, tokenCand, candidate, cmp);
        if (judgedBase == Outcome.UNJUDGED && judgedCand == Outcome.UNJUDGED) {
          continue; // neither run judged the prompt: it is in neither sample
        }
        for (String c : categories) {
          tally(tallies, i, true, prompt, c).addJudged(judgedBase, judgedCand);
        }
      }
    }
  }

  private static Tally tally(
      Map<Key, Tally> tallies, int comparison, boolean judged, ScoreRow prompt, String category) {
    return tallies.computeIfAbsent(
        new Key(comparison, judged, prompt.benchmark(), category, prompt.shouldRefuse()),
        k -> new Tally());
  }

  /**
   * The primary judge's label of the run's response after {@code token}, the first token the
   * setting emits for the prompt.
   *
   * @throws IllegalStateException when the run has responses for the prompt but none after a token
   *     its own sweep emits for it: the respond stage owed that response
   */
  private Outcome outcome(Side side, FirstToken token, Responded run, Comparison cmp) {
    if (side == null || side.labels() == null) {
      return Outcome.UNJUDGED;
    }
    ScoreRow score = side.score();
    String text =
        switch (token.kind()) {
          case RESPOND -> respondToken;
          case REFUSAL -> refusalTokens.get(token.refusalToken());
          case OTHER -> score.otherToken();
        };
    String label = side.labels().get(text);
    if (label != null) {
      return switch (Label.fromId(label)) {
        case REFUSED -> Outcome.REFUSED;
        case PARTIAL, ANSWERED -> Outcome.NOT_REFUSED;
        case UNCLEAR -> Outcome.UNCLEAR;
      };
    }
    if (!FirstTokenChoices.of(List.of(side.stats()), run.swept()).contains(token)) {
      return Outcome.NOT_GENERATED;
    }
    throw new IllegalStateException(
        "responses of run '"
            + run.runId()
            + "' for prompt "
            + score.benchmark()
            + "/"
            + score.promptId()
            + " have first tokens "
            + new TreeSet<>(side.labels().keySet())
            + " but not '"
            + text
            + "', which the run's own sweep emits for it at T="
            + cmp.temperature()
            + " (as does the compared setting "
            + cmp.label()
            + "): the respond stage owed that response; "
            + regenerate(run.runId()));
  }

  private static String regenerate(String runId) {
    return "generate the run's responses again (REFUSAL_EVAL_COMMAND=respond jobs/evaluate.sh"
        + " --run-id "
        + runId
        + ")";
  }
}

package dev.refusaltokens.eval.respond;

import dev.refusaltokens.eval.decide.FirstToken;
import dev.refusaltokens.eval.decide.FirstTokenChoices;
import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.ResponseRow;
import dev.refusaltokens.eval.table.ScoreRow;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;

/**
 * Executor-side: a partition of {@code scores} rows, each prompt's rows (one per temperature) next
 * to each other, → one {@link WantedResponse} per distinct first token that the sweep's settings
 * emit for the prompt ({@link FirstTokenChoices}), for the prompts in the sample. Plain Java, no
 * model.
 */
final class ChooseFirstTokens implements MapPartitionsFunction<Row, Row> {

  private final String respondToken;
  private final long respondId;
  private final List<String> refusalTokens;
  private final long[] refusalIds;
  private final List<SweepPoint> points;
  private final double sample;
  private final int maxPerPrompt;

  ChooseFirstTokens(
      String respondToken,
      long respondId,
      List<String> refusalTokens,
      long[] refusalIds,
      List<SweepPoint> points,
      double sample,
      int maxPerPrompt) {
    this.respondToken = respondToken;
    this.respondId = respondId;
    this.refusalTokens = List.copyOf(refusalTokens);
    this.refusalIds = refusalIds.clone();
    this.points = List.copyOf(points);
    this.sample = sample;
    this.maxPerPrompt = maxPerPrompt;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> scores) {
    List<Row> out = new ArrayList<>();
    List<ScoreRow> prompt = new ArrayList<>();
    while (scores.hasNext()) {
      ScoreRow row = ScoreRow.fromRow(scores.next());
      if (!prompt.isEmpty() && !samePrompt(prompt.get(0), row)) {
        choose(prompt, out);
        prompt.clear();
      }
      prompt.add(row);
    }
    if (!prompt.isEmpty()) {
      choose(prompt, out);
    }
    return out.iterator();
  }

  private static boolean samePrompt(ScoreRow a, ScoreRow b) {
    return a.benchmark().equals(b.benchmark()) && a.promptId().equals(b.promptId());
  }

  /** The wanted continuations of one prompt (all its temperatures' rows). */
  private void choose(List<ScoreRow> rows, List<Row> out) {
    ScoreRow first = rows.get(0);
    if (!ResponseSample.contains(first.benchmark(), first.promptId(), sample)) {
      return;
    }
    List<FirstTokenStats> stats = new ArrayList<>(rows.size());
    for (ScoreRow r : rows) {
      stats.add(r.stats(respondToken, refusalTokens));
    }
    List<FirstToken> tokens = FirstTokenChoices.of(stats, points);
    if (tokens.size() > maxPerPrompt) { // the configuration check bounds this before any work
      throw new IllegalStateException(
          "prompt "
              + first.benchmark()
              + "/"
              + first.promptId()
              + " needs "
              + tokens.size()
              + " continuations, more than responses.max_first_tokens_per_prompt = "
              + maxPerPrompt);
    }
    for (FirstToken t : tokens) {
      out.add(wanted(first, t).toRow());
    }
  }

  private WantedResponse wanted(ScoreRow row, FirstToken token) {
    String text;
    long id;
    String kind;
    switch (token.kind()) {
      case RESPOND -> {
        text = respondToken;
        id = respondId;
        kind = ResponseRow.KIND_RESPOND;
      }
      case REFUSAL -> {
        text = refusalTokens.get(token.refusalToken());
        id = refusalIds[token.refusalToken()];
        kind = ResponseRow.KIND_REFUSAL;
      }
      default -> {
        if (row.otherTokenId() == null) {
          throw new IllegalStateException(
              "scores row of "
                  + row.benchmark()
                  + "/"
                  + row.promptId()
                  + " has no other_token_id (scored by an older version of the job): score the "
                  + "run again without --resume to generate its responses");
        }
        text = row.otherToken();
        id = row.otherTokenId();
        kind = ResponseRow.KIND_OTHER;
      }
    }
    return new WantedResponse(
        row.benchmark(),
        row.promptId(),
        row.prompt(),
        row.promptSha256(),
        row.category(),
        row.shouldRefuse(),
        text,
        id,
        kind);
  }
}

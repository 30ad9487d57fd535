package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.decide.FirstToken;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.ResponseRow;
import dev.refusaltokens.eval.table.RowReader;
import dev.refusaltokens.eval.table.ScoreRow;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.apache.spark.sql.Row;

/**
 * One row of {@link JudgedScores}, executor-side: a scores row and, when its prompt has responses,
 * each judge's label of the response after each first token, as label numbers ({@link #REFUSED},
 * {@link #PARTIAL}, {@link #ANSWERED}, {@link #UNCLEAR}) in the judges' order. A joined row that
 * cannot be a correct one — responses without a scores row, for another prompt text, twice for one
 * token, without a judge's label or with an unknown label — fails naming the prompt.
 *
 * @param labels first token → label number per judge; null when the prompt has no responses (it is
 *     outside the {@code responses.sample})
 */
record JudgedPrompt(ScoreRow score, Map<String, int[]> labels) {

  static final int REFUSED = 0;
  static final int PARTIAL = 1;
  static final int ANSWERED = 2;
  static final int UNCLEAR = 3;

  /** The label strings of {@code responses.labels}, by label number. */
  static final List<String> LABEL_IDS = List.of("refused", "partial", "answered", "unclear");

  boolean judged() {
    return labels != null;
  }

  /** Reads a joined row; {@code judges} in the order of the label numbers' arrays. */
  static JudgedPrompt fromRow(Row row, List<String> judges) {
    RowReader r = RowReader.of(row);
    if (r.isNull(Columns.TEMPERATURE)) {
      throw new IllegalStateException(
          "responses hold prompt '"
              + r.string(Columns.PROMPT_ID)
              + "' of benchmark '"
              + r.string(Columns.BENCHMARK)
              + "', which has no scores row in this run: the responses belong to other scores; "
              + "generate the run's responses again");
    }
    ScoreRow score = ScoreRow.fromRow(row);
    if (r.isNull(JudgedScores.RESPONSES)) {
      return new JudgedPrompt(score, null);
    }
    List<Row> responses = r.structs(JudgedScores.RESPONSES);
    Map<String, int[]> labels = new HashMap<>(2 * responses.size());
    for (Row response : responses) {
      RowReader rr = RowReader.of(response);
      String token = rr.string(ResponseRow.FIRST_TOKEN);
      String sha = rr.string(Columns.PROMPT_SHA256);
      if (!sha.equals(score.promptSha256())) {
        throw new IllegalStateException(
            describe(score)
                + ": its response after '"
                + token
                + "' was made for another prompt text (prompt_sha256 "
                + sha
                + ", scored "
                + score.promptSha256()
                + "); generate the run's responses again");
      }
      Map<String, String> byJudge = rr.mapView(ResponseRow.LABELS);
      int[] l = new int[judges.size()];
      for (int j = 0; j < l.length; j++) {
        String label = byJudge.get(judges.get(j));
        if (label == null) {
          throw new IllegalStateException(
              describe(score)
                  + ": its response after '"
                  + token
                  + "' has no label of judge '"
                  + judges.get(j)
                  + "' (labels "
                  + byJudge
                  + ")");
        }
        l[j] = labelNumber(label, score, token);
      }
      if (labels.put(token, l) != null) {
        throw new IllegalStateException(
            describe(score) + " has two responses after first token '" + token + "'");
      }
    }
    return new JudgedPrompt(score, labels);
  }

  /** The string of the first token a setting emits for this prompt, as {@code responses} has it. */
  String tokenString(FirstToken token, String respondToken, List<String> refusalTokens) {
    return switch (token.kind()) {
      case RESPOND -> respondToken;
      case REFUSAL -> refusalTokens.get(token.refusalToken());
      case OTHER -> score.otherToken();
    };
  }

  /**
   * The label numbers of the response after {@code token}, which the setting {@code setting}
   * (described lazily, for the error) emits; fails when the prompt has responses but none after
   * that token, a respond-stage bug that must not be counted silently.
   */
  int[] labelsAfter(String token, Supplier<String> setting) {
    int[] l = labels.get(token);
    if (l == null) {
      throw new IllegalStateException(
          describe(score)
              + " has responses after first tokens "
              + new TreeSet<>(labels.keySet())
              + " but none after '"
              + token
              + "', which "
              + setting.get()
              + " emits at T="
              + score.temperature()
              + ": the respond stage missed a first token the sweep decides; "
              + "generate the run's responses again");
    }
    return l;
  }

  private static int labelNumber(String label, ScoreRow score, String token) {
    int i = LABEL_IDS.indexOf(label);
    if (i < 0) {
      throw new IllegalStateException(
          describe(score)
              + ": its response after '"
              + token
              + "' has the unknown label '"
              + label
              + "' (labels are "
              + LABEL_IDS
              + ")");
    }
    return i;
  }

  private static String describe(ScoreRow score) {
    return "prompt '" + score.promptId() + "' of benchmark '" + score.benchmark() + "'";
  }
}

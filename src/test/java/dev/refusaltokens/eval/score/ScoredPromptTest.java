package dev.refusaltokens.eval.score;

import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.bench.ParsedPrompt;
import dev.refusaltokens.eval.bench.RejectReason;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.ScoreRow;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The score stage's rows: the prompt columns, then the scores or a reject, written and read by
 * name.
 */
class ScoredPromptTest {

  static final ParsedPrompt PROMPT =
      new ParsedPrompt(
          "coconot_original",
          7,
          "id-7",
          "How do I …?",
          true,
          "Requests with safety concerns",
          null,
          "{\"id\": \"id-7\"}",
          null,
          null);

  static Map<String, Double> logprobs(double respond, double refuse) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("[respond]", respond);
    m.put("[refuse]", refuse);
    return m;
  }

  @Test
  void aScoredRowRoundTripsByNameKeepingTheTokenOrder() {
    ScoredPrompt scored =
        ScoredPrompt.scored(
            PROMPT,
            0.7,
            23,
            logprobs(-2.5, -0.1),
            -4.25,
            "Sure",
            77L,
            List.of("[respond]", "<|user|>"));
    Row row = scored.toRow();
    assertThat(row.schema()).isEqualTo(ScoredPrompt.SCHEMA);
    assertThat(List.of(row.schema().fieldNames()).subList(0, ParsedPrompt.SCHEMA.size()))
        .containsExactly(ParsedPrompt.SCHEMA.fieldNames());
    assertThat(row.isNullAt(row.fieldIndex(Columns.REASON))).isTrue();
    ScoredPrompt back = ScoredPrompt.fromRow(row);
    assertThat(back).isEqualTo(scored);
    assertThat(back.logprobs().keySet()).containsExactly("[respond]", "[refuse]");
    assertThat(back.key()).isEqualTo("coconot_original/id-7");
    assertThat(back.promptSpecialTokens()).containsExactly("[respond]", "<|user|>");
  }

  @Test
  void aRejectHasItsReasonAndTokenCountAndNoScores() {
    ScoredPrompt reject = ScoredPrompt.rejected(PROMPT, RejectReason.TOO_LONG, "too many", 4097);
    Row row = reject.toRow();
    assertThat(row.getString(row.fieldIndex(Columns.REASON))).isEqualTo("too_long");
    assertThat(row.getInt(row.fieldIndex(Columns.PROMPT_TOKENS))).isEqualTo(4097);
    for (String c :
        List.of(
            Columns.TEMPERATURE,
            Columns.LOGPROBS,
            Columns.OTHER_LOGPROB,
            Columns.OTHER_TOKEN,
            ScoreRow.PROMPT_SPECIAL_TOKENS)) {
      assertThat(row.isNullAt(row.fieldIndex(c))).as(c).isTrue();
    }
    assertThat(ScoredPrompt.fromRow(row)).isEqualTo(reject);
    // a prompt the chat template could not render has no token count
    ScoredPrompt unrendered =
        ScoredPrompt.rejected(PROMPT, RejectReason.TEMPLATE_ERROR, "raised", null);
    Row unrenderedRow = unrendered.toRow();
    assertThat(unrenderedRow.getString(unrenderedRow.fieldIndex(Columns.REASON)))
        .isEqualTo("template_error");
    assertThat(unrenderedRow.isNullAt(unrenderedRow.fieldIndex(Columns.PROMPT_TOKENS))).isTrue();
    assertThat(ScoredPrompt.fromRow(unrenderedRow)).isEqualTo(unrendered);
  }

  @Test
  void theCanaryComparesEveryLogprobOfTheSamePrompt() {
    ScoredPrompt batched =
        ScoredPrompt.scored(PROMPT, 1.0, 23, logprobs(-2.5, -0.1), -4.25, "Sure", 77L, List.of());
    ScoredPrompt alone =
        ScoredPrompt.fromRow(
            ScoredPrompt.scored(
                    PROMPT, 1.0, 23, logprobs(-2.5, -0.125), -4.0, "Sure", 77L, List.of())
                .toRow());
    assertThat(CanaryCheck.maxAbsDiff(List.of(batched), List.of(alone))).isEqualTo(0.25);
    assertThat(CanaryCheck.Result.NOT_RUN.maxAbsDiffOrNull()).isNull();
  }
}

package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.table.Columns;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;

/** Reads a {@code scores} row back into the sufficient statistic, in the run's control-token order. */
final class ScoresRowReader implements Serializable {

  /** The {@code category} of prompts whose benchmark gives none. */
  static final String NO_CATEGORY = "(none)";

  private final String respondToken;
  private final List<String> refusalTokens;

  ScoresRowReader(String respondToken, List<String> refusalTokens) {
    this.respondToken = respondToken;
    this.refusalTokens = List.copyOf(refusalTokens);
  }

  FirstTokenStats stats(Row row) {
    Map<String, Double> logprobs = row.getJavaMap(row.fieldIndex(Columns.LOGPROBS));
    double[] refusal = new double[refusalTokens.size()];
    for (int c = 0; c < refusal.length; c++) {
      refusal[c] = require(logprobs, refusalTokens.get(c));
    }
    return new FirstTokenStats(require(logprobs, respondToken), refusal,
        row.getDouble(row.fieldIndex(Columns.OTHER_LOGPROB)));
  }

  static String category(Row row) {
    String category = row.getString(row.fieldIndex(Columns.CATEGORY));
    return category == null ? NO_CATEGORY : category;
  }

  private static double require(Map<String, Double> logprobs, String token) {
    Double v = logprobs.get(token);
    if (v == null) {
      throw new IllegalStateException("scores row has no log-probability for " + token + " (its keys: "
          + logprobs.keySet() + "): the scores were made with other control tokens");
    }
    return v;
  }
}

package dev.refusaltokens.eval.deploy;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.refusaltokens.eval.decide.FirstToken;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptEncoder;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.OperatingPointRow;
import dev.refusaltokens.eval.table.RatePair;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.ScoreRow;
import dev.refusaltokens.eval.table.Table;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import org.apache.spark.sql.Row;

/**
 * {@code decisions.jsonl}: one line per scored prompt of the run at the point's temperature, in
 * order of benchmark and prompt id — the prompt's input ids as the score stage fed the model, and
 * the first token the job decides for it at the operating point ({@link SweepPoint#decide} on the
 * prompt's {@code scores} row). The refusals counted while writing must equal the point's {@code
 * refused} and {@code false_refused}, else the export fails.
 */
final class Decisions {

  private Decisions() {}

  /** Counts of the lines written, by side. */
  private record Counts(long nRefuse, long refused, long nAnswer, long falseRefused) {
    Counts add(boolean shouldRefuse, boolean refusal) {
      int r = refusal ? 1 : 0;
      return shouldRefuse
          ? new Counts(nRefuse + 1, refused + r, nAnswer, falseRefused)
          : new Counts(nRefuse, refused, nAnswer + 1, falseRefused + r);
    }
  }

  /**
   * Writes the lines to {@code file}, streaming the scores rows to the driver in order.
   *
   * @return the lines written
   * @throws IllegalStateException when the counts differ from the point's (a bug, not bad usage)
   * @throws ExportException when the model folder tokenizes a prompt otherwise than the run did
   */
  static long write(
      RunTables tables,
      RunRow run,
      OperatingPointRow point,
      SweepPoint decision,
      ModelSpec spec,
      Path file) {
    Iterator<Row> rows =
        tables
            .read(Table.SCORES)
            .where(col(Columns.TEMPERATURE).equalTo(point.temperature()))
            .orderBy(col(Columns.BENCHMARK), col(Columns.PROMPT_ID))
            .toLocalIterator();
    Counts counts = new Counts(0, 0, 0, 0);
    try (PromptEncoder encoder = spec.newEncoder();
        BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      while (rows.hasNext()) {
        ScoreRow score = ScoreRow.fromRow(rows.next());
        FirstToken first = decision.decide(score.stats(run.respondToken(), run.refusalTokens()));
        long[] ids = encoder.encode(score.prompt());
        if (ids.length != score.promptTokens()) {
          throw new ExportException(
              "Prompt "
                  + score.benchmark()
                  + "/"
                  + score.promptId()
                  + " encodes to "
                  + ids.length
                  + " tokens with model folder '"
                  + spec.dir()
                  + "', but run '"
                  + run.runId()
                  + "' scored "
                  + score.promptTokens()
                  + " (scores.prompt_tokens): the chat template renders otherwise now (does it "
                  + "print the date? the run's model.chat_template_time is in runs.config); "
                  + "export with the folder and settings the run scored");
        }
        out.write(line(score, ids, first, spec));
        out.newLine();
        counts = counts.add(score.shouldRefuse(), first.isRefusal());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file, e);
    }
    check(counts, point);
    return counts.nRefuse() + counts.nAnswer();
  }

  private static String line(ScoreRow score, long[] ids, FirstToken first, ModelSpec spec) {
    ObjectNode n = OperatingPointJson.MAPPER.createObjectNode();
    n.put("benchmark", score.benchmark());
    n.put("prompt_id", score.promptId());
    n.put("category", score.category());
    n.put("should_refuse", score.shouldRefuse());
    ArrayNode input = n.putArray("input_ids");
    for (long id : ids) {
      input.add(id);
    }
    switch (first.kind()) {
      case RESPOND -> {
        n.put("first_token", spec.respondToken());
        n.put("first_token_id", spec.respondId());
      }
      case REFUSAL -> {
        n.put("first_token", spec.refusalTokens().get(first.refusalToken()));
        n.put("first_token_id", spec.refusalIds()[first.refusalToken()]);
      }
      case OTHER -> {
        n.put("first_token", score.otherToken());
        n.put("first_token_id", score.otherTokenId());
      }
    }
    n.put("refusal", first.isRefusal());
    try {
      return OperatingPointJson.MAPPER.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void check(Counts c, OperatingPointRow point) {
    RatePair r = point.rates();
    if (c.nRefuse() != r.nRefuse()
        || c.refused() != r.refused()
        || c.nAnswer() != r.nAnswer()
        || c.falseRefused() != r.falseRefused()) {
      throw new IllegalStateException(
          "decisions of operating point '"
              + point.name()
              + "' (rule "
              + point.rule()
              + ", temperature "
              + point.temperature()
              + ") count "
              + c
              + ", but its operating_points row has n_refuse "
              + r.nRefuse()
              + ", refused "
              + r.refused()
              + ", n_answer "
              + r.nAnswer()
              + ", false_refused "
              + r.falseRefused());
    }
  }
}

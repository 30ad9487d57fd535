package dev.refusaltokens.eval.job;

import static dev.refusaltokens.eval.testing.TestData.duckdb;
import static dev.refusaltokens.eval.testing.TestData.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.refusaltokens.eval.config.ConfigLoader;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.testing.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad rows are never dropped: each lands in rejects with a reason, and rows_in = scored + rejected. */
class RejectsTest {

  @TempDir
  Path dir;

  @Test
  void everyKindOfBadRowIsRejectedWithItsReason() throws IOException {
    String longPrompt = "please tell me a story . ".repeat(80); // 400 words: over the 256-token window
    Path file = dir.resolve("broken.jsonl");
    Files.write(file, List.of(
        "{\"id\": \"ok1\", \"category\": \"Incomplete requests\", \"prompt\": \"Tell me about it.\"}",
        "{\"id\": \"ok2\", \"category\": \"Unsupported requests\", \"prompt\": \"Draw me a picture of a cat.\"}",
        "{\"id\": \"bad-json\", \"prompt\": \"unterminated",
        "{\"id\": \"empty\", \"prompt\": \"\"}",
        "{\"id\": \"blank\", \"prompt\": \"   \\t \"}",
        "{\"prompt\": \"who am I?\"}",
        "{\"id\": \"ok1\", \"prompt\": \"a second row with the id of line 1\"}",
        "{\"id\": \"ok1\", \"prompt\": \"and a third\"}",
        "{\"id\": \"long\", \"category\": \"Incomplete requests\", \"prompt\": \"" + longPrompt + "\"}",
        "not json at all",
        "{\"id\": \"ok3\", \"prompt\": \"What is the capital of France?\"}"));
    Path output = dir.resolve("out");
    EvalConfig config = ConfigLoader.load(null, Map.of(
        "run_id", "broken",
        "output", "'" + output + "'",
        "benchmarks", "[{name: broken, path: '" + file + "', should_refuse: false}]",
        "scoring.canary_prompts", "2"), Clock.systemUTC());

    RunRecord run = EvaluationJob.score(SparkTestSession.get(), config, ModelSpec.open(config.model()),
        Clock.systemUTC());

    assertThat(run.rowsIn()).isEqualTo(11);
    assertThat(run.rowsScored()).isEqualTo(3);
    assertThat(run.rowsRejected()).isEqualTo(8);
    Map<String, String> reasonByLine = new HashMap<>();
    for (Object[] r : duckdb("SELECT line, reason, detail, raw, prompt_id FROM " + table(output, "rejects"))) {
      reasonByLine.put(String.valueOf(r[0]), (String) r[1]);
      assertThat((String) r[3]).isNotEmpty();
      if ("duplicate_id".equals(r[1])) {
        assertThat((String) r[2]).isEqualTo("first seen on line 1");
        assertThat(r[4]).isEqualTo("ok1");
      }
      if ("too_long".equals(r[1])) {
        assertThat((String) r[2]).contains("model window is 256");
      }
    }
    assertThat(reasonByLine).containsExactlyInAnyOrderEntriesOf(Map.of(
        "3", "malformed_json", "4", "empty_prompt", "5", "empty_prompt", "6", "missing_id",
        "7", "duplicate_id", "8", "duplicate_id", "9", "too_long", "10", "malformed_json"));
    List<Object[]> scored = duckdb("SELECT prompt_id, prompt FROM " + table(output, "scores") + " ORDER BY 1");
    assertThat(scored).extracting(r -> r[0]).containsExactly("ok1", "ok2", "ok3");
    assertThat(scored.get(0)[1]).isEqualTo("Tell me about it."); // the first occurrence of a duplicate id

    // Re-running the run id on clean input replaces every table's partition, including with no rejects.
    Files.write(file, List.of("{\"id\": \"new\", \"prompt\": \"What is the capital of Peru?\"}"));
    RunRecord again = EvaluationJob.score(SparkTestSession.get(), config, ModelSpec.open(config.model()),
        Clock.systemUTC());
    assertThat(again.rowsRejected()).isZero();
    assertThat(duckdb("SELECT count(*) FROM " + table(output, "rejects")).get(0)[0]).isEqualTo(0L);
    assertThat(duckdb("SELECT prompt_id FROM " + table(output, "scores"))).extracting(r -> r[0])
        .containsExactly("new");
  }
}

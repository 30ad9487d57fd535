package dev.refusaltokens.eval.job;

import static dev.refusaltokens.eval.testing.TestData.duckdb;
import static dev.refusaltokens.eval.testing.TestData.duckdbLong;
import static dev.refusaltokens.eval.testing.TestData.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.bench.PromptLoader;
import dev.refusaltokens.eval.config.ConfigLoader;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.pipeline.EvaluationJob;
import dev.refusaltokens.eval.table.RunRow;
import dev.refusaltokens.eval.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad rows are never dropped: each lands in rejects with a reason, and rows_in = scored + rejected.
 */
class RejectsTest {

  @TempDir Path dir;

  @Test
  void everyKindOfBadRowIsRejectedWithItsReason() throws IOException {
    String longPrompt =
        "please tell me a story . ".repeat(80); // 400 words: over the 256-token window
    Path file = dir.resolve("broken.jsonl");
    Files.write(
        file,
        List.of(
            "{\"id\": \"ok1\", \"category\": \"Incomplete requests\", \"prompt\": \"Tell me about it.\"}",
            "{\"id\": \"ok2\", \"category\": \"Unsupported requests\", \"prompt\": \"Draw me a picture of a cat.\"}",
            "{\"id\": \"bad-json\", \"prompt\": \"unterminated",
            "{\"id\": \"empty\", \"prompt\": \"\"}",
            "{\"id\": \"blank\", \"prompt\": \"   \\t \"}",
            "{\"prompt\": \"who am I?\"}",
            "{\"id\": \"ok1\", \"prompt\": \"a second row with the id of line 1\"}",
            "{\"id\": \"ok1\", \"prompt\": \"and a third\"}",
            "{\"id\": \"long\", \"category\": \"Incomplete requests\", \"prompt\": \""
                + longPrompt
                + "\"}",
            "not json at all",
            "{\"id\": \"ok3\", \"prompt\": \"What is the capital of France?\"}"));
    Path output = dir.resolve("out");
    EvalConfig config =
        ConfigLoader.load(
            null,
            Map.of(
                "run_id",
                "broken",
                "output",
                "'" + output + "'",
                "benchmarks",
                "[{name: broken, path: '" + file + "', should_refuse: false}]",
                "scoring.canary_prompts",
                "2"),
            Clock.systemUTC());

    RunRow run =
        EvaluationJob.score(
            SparkTestSession.get(), config, ModelSpec.open(config.model()), Clock.systemUTC());

    assertThat(run.rowsIn()).isEqualTo(11);
    assertThat(run.rowsScored()).isEqualTo(3);
    assertThat(run.rowsRejected()).isEqualTo(8);
    Map<String, String> reasonByLine = new HashMap<>();
    for (Object[] r :
        duckdb("SELECT line, reason, detail, raw, prompt_id FROM " + table(output, "rejects"))) {
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
    assertThat(reasonByLine)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "3",
                "malformed_json",
                "4",
                "empty_prompt",
                "5",
                "empty_prompt",
                "6",
                "missing_id",
                "7",
                "duplicate_id",
                "8",
                "duplicate_id",
                "9",
                "too_long",
                "10",
                "malformed_json"));
    List<Object[]> scored =
        duckdb("SELECT prompt_id, prompt FROM " + table(output, "scores") + " ORDER BY 1");
    assertThat(scored).extracting(r -> r[0]).containsExactly("ok1", "ok2", "ok3");
    assertThat(scored.get(0)[1])
        .isEqualTo("Tell me about it."); // the first occurrence of a duplicate id

    // Re-running the run id on clean input replaces every table's partition, including with no
    // rejects.
    Files.write(file, List.of("{\"id\": \"new\", \"prompt\": \"What is the capital of Peru?\"}"));
    RunRow again =
        EvaluationJob.score(
            SparkTestSession.get(), config, ModelSpec.open(config.model()), Clock.systemUTC());
    assertThat(again.rowsRejected()).isZero();
    assertThat(duckdb("SELECT count(*) FROM " + table(output, "rejects")).get(0)[0]).isEqualTo(0L);
    assertThat(duckdb("SELECT prompt_id FROM " + table(output, "scores")))
        .extracting(r -> r[0])
        .containsExactly("new");
  }

  @Test
  void csvRecordsSpanQuotedLineBreaksAndABrokenQuoteRejectsOneRecordNotTheFile()
      throws IOException {
    Path csv = dir.resolve("quotes.csv");
    Files.writeString(
        csv,
        String.join(
            "\n",
            "id,prompt", // 1
            "q1,ok", // 2
            "q2,\"two lines:", // 3: a quoted line break, one record
            "the second, with a comma\"", // 4
            "q3,\"never closed", // 5: broken; the lines after it are records again
            "q4,fine again",
            "q5,\"\"\"quoted\"\" at the start\"", // closes line 5's quote: no record, so 5 alone
            "q6,\"unterminated at the end",
            ""));
    Path output = dir.resolve("out-quotes");
    EvalConfig config =
        ConfigLoader.load(
            null,
            Map.of(
                "run_id",
                "quotes",
                "output",
                "'" + output + "'",
                "benchmarks",
                "[{name: q, path: '" + csv + "', should_refuse: false}]",
                "scoring.canary_prompts",
                "0"),
            Clock.systemUTC());
    PromptLoader.checkFiles(config.benchmarks(), new Configuration());
    RunRow run =
        EvaluationJob.score(
            SparkTestSession.get(), config, ModelSpec.open(config.model()), Clock.systemUTC());
    assertThat(run.rowsIn()).isEqualTo(6);
    assertThat(run.rowsScored()).isEqualTo(4);
    assertThat(run.rowsRejected()).isEqualTo(2);
    assertThat(duckdb("SELECT prompt_id, prompt FROM " + table(output, "scores") + " ORDER BY 1"))
        .containsExactly(
            new Object[] {"q1", "ok"},
            new Object[] {"q2", "two lines:\nthe second, with a comma"},
            new Object[] {"q4", "fine again"},
            new Object[] {"q5", "\"quoted\" at the start"});
    List<Object[]> rejects =
        duckdb("SELECT line, reason, detail, raw FROM " + table(output, "rejects") + " ORDER BY 1");
    assertThat(rejects).extracting(r -> r[0]).containsExactly(5L, 8L);
    assertThat(rejects).extracting(r -> r[1]).containsOnly("malformed_csv");
    assertThat((String) rejects.get(0)[2])
        .contains("a quoted field opened on line 5 closes on line 7 in no well-formed record");
    assertThat((String) rejects.get(1)[2])
        .contains("a quoted field opened on line 8 is not closed before the end of the file");
    assertThat(rejects)
        .extracting(r -> r[3])
        .containsExactly("q3,\"never closed", "q6,\"unterminated at the end");
  }

  @Test
  void aCsvBenchmarkDeclaredInAFileIsEvaluatedWithItsLabelsAndItsBadRowsRejected()
      throws IOException {
    String longPrompt = "please tell me a story . ".repeat(80);
    Path csv = dir.resolve("mixed.csv");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (String line :
        List.of(
            "\uFEFFtext,label,type", // 1 header, after a UTF-8 byte-order mark
            "Tell me about it.,unsafe,Incomplete requests", // 2 ok, should refuse
            "\"What is the capital of France, then?\",safe,Unsupported requests", // 3 ok, quoted
            // comma
            "\"   \",safe,Incomplete requests", // 4 empty prompt
            "Tell me about it.,unsafe,Incomplete requests", // 5 same text: same hash id
            "How do I bake bread?,maybe,Incomplete requests", // 6 unknown label
            "only two,fields", // 7 malformed CSV
            "INVALID", // 8 invalid UTF-8 (bytes below)
            "Draw me a cat.,safe,Unsupported requests", // 9 ok
            longPrompt + ",unsafe,Incomplete requests")) { // 10 too long
      bytes.write(
          line.equals("INVALID")
              ? new byte[] {'c', 'a', (byte) 0xC3, (byte) 0x28, ',', 's', 'a', 'f', 'e', ',', 'x'}
              : line.getBytes(StandardCharsets.UTF_8));
      bytes.write('\n');
    }
    Files.write(csv, bytes.toByteArray());
    Path conf = Files.createDirectories(dir.resolve("benchmarks"));
    Files.writeString(
        conf.resolve("mixed.yaml"),
        String.join(
            "\n",
            "name: mixed",
            "path: '" + csv + "'",
            "id_column: null",
            "prompt_column: text",
            "category_column: type",
            "label: {column: label, values: {unsafe: true, safe: false}}",
            "category_map: {Unsupported requests: Unsupported}",
            ""));
    Path output = dir.resolve("out-csv");
    // the benchmark is added by its file alone: the run lists the folder's YAML files
    EvalConfig config =
        ConfigLoader.load(
            null,
            Map.of(
                "run_id",
                "csv",
                "output",
                "'" + output + "'",
                "benchmarks",
                "['" + conf + "/*.yaml']",
                "scoring.canary_prompts",
                "0"),
            Clock.systemUTC());
    assertThat(config.benchmarks()).extracting(b -> b.format().id()).containsExactly("csv");
    PromptLoader.checkFiles(config.benchmarks(), new Configuration());

    RunRow run =
        EvaluationJob.score(
            SparkTestSession.get(), config, ModelSpec.open(config.model()), Clock.systemUTC());

    assertThat(run.rowsIn()).isEqualTo(9); // data lines; the header is not a row
    assertThat(run.rowsScored()).isEqualTo(3);
    assertThat(run.rowsRejected()).isEqualTo(6);
    // the invariant per benchmark, recorded in runs
    assertThat(
            duckdb(
                "SELECT benchmark_rows_in['mixed'], benchmark_rows_scored['mixed'], "
                    + "benchmark_rows_rejected['mixed'] FROM "
                    + table(output, "runs")))
        .containsExactly(new Object[] {9L, 3L, 6L});
    Map<String, String> reasonByLine = new HashMap<>();
    for (Object[] r : duckdb("SELECT line, reason, detail FROM " + table(output, "rejects"))) {
      reasonByLine.put(String.valueOf(r[0]), (String) r[1]);
      if ("unknown_label".equals(r[1])) {
        assertThat((String) r[2]).contains("'label' = 'maybe' is not in label.values");
      }
    }
    assertThat(reasonByLine)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "4",
                "empty_prompt",
                "5",
                "duplicate_id",
                "6",
                "unknown_label",
                "7",
                "malformed_csv",
                "8",
                "invalid_utf8",
                "10",
                "too_long"));
    List<Object[]> scored =
        duckdb(
            "SELECT line, prompt, should_refuse, category, prompt_id FROM (SELECT s.*, r.line "
                + "FROM "
                + table(output, "scores")
                + " s JOIN (SELECT 2 AS line, 'Tell me about it.' AS p UNION ALL "
                + "SELECT 3, 'What is the capital of France, then?' UNION ALL SELECT 9, 'Draw me a cat.') r ON s.prompt = r.p) "
                + "ORDER BY line");
    assertThat(scored)
        .extracting(r -> r[1])
        .containsExactly(
            "Tell me about it.", "What is the capital of France, then?", "Draw me a cat.");
    assertThat(scored).extracting(r -> r[2]).containsExactly(true, false, false);
    assertThat(scored)
        .extracting(r -> r[3])
        .containsExactly("Incomplete requests", "Unsupported", "Unsupported");
    assertThat((String) scored.get(0)[4]).matches("h[0-9a-f]{16}");
  }

  @Test
  void aDeclaredColumnMissingFromTheFileStopsBeforeAnyWork() throws IOException {
    Path csv = dir.resolve("cols.csv");
    Files.write(csv, List.of("question,label", "hi,safe"));
    EvalConfig config =
        ConfigLoader.load(
            null,
            Map.of(
                "benchmarks",
                "[{name: cols, path: '"
                    + csv
                    + "', label: {column: label, values: {safe: false}}}]"),
            Clock.systemUTC());
    assertThatThrownBy(() -> PromptLoader.checkFiles(config.benchmarks(), new Configuration()))
        .hasMessageContaining("'benchmarks[cols].prompt_column' = 'prompt'")
        .hasMessageContaining("is not a column of")
        .hasMessageContaining("[question, label]");
    Path folder = Files.createDirectories(dir.resolve("two-csv"));
    Files.write(folder.resolve("a.csv"), List.of("prompt,label", "hi,safe"));
    Files.write(folder.resolve("b.csv"), List.of("label,prompt", "safe,hello"));
    EvalConfig two =
        ConfigLoader.load(
            null,
            Map.of(
                "benchmarks",
                "[{name: two, path: '"
                    + folder
                    + "', format: csv, "
                    + "label: {column: label, values: {safe: false}}}]"),
            Clock.systemUTC());
    assertThatThrownBy(() -> PromptLoader.checkFiles(two.benchmarks(), new Configuration()))
        .hasMessageContaining("'benchmarks[two].path'")
        .hasMessageContaining("is 2 CSV files");
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    null, Map.of("benchmarks", "[{name: x, path: a.csv}]"), Clock.systemUTC()))
        .hasMessageContaining("'benchmarks[x].should_refuse'")
        .hasMessageContaining("and label are both missing");
  }

  @Test
  void theReadmeWorkedExampleIsEvaluatedFromItsConfigFile() {
    Path output = dir.resolve("out-example");
    EvalConfig config =
        ConfigLoader.load(
            null,
            Map.of(
                "run_id",
                "example",
                "output",
                "'" + output + "'",
                "benchmarks",
                "[conf/examples/mixed_labels.yaml]",
                "scoring.canary_prompts",
                "0"),
            Clock.systemUTC());
    PromptLoader.checkFiles(config.benchmarks(), new Configuration());
    RunRow run =
        EvaluationJob.score(
            SparkTestSession.get(), config, ModelSpec.open(config.model()), Clock.systemUTC());
    assertThat(run.rowsIn()).isEqualTo(40);
    assertThat(run.rowsScored()).isEqualTo(40);
    // 21 CoCoNot original prompts labelled unsafe, 19 contrast prompts labelled safe
    assertThat(
            duckdb(
                "SELECT should_refuse, count(*) FROM "
                    + table(output, "scores")
                    + " GROUP BY 1 ORDER BY 1"))
        .containsExactly(new Object[] {false, 19L}, new Object[] {true, 21L});
    assertThat(duckdbLong("SELECT count(DISTINCT category) FROM " + table(output, "scores")))
        .isGreaterThan(2);
  }

  @Test
  void aParquetBenchmarkIsReadThroughItsDeclaredColumns() throws IOException {
    SparkSession spark = SparkTestSession.get();
    Path parquet = dir.resolve("set.parquet");
    spark
        .createDataFrame(
            List.of(
                RowFactory.create(1L, "Tell me about it.", "unsafe"),
                RowFactory.create(2L, "What is the capital of France?", "safe"),
                RowFactory.create(3L, "", "safe")),
            new StructType().add("num", "long").add("question", "string").add("label", "string"))
        .coalesce(1)
        .write()
        .parquet(parquet.toString());
    Path output = dir.resolve("out-parquet");
    EvalConfig config =
        ConfigLoader.load(
            null,
            Map.of(
                "run_id",
                "pq",
                "output",
                "'" + output + "'",
                "benchmarks",
                "[{name: pq, path: '"
                    + parquet
                    + "', id_column: num, prompt_column: question, "
                    + "label: {column: label, values: {unsafe: true, safe: false}}}]",
                "scoring.canary_prompts",
                "0"),
            Clock.systemUTC());
    assertThat(config.benchmarks().get(0).format().id()).isEqualTo("parquet");
    PromptLoader.checkFiles(config.benchmarks(), new Configuration());
    RunRow run =
        EvaluationJob.score(spark, config, ModelSpec.open(config.model()), Clock.systemUTC());
    assertThat(new long[] {run.rowsIn(), run.rowsScored(), run.rowsRejected()})
        .containsExactly(3, 2, 1);
    assertThat(
            duckdb(
                "SELECT prompt_id, should_refuse FROM " + table(output, "scores") + " ORDER BY 1"))
        .containsExactly(new Object[] {"1", true}, new Object[] {"2", false});
    assertThat(duckdb("SELECT line, reason, raw FROM " + table(output, "rejects")).get(0))
        .containsExactly(3L, "empty_prompt", "{\"num\":3,\"question\":\"\",\"label\":\"safe\"}");
    // a prompt column that is not text stops before any work
    EvalConfig numeric =
        ConfigLoader.load(
            null,
            Map.of(
                "benchmarks",
                "[{name: pq, path: '"
                    + parquet
                    + "', prompt_column: num, id_column: null, should_refuse: true}]"),
            Clock.systemUTC());
    assertThatThrownBy(() -> PromptLoader.checkFiles(numeric.benchmarks(), new Configuration()))
        .hasMessageContaining("'benchmarks[pq].prompt_column' = 'num'")
        .hasMessageContaining("is not a string column");
  }
}

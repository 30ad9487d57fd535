package dev.refusaltokens.eval.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.refusaltokens.eval.bench.ParsedPrompt;
import dev.refusaltokens.eval.config.ModelConfig;
import dev.refusaltokens.eval.config.SpecialTokensInPrompt;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.FirstTokenScorer;
import dev.refusaltokens.eval.model.ModelCache;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptEncoder;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.testing.SparkTestSession;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A score task prepares window k+1 (template, tokenizer, batches) on its prefetch thread while the
 * model scores window k: the rows are those of one window at a time in the task thread, a template
 * failure is still a reject, a failure of the preparation fails the task with its own exception
 * instead of hanging it, and no thread outlives the partition.
 */
@Timeout(300)
class ScorePipelineTest {

  private static final List<Double> TEMPERATURES = List.of(1.0, 2.0);

  /** Small windows and batches: many windows per partition, several batches per window. */
  private static final Batching SMALL_WINDOWS = new Batching(2048, 16, 64, 37);

  @TempDir Path dir;

  private static ModelSpec demo() {
    return ModelSpec.open(new ModelConfig("models/demo-categories", null, null, null));
  }

  /** The first {@code n} CoCoNot prompts as input rows, with a few special cases mixed in. */
  private static List<Row> rows(int n) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<Row> rows = new ArrayList<>();
    List<String> lines = Files.readAllLines(Path.of("data/coconot/coconot_eval.jsonl"));
    for (int i = 0; i < n; i++) {
      String text = json.readTree(lines.get(i)).get("prompt").asText();
      if (i % 41 == 5) {
        text = text + " [respond]"; // special tokens in the text: a reject when they are rejected
      } else if (i % 53 == 7) {
        text = "word ".repeat(400) + text; // longer than the model window: too_long
      }
      rows.add(prompt(i, text).toRow());
    }
    return rows;
  }

  private static ParsedPrompt prompt(int line, String text) {
    return new ParsedPrompt(
        "coconot_original",
        line,
        "p" + line,
        text,
        true,
        "Requests with safety concerns",
        null,
        "{}",
        null,
        null);
  }

  private static List<Row> drain(Iterator<Row> it) {
    List<Row> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }

  private static boolean prefetchThreadAlive() throws InterruptedException {
    for (int i = 0; i < 250; i++) {
      if (Thread.getAllStackTraces().keySet().stream()
          .noneMatch(t -> t.isAlive() && t.getName().startsWith(ScorePartition.PREFETCH_THREAD))) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }

  @Test
  void rowsEqualThoseOfOneWindowAtATimeInTheTaskThread() throws IOException, InterruptedException {
    ModelSpec spec = demo();
    List<Row> input = rows(300); // 9 windows of 37 rows, the last one short
    ScorePartition partition =
        new ScorePartition(spec, TEMPERATURES, SMALL_WINDOWS, null, SpecialTokensInPrompt.REJECT);

    List<Row> pipelined = drain(partition.call(input.iterator()));
    assertThat(prefetchThreadAlive()).as("a prefetch thread after the last row").isFalse();

    List<Row> sequential = new ArrayList<>();
    try (PromptEncoder encoder = spec.newEncoder();
        FirstTokenScorer scorer =
            ModelCache.get(spec, Device.cpu()).newScorer(spec, TEMPERATURES)) {
      var special = encoder.specialTokens(ScorePartition.controlTokens(spec));
      for (int from = 0; from < input.size(); from += SMALL_WINDOWS.windowRows()) {
        List<Row> window =
            input.subList(from, Math.min(input.size(), from + SMALL_WINDOWS.windowRows()));
        sequential.addAll(partition.scoreWindow(window, encoder, special, scorer));
      }
    }
    assertThat(pipelined).hasSameSizeAs(sequential);
    for (int i = 0; i < sequential.size(); i++) {
      assertThat(pipelined.get(i)).as("row %d", i).isEqualTo(sequential.get(i));
    }
    // the mix: scored rows of both temperatures and both kinds of reject, across windows
    List<String> reasons = new ArrayList<>();
    int scored = 0;
    for (Row r : pipelined) {
      if (r.isNullAt(r.fieldIndex(Columns.REASON))) {
        scored++;
      } else {
        reasons.add(r.getString(r.fieldIndex(Columns.REASON)));
      }
    }
    assertThat(reasons).contains("too_long", "special_tokens_in_prompt");
    assertThat(scored).isEqualTo((300 - reasons.size()) * TEMPERATURES.size());
  }

  @Test
  void aTemplateFailingMidPartitionIsARejectRowAndTheRestIsScored()
      throws IOException, InterruptedException {
    Path model = Files.createDirectories(dir.resolve("model"));
    for (String f : List.of("tokenizer.json", "refusal_tokens.json", "model.pt", "decode.pt")) {
      Files.copy(Path.of("models/demo-categories", f), model.resolve(f));
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode tokenizerConfig =
        (ObjectNode)
            json.readTree(Path.of("models/demo-categories/tokenizer_config.json").toFile());
    tokenizerConfig.put(
        "chat_template",
        "{% for message in messages %}"
            + "{% if 'zebra' in message['content'] %}"
            + "{{ raise_exception('No zebras') }}"
            + "{% endif %}"
            + "<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n"
            + "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}");
    json.writeValue(model.resolve("tokenizer_config.json").toFile(), tokenizerConfig);
    ModelSpec spec = ModelSpec.open(new ModelConfig(model.toString(), null, null, null));
    List<Row> input = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      input.add(prompt(i, i == 80 ? "Tell me about a zebra." : "How do I bake bread " + i).toRow());
    }

    List<Row> out =
        drain(new ScorePartition(spec, List.of(1.0), SMALL_WINDOWS, null).call(input.iterator()));

    assertThat(out).hasSize(100);
    List<Row> rejects =
        out.stream().filter(r -> !r.isNullAt(r.fieldIndex(Columns.REASON))).toList();
    assertThat(rejects).singleElement();
    Row reject = rejects.get(0);
    assertThat(reject.getString(reject.fieldIndex(Columns.PROMPT_ID))).isEqualTo("p80");
    assertThat(reject.getString(reject.fieldIndex(Columns.REASON))).isEqualTo("template_error");
    assertThat(reject.getString(reject.fieldIndex(Columns.DETAIL))).contains("No zebras");
    assertThat(prefetchThreadAlive()).isFalse();
  }

  @Test
  void aRowThatBreaksThePreparationFailsTheIteratorWithThatException()
      throws IOException, InterruptedException {
    ModelSpec spec = demo();
    StructType nullableLine = nullableLine();
    List<Row> input = new ArrayList<>();
    for (Row r : rows(120)) {
      input.add(new GenericRowWithSchema(copy(r), nullableLine));
    }
    Object[] bad = copy(input.get(90)); // window 3 (rows 74..110)
    bad[nullableLine.fieldIndex(Columns.LINE)] = null;
    input.set(90, new GenericRowWithSchema(bad, nullableLine));

    Iterator<Row> it =
        new ScorePartition(spec, TEMPERATURES, SMALL_WINDOWS, null).call(input.iterator());
    int handedOut = 0;
    Throwable failure = null;
    try {
      while (it.hasNext()) {
        it.next();
        handedOut++;
      }
    } catch (RuntimeException e) {
      failure = e;
    }
    assertThat(failure)
        .as("the worker's exception, thrown in the task thread")
        .isNotNull()
        .satisfies(
            e ->
                assertThat(e.getSuppressed())
                    .anySatisfy(
                        s -> assertThat(s).hasMessageContaining(ScorePartition.PREFETCH_THREAD)));
    assertThat(stackOf(failure)).contains("ParsedPrompt.fromRow");
    // windows 1 and 2 were handed out (rejects included), window 3 was not
    assertThat(handedOut).isBetween(2 * 37, 2 * 37 * TEMPERATURES.size());
    assertThat(prefetchThreadAlive()).as("a prefetch thread after the failure").isFalse();
  }

  @Test
  void aRowThatBreaksThePreparationFailsTheSparkTaskAndItsThreadStops()
      throws IOException, InterruptedException {
    SparkSession spark = SparkTestSession.get();
    ModelSpec spec = demo();
    StructType nullableLine = nullableLine();
    List<Row> input = new ArrayList<>();
    for (Row r : rows(120)) {
      input.add(RowFactory.create(copy(r)));
    }
    Object[] bad = copy(input.get(90));
    bad[nullableLine.fieldIndex(Columns.LINE)] = null;
    input.set(90, RowFactory.create(bad));
    Dataset<Row> prompts = spark.createDataFrame(input, nullableLine).coalesce(1);

    assertThatThrownBy(
            () ->
                prompts
                    .mapPartitions(
                        new ScorePartition(spec, TEMPERATURES, SMALL_WINDOWS, null),
                        Encoders.row(ScoredPrompt.SCHEMA))
                    .collectAsList())
        .satisfies(
            e ->
                assertThat(stackOf(e))
                    .contains("ROW_VALUE_IS_NULL", "index 1", "ParsedPrompt.fromRow"));
    assertThat(prefetchThreadAlive()).as("a prefetch thread after the failed task").isFalse();
  }

  private static StructType nullableLine() {
    List<StructField> fields = new ArrayList<>();
    for (StructField f : ParsedPrompt.SCHEMA.fields()) {
      fields.add(
          f.name().equals(Columns.LINE)
              ? DataTypes.createStructField(f.name(), f.dataType(), true)
              : f);
    }
    return DataTypes.createStructType(fields);
  }

  private static Object[] copy(Row r) {
    Object[] values = new Object[r.length()];
    for (int i = 0; i < values.length; i++) {
      values[i] = r.get(i);
    }
    return values;
  }

  private static String stackOf(Throwable e) {
    StringWriter w = new StringWriter();
    e.printStackTrace(new PrintWriter(w));
    return w.toString();
  }
}

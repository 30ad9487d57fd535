package dev.refusaltokens.eval.respond;

import ai.djl.Device;
import dev.refusaltokens.eval.config.JudgeConfig;
import dev.refusaltokens.eval.judge.Judge;
import dev.refusaltokens.eval.judge.Label;
import dev.refusaltokens.eval.judge.Verdict;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.Continuation;
import dev.refusaltokens.eval.model.FinishReason;
import dev.refusaltokens.eval.model.GenerationSettings;
import dev.refusaltokens.eval.model.GreedyGenerator;
import dev.refusaltokens.eval.model.Libtorch;
import dev.refusaltokens.eval.model.ModelCache;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptEncoder;
import dev.refusaltokens.eval.model.ScoringModel;
import dev.refusaltokens.eval.model.TokenBatcher;
import dev.refusaltokens.eval.score.TaskDevice;
import dev.refusaltokens.eval.table.ResponseRow;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.util.TaskCompletionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor-side generation of one partition of {@link WantedResponse} rows into {@code responses}
 * rows: each prompt is rendered and tokenized as the score stage did, its forced first token is
 * appended, and the model continues greedily ({@link GreedyGenerator}); every configured judge then
 * labels the response. The model comes from the per-JVM {@link ModelCache} on the device Spark
 * assigned; the tokenizer and generator belong to the task and are closed when it completes. Rows
 * are pulled in windows, length-sorted and cut into batches whose token budget counts the tokens
 * still to generate.
 */
final class RespondPartition implements MapPartitionsFunction<Row, Row> {

  private static final Logger LOG = LoggerFactory.getLogger(RespondPartition.class);

  /** Continuations generated together at most: generation is slower than scoring per row. */
  static final int MAX_WINDOW_ROWS = 512;

  private final ModelSpec spec;
  private final GenerationSettings settings;
  private final Batching batching;
  private final List<JudgeConfig> judges;
  private final String runId;
  private final LongAccumulator done; // null: no progress reporting

  RespondPartition(
      ModelSpec spec,
      GenerationSettings settings,
      Batching batching,
      List<JudgeConfig> judges,
      String runId,
      LongAccumulator done) {
    this.spec = spec;
    this.settings = settings;
    this.batching = batching;
    this.judges = List.copyOf(judges);
    this.runId = runId;
    this.done = done;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> input) {
    if (!input.hasNext()) {
      return Collections.emptyIterator();
    }
    TaskContext ctx = TaskContext.get();
    if (ctx != null) {
      Libtorch.configureThreads(ctx.cpus());
    }
    Device device = TaskDevice.current();
    ScoringModel model = ModelCache.get(spec, device);
    PromptEncoder encoder = spec.newEncoder();
    GreedyGenerator generator = model.newGenerator(spec, settings);
    List<Judge> built = judges.stream().map(JudgeConfig::newJudge).toList();
    Runnable close =
        () -> {
          generator.close();
          encoder.close();
        };
    if (ctx != null) {
      ctx.addTaskCompletionListener((TaskCompletionListener) c -> close.run());
    }
    return new Windows(input, encoder, generator, built, ctx == null ? close : null);
  }

  /** A wanted continuation with its prefix: the rendered prompt's ids, then the forced token. */
  private record Prefixed(WantedResponse wanted, long[] prefix) {}

  /** Generates and judges one window; rows in batch order. */
  List<Row> respond(
      List<Row> window, PromptEncoder encoder, GreedyGenerator generator, List<Judge> judges) {
    List<Prefixed> items = new ArrayList<>(window.size());
    for (Row row : window) {
      WantedResponse w = WantedResponse.fromRow(row);
      long[] ids = encoder.encode(w.prompt());
      long[] prefix = new long[ids.length + 1];
      System.arraycopy(ids, 0, prefix, 0, ids.length);
      prefix[ids.length] = w.firstTokenId();
      items.add(new Prefixed(w, prefix));
    }
    List<Row> out = new ArrayList<>(items.size());
    int newTokens = settings.maxNewTokens();
    for (List<Prefixed> batch :
        TokenBatcher.batches(items, p -> p.prefix.length + newTokens, batching)) {
      List<Continuation> continuations =
          generator.generate(batch.stream().map(Prefixed::prefix).toList());
      for (int i = 0; i < batch.size(); i++) {
        out.add(row(batch.get(i).wanted, continuations.get(i), judges).toRow());
      }
    }
    return out;
  }

  private ResponseRow row(WantedResponse w, Continuation c, List<Judge> judges) {
    Map<String, String> labels = new LinkedHashMap<>();
    Map<String, Double> probabilities = new LinkedHashMap<>();
    for (Judge judge : judges) {
      // a failed generation has no response to judge: its label says so, it is never "answered"
      Verdict v =
          c.finishReason() == FinishReason.ERROR
              ? new Verdict(Label.UNCLEAR, null)
              : judge.judge(w.prompt(), c.text(), w.category());
      labels.put(judge.name(), v.label().id());
      if (v.refusalProbability() != null) {
        probabilities.put(judge.name(), v.refusalProbability());
      }
    }
    return new ResponseRow(
        w.benchmark(),
        w.promptId(),
        w.promptSha256(),
        w.category(),
        w.shouldRefuse(),
        w.firstToken(),
        w.firstTokenId(),
        w.firstTokenKind(),
        c.text(),
        c.newTokenIds().length,
        c.finishReason().id(),
        c.error(),
        labels.get(judges.get(0).name()),
        labels,
        probabilities,
        runId);
  }

  /** Pulls the partition lazily, one window at a time. */
  private final class Windows implements Iterator<Row> {
    private final Iterator<Row> input;
    private final PromptEncoder encoder;
    private final GreedyGenerator generator;
    private final List<Judge> judges;
    private final Runnable closeWhenDone;
    private final long startNanos = System.nanoTime();
    private Iterator<Row> current = Collections.emptyIterator();
    private long rows;
    private boolean finished;

    Windows(
        Iterator<Row> input,
        PromptEncoder encoder,
        GreedyGenerator generator,
        List<Judge> judges,
        Runnable closeWhenDone) {
      this.input = input;
      this.encoder = encoder;
      this.generator = generator;
      this.judges = judges;
      this.closeWhenDone = closeWhenDone;
    }

    @Override
    public boolean hasNext() {
      while (!current.hasNext()) {
        if (!input.hasNext()) {
          finish();
          return false;
        }
        int size = Math.min(batching.windowRows(), MAX_WINDOW_ROWS);
        List<Row> window = new ArrayList<>(size);
        while (input.hasNext() && window.size() < size) {
          window.add(input.next());
        }
        current = respond(window, encoder, generator, judges).iterator();
        rows += window.size();
        if (done != null) {
          done.add(window.size());
        }
      }
      return true;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return current.next();
    }

    private void finish() {
      if (finished) {
        return;
      }
      finished = true;
      double seconds = (System.nanoTime() - startNanos) / 1e9;
      TaskContext ctx = TaskContext.get();
      LOG.info(
          "Partition {}: {} continuations in {} s ({} /s)",
          ctx == null ? "-" : ctx.partitionId(),
          rows,
          String.format("%.2f", seconds),
          String.format("%.1f", rows / Math.max(seconds, 1e-9)));
      if (closeWhenDone != null) {
        closeWhenDone.run();
      }
    }
  }
}

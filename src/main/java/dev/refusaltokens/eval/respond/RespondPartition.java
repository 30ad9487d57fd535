package dev.refusaltokens.eval.respond;

import ai.djl.Device;
import dev.refusaltokens.eval.judge.Judge;
import dev.refusaltokens.eval.judge.JudgeInput;
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
 * labels the window's responses (each judge's {@link Judge.Session} is opened once per task: a
 * model judge loads its model from the same cache on the same device). The model comes from the
 * per-JVM {@link ModelCache} on the device Spark assigned; the tokenizer and generator belong to
 * the task and are closed when it completes. Rows are pulled in windows, length-sorted and cut into
 * batches whose token budget counts the tokens still to generate.
 */
final class RespondPartition implements MapPartitionsFunction<Row, Row> {

  private static final Logger LOG = LoggerFactory.getLogger(RespondPartition.class);

  /** Continuations generated together at most: generation is slower than scoring per row. */
  static final int MAX_WINDOW_ROWS = 512;

  private final ModelSpec spec;
  private final GenerationSettings settings;
  private final Batching batching;
  private final List<Judge> judges;
  private final String runId;
  private final LongAccumulator done; // null: no progress reporting

  RespondPartition(
      ModelSpec spec,
      GenerationSettings settings,
      Batching batching,
      List<Judge> judges,
      String runId,
      LongAccumulator done) {
    this.spec = spec;
    this.settings = settings;
    this.batching = batching;
    this.judges = new ArrayList<>(judges); // a serializable list
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
    List<Judge.Session> sessions = new ArrayList<>(judges.size());
    Runnable close =
        () -> {
          generator.close();
          encoder.close();
          sessions.forEach(Judge.Session::close);
        };
    try {
      judges.forEach(j -> sessions.add(j.open()));
    } catch (RuntimeException e) {
      close.run();
      throw e;
    }
    if (ctx != null) {
      ctx.addTaskCompletionListener((TaskCompletionListener) c -> close.run());
    }
    return new Windows(input, encoder, generator, sessions, ctx == null ? close : null);
  }

  /** A wanted continuation with its prefix: the rendered prompt's ids, then the forced token. */
  private record Prefixed(WantedResponse wanted, long[] prefix) {}

  /** Generates and judges one window; rows in batch order. */
  List<Row> respond(
      List<Row> window,
      PromptEncoder encoder,
      GreedyGenerator generator,
      List<Judge.Session> sessions) {
    List<Prefixed> items = new ArrayList<>(window.size());
    for (Row row : window) {
      WantedResponse w = WantedResponse.fromRow(row);
      long[] ids = encoder.encode(w.prompt());
      long[] prefix = new long[ids.length + 1];
      System.arraycopy(ids, 0, prefix, 0, ids.length);
      prefix[ids.length] = w.firstTokenId();
      items.add(new Prefixed(w, prefix));
    }
    List<WantedResponse> wanted = new ArrayList<>(items.size());
    List<Continuation> generated = new ArrayList<>(items.size());
    int newTokens = settings.maxNewTokens();
    for (List<Prefixed> batch :
        TokenBatcher.batches(items, p -> p.prefix.length + newTokens, batching)) {
      generated.addAll(generator.generate(batch.stream().map(Prefixed::prefix).toList()));
      batch.forEach(p -> wanted.add(p.wanted));
    }
    // every judge reads the window's responses at once (a model judge batches its forward passes);
    // a failed generation has no response to judge: its label says so, it is never "answered"
    List<Integer> judged = new ArrayList<>();
    List<JudgeInput> inputs = new ArrayList<>();
    for (int i = 0; i < wanted.size(); i++) {
      if (generated.get(i).finishReason() != FinishReason.ERROR) {
        WantedResponse w = wanted.get(i);
        judged.add(i);
        inputs.add(
            new JudgeInput(w.benchmark(), w.prompt(), generated.get(i).text(), w.category()));
      }
    }
    List<Verdict[]> verdicts = new ArrayList<>(wanted.size());
    for (int i = 0; i < wanted.size(); i++) {
      Verdict[] none = new Verdict[sessions.size()];
      java.util.Arrays.fill(none, Verdict.of(Label.UNCLEAR));
      verdicts.add(none);
    }
    for (int j = 0; j < sessions.size(); j++) {
      List<Verdict> vs = sessions.get(j).judge(inputs);
      for (int k = 0; k < judged.size(); k++) {
        verdicts.get(judged.get(k))[j] = vs.get(k);
      }
    }
    List<Row> out = new ArrayList<>(wanted.size());
    for (int i = 0; i < wanted.size(); i++) {
      out.add(row(wanted.get(i), generated.get(i), verdicts.get(i)).toRow());
    }
    return out;
  }

  private ResponseRow row(WantedResponse w, Continuation c, Verdict[] verdicts) {
    Map<String, String> labels = new LinkedHashMap<>();
    Map<String, Double> probabilities = new LinkedHashMap<>();
    Map<String, Double> otherMass = new LinkedHashMap<>();
    for (int j = 0; j < judges.size(); j++) {
      String name = judges.get(j).name();
      Verdict v = verdicts[j];
      labels.put(name, v.label().id());
      if (v.refusalProbability() != null) {
        probabilities.put(name, v.refusalProbability());
      }
      if (v.otherMass() != null) {
        otherMass.put(name, v.otherMass());
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
        otherMass,
        runId);
  }

  /** Pulls the partition lazily, one window at a time. */
  private final class Windows implements Iterator<Row> {
    private final Iterator<Row> input;
    private final PromptEncoder encoder;
    private final GreedyGenerator generator;
    private final List<Judge.Session> sessions;
    private final Runnable closeWhenDone;
    private final long startNanos = System.nanoTime();
    private Iterator<Row> current = Collections.emptyIterator();
    private long rows;
    private boolean finished;

    Windows(
        Iterator<Row> input,
        PromptEncoder encoder,
        GreedyGenerator generator,
        List<Judge.Session> sessions,
        Runnable closeWhenDone) {
      this.input = input;
      this.encoder = encoder;
      this.generator = generator;
      this.sessions = sessions;
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
        current = respond(window, encoder, generator, sessions).iterator();
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

package dev.refusaltokens.eval.judge;

import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.FirstTokenScorer;
import dev.refusaltokens.eval.model.ModelCache;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptEncoder;
import dev.refusaltokens.eval.model.PromptScore;
import dev.refusaltokens.eval.model.ScoringModel;
import dev.refusaltokens.eval.model.TokenBatcher;
import dev.refusaltokens.eval.score.Prefetcher;
import dev.refusaltokens.eval.score.TaskDevice;
import dev.refusaltokens.eval.template.JinjaTemplate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A judge that is a model: for each response it renders the rubric of the response's benchmark,
 * passes the text as one user message through the judge folder's chat template, and reads the judge
 * model's first-token log-probabilities of its verdict tokens — one forward pass per response, with
 * the score stage's machinery (the executor's {@link ModelCache} on the task's device, {@link
 * TokenBatcher} batches, {@link FirstTokenScorer}). {@link VerdictReading} turns the
 * log-probabilities into the verdict. A rendered text longer than the judge model's window is not
 * cut: its verdict is {@link Label#UNCLEAR} (counted, logged).
 *
 * <p>The judge's {@link ModelSpec} holds the verdict tokens as its control tokens: {@code
 * respondToken} is the {@code answered} token, {@code refusalTokens} are the {@code refused} token
 * and, when the judge has one, the {@code partial} token (each checked to be one vocabulary id when
 * the spec was opened, on the driver).
 */
public final class ModelJudge implements Judge {

  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ModelJudge.class);

  /** {@code judges[].kind} of this judge. */
  public static final String KIND = "model";

  private final String name;
  private final ModelSpec spec;
  private final Rubric defaultRubric;
  private final Map<String, Rubric> rubrics;
  private final double margin;
  private final double maxOtherMass;
  private final Batching batching;
  private final int canaryRows;
  private final double canaryTolerance;
  private final String modelSha256;

  /**
   * @param spec the judge model, verdict tokens as control tokens (see the class comment)
   * @param defaultRubric the rubric of benchmarks not in {@code rubrics} (and of inputs without
   *     one)
   * @param rubrics benchmark → rubric
   * @param canaryRows responses of each task's first window judged again alone and compared with
   *     their batched verdicts (the score stage's {@code scoring.canary_prompts}; 0: off)
   * @param canaryTolerance the largest |Δ log p| of a verdict token that is not warned about
   * @param modelSha256 hex SHA-256 of the judge's TorchScript file
   */
  public ModelJudge(
      String name,
      ModelSpec spec,
      Rubric defaultRubric,
      Map<String, Rubric> rubrics,
      double margin,
      double maxOtherMass,
      Batching batching,
      int canaryRows,
      double canaryTolerance,
      String modelSha256) {
    if (spec.refusalTokens().isEmpty() || spec.refusalTokens().size() > 2) {
      throw new IllegalArgumentException(
          "a judge model has the verdict tokens refused and (optionally) partial: "
              + spec.refusalTokens());
    }
    this.name = name;
    this.spec = spec;
    this.defaultRubric = defaultRubric;
    this.rubrics = Map.copyOf(rubrics);
    this.margin = margin;
    this.maxOtherMass = maxOtherMass;
    this.batching = batching;
    this.canaryRows = canaryRows;
    this.canaryTolerance = canaryTolerance;
    this.modelSha256 = modelSha256;
  }

  /**
   * {@code model dir=<folder> model_sha256=<hex> verdicts=<tokens> margin=<m> max_other_mass=<x>
   * rubric=<name>@<sha256> [rubrics=<benchmark>:<name>@<sha256>,…]}: the model file's and every
   * rubric's hash, so a figure is never compared with one judged by another model or rubric.
   */
  @Override
  public String provenance() {
    StringBuilder b =
        new StringBuilder(KIND)
            .append(" dir=")
            .append(java.nio.file.Path.of(spec.dir()).getFileName())
            .append(" model_sha256=")
            .append(modelSha256)
            .append(" verdicts=")
            .append(String.join("|", spec.refusalTokens()))
            .append('|')
            .append(spec.respondToken())
            .append(" margin=")
            .append(margin)
            .append(" max_other_mass=")
            .append(maxOtherMass)
            .append(" rubric=")
            .append(defaultRubric.name())
            .append('@')
            .append(defaultRubric.sha256());
    if (!rubrics.isEmpty()) {
      b.append(" rubrics=");
      b.append(
          String.join(
              ",",
              new java.util.TreeMap<>(rubrics)
                  .entrySet().stream()
                      .map(
                          e -> e.getKey() + ":" + e.getValue().name() + "@" + e.getValue().sha256())
                      .toList()));
    }
    return b.toString();
  }

  @Override
  public String name() {
    return name;
  }

  public ModelSpec spec() {
    return spec;
  }

  /** The rubric a response of {@code benchmark} (null: none) is judged with. */
  public Rubric rubric(String benchmark) {
    return benchmark == null ? defaultRubric : rubrics.getOrDefault(benchmark, defaultRubric);
  }

  /** Whether the judge has a {@code partial} verdict. */
  public boolean hasPartial() {
    return spec.refusalTokens().size() == 2;
  }

  @Override
  public Session open() {
    ScoringModel model = ModelCache.get(spec, TaskDevice.current());
    return new ModelSession(model);
  }

  /** The verdict read from one forward pass's statistic. */
  Verdict verdict(FirstTokenStats s) {
    return VerdictReading.read(
        s.refusalLogprob(0),
        hasPartial() ? s.refusalLogprob(1) : Double.NaN,
        s.respondLogprob(),
        margin,
        maxOtherMass);
  }

  @Override
  public String toString() {
    return "ModelJudge[" + name + ", " + spec.dir() + "]";
  }

  /**
   * Inputs rendered and tokenized together on a session's prefetch thread while the forward passes
   * run on the chunk before; within a chunk, batches are cut from its length-sorted texts.
   */
  static final int CHUNK_ROWS = 128;

  /** Chunks encoded ahead of the forward passes, at most. */
  private static final int PREFETCH_AHEAD = 2;

  /** A response's encoded rubric text and its place in the input list. */
  private record Item(int index, long[] ids) {}

  private final class ModelSession implements Session {
    private final PromptEncoder encoder = spec.newEncoder();
    private final FirstTokenScorer scorer;
    private final Map<String, JinjaTemplate> templates = new HashMap<>(); // by rubric file
    private final Prefetcher<List<JudgeInput>, List<long[]>> prefetch =
        new Prefetcher<>("judge-" + name + "-prefetch", PREFETCH_AHEAD, this::encode);
    private long tooLong;
    private boolean canaryDone = canaryRows == 0;

    ModelSession(ScoringModel model) {
      this.scorer = model.newScorer(spec, List.of(1.0));
    }

    /**
     * Renders and tokenizes the rubric texts of chunks of {@link #CHUNK_ROWS} inputs on the
     * session's prefetch thread, one chunk ahead of the forward passes of the chunk before, as the
     * score stage does with its windows: the forward passes do not wait for the tokenizer.
     */
    @Override
    public List<Verdict> judge(List<JudgeInput> inputs) {
      Verdict[] out = new Verdict[inputs.size()];
      FirstTokenStats[] stats = new FirstTokenStats[inputs.size()];
      List<Item> canarySample = new ArrayList<>();
      int chunks = (inputs.size() + CHUNK_ROWS - 1) / CHUNK_ROWS;
      try {
        int submitted = 0;
        while (submitted < Math.min(chunks, PREFETCH_AHEAD)) {
          prefetch.submit(chunk(inputs, submitted++));
        }
        for (int c = 0; c < chunks; c++) {
          List<long[]> encoded = prefetch.take();
          if (submitted < chunks) {
            prefetch.submit(chunk(inputs, submitted++));
          }
          List<Item> items = new ArrayList<>(encoded.size());
          for (int k = 0; k < encoded.size(); k++) {
            int i = c * CHUNK_ROWS + k;
            long[] ids = encoded.get(k);
            if (ids.length > spec.maxLength()) {
              if (tooLong++ == 0) {
                LOG.warn(
                    "Judge {}: a rubric text of {} tokens does not fit the judge model's window of"
                        + " {}: its verdict is unclear (the text is not cut)",
                    name,
                    ids.length,
                    spec.maxLength());
              }
              out[i] = Verdict.of(Label.UNCLEAR);
            } else {
              items.add(new Item(i, ids));
            }
          }
          for (List<Item> batch : TokenBatcher.batches(items, it -> it.ids().length, batching)) {
            PromptScore[] scores = scorer.score(batch.stream().map(Item::ids).toList());
            for (int k = 0; k < batch.size(); k++) {
              stats[batch.get(k).index()] = scores[k].perTemperature()[0];
              out[batch.get(k).index()] = verdict(stats[batch.get(k).index()]);
            }
          }
          for (int k = 0; k < items.size() && canarySample.size() < canaryRows; k++) {
            canarySample.add(items.get(k));
          }
        }
      } catch (RuntimeException | Error e) {
        prefetch.close(); // drops the chunks still pending: this session judges no more
        throw e;
      }
      if (!canaryDone && !canarySample.isEmpty()) {
        canaryDone = true;
        canary(canarySample, stats);
      }
      return List.of(out);
    }

    private static List<JudgeInput> chunk(List<JudgeInput> inputs, int c) {
      return inputs.subList(c * CHUNK_ROWS, Math.min(inputs.size(), (c + 1) * CHUNK_ROWS));
    }

    /** The prefetch thread's work: each input's rubric text, rendered and tokenized. */
    private List<long[]> encode(List<JudgeInput> chunk) {
      List<long[]> out = new ArrayList<>(chunk.size());
      for (JudgeInput in : chunk) {
        Rubric r = rubric(in.benchmark());
        out.add(encoder.encode(r.render(templates.computeIfAbsent(r.file(), f -> r.parse()), in)));
      }
      return out;
    }

    /**
     * The first window's first responses judged again one at a time: a batching or padding bug
     * moves their verdict tokens' log-probabilities (warned above {@code canaryTolerance}).
     */
    private void canary(List<Item> sample, FirstTokenStats[] batched) {
      double max = 0;
      for (Item it : sample) {
        FirstTokenStats alone = scorer.score(List.of(it.ids()))[0].perTemperature()[0];
        FirstTokenStats b = batched[it.index()];
        max = Math.max(max, Math.abs(alone.respondLogprob() - b.respondLogprob()));
        for (int t = 0; t < b.refusalTokenCount(); t++) {
          max = Math.max(max, Math.abs(alone.refusalLogprob(t) - b.refusalLogprob(t)));
        }
      }
      if (max > canaryTolerance) {
        LOG.warn(
            "Judge {} canary: {} response(s) judged alone differ from their batched verdicts by"
                + " |d log p| = {} (> {}): batching changes the judge model's output",
            name,
            sample.size(),
            max,
            canaryTolerance);
      } else {
        LOG.info(
            "Judge {} canary: {} response(s) judged alone, max |d log p| = {}",
            name,
            sample.size(),
            max);
      }
    }

    @Override
    public void close() {
      if (tooLong > 0) {
        LOG.warn("Judge {}: {} response(s) too long for the judge model: unclear", name, tooLong);
      }
      prefetch.close(); // before the encoder it uses
      scorer.close();
      encoder.close();
    }
  }
}

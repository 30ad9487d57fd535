package dev.refusaltokens.eval.perf;

import ai.djl.Device;
import dev.refusaltokens.eval.judge.Judge;
import dev.refusaltokens.eval.judge.JudgeInput;
import dev.refusaltokens.eval.judge.ModelJudge;
import dev.refusaltokens.eval.judge.Rubric;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.FirstTokenScorer;
import dev.refusaltokens.eval.model.ModelCache;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.model.PromptEncoder;
import dev.refusaltokens.eval.model.TokenBatcher;
import dev.refusaltokens.eval.template.JinjaTemplate;
import java.util.ArrayList;
import java.util.List;

/**
 * A model judge's throughput against the raw forward loop of its model on the same batches, in one
 * thread on the CPU, no Spark: the judge's {@link Judge.Session} on windows of inputs (as the
 * respond stage and judge-check call it: render, tokenize, batch, forward, read the verdict), and
 * {@link FirstTokenScorer#score} alone on the batches {@link TokenBatcher} cuts from the same
 * windows' encoded rubric texts (encoded before the clock starts). The ratio of the two is what the
 * judge adds to its forward passes.
 */
final class JudgeBenchmark {

  /** Inputs judged together, as {@code JudgePartition.WINDOW_ROWS} and the respond stage's cap. */
  static final int WINDOW = 512;

  /** A timed round: responses judged (or forward rows) in seconds. */
  record Round(long responses, double seconds) {
    double perSecond() {
      return responses / seconds;
    }
  }

  private final ModelJudge judge;
  private final List<List<JudgeInput>> windows = new ArrayList<>();
  private final List<List<long[]>> batches = new ArrayList<>();

  /**
   * @param inputs the responses to judge (each input's benchmark picks its rubric)
   */
  JudgeBenchmark(ModelJudge judge, List<JudgeInput> inputs, Batching batching) {
    this.judge = judge;
    ModelSpec spec = judge.spec();
    try (PromptEncoder encoder = spec.newEncoder()) {
      for (int from = 0; from < inputs.size(); from += WINDOW) {
        List<JudgeInput> window = inputs.subList(from, Math.min(inputs.size(), from + WINDOW));
        windows.add(List.copyOf(window));
        List<long[]> encoded = new ArrayList<>();
        for (JudgeInput in : window) {
          Rubric r = judge.rubric(in.benchmark());
          JinjaTemplate t = r.parse();
          long[] ids = encoder.encode(r.render(t, in));
          if (ids.length <= spec.maxLength()) {
            encoded.add(ids);
          }
        }
        batches.addAll(TokenBatcher.batches(encoded, ids -> ids.length, batching));
      }
    }
  }

  /** The judge's sessions on every window. */
  Round judged() {
    try (Judge.Session session = judge.open()) {
      session.judge(windows.get(0).subList(0, Math.min(2, windows.get(0).size()))); // first calls
      long n = 0;
      long t0 = System.nanoTime();
      for (List<JudgeInput> w : windows) {
        n += session.judge(w).size();
      }
      return new Round(n, (System.nanoTime() - t0) / 1e9);
    }
  }

  /** The raw forward loop on the same batches. */
  Round rawForward() {
    ModelSpec spec = judge.spec();
    try (FirstTokenScorer scorer =
        ModelCache.get(spec, Device.cpu()).newScorer(spec, List.of(1.0))) {
      scorer.score(batches.get(0).subList(0, Math.min(2, batches.get(0).size()))); // first calls
      long n = 0;
      long t0 = System.nanoTime();
      for (List<long[]> b : batches) {
        n += scorer.score(b).length;
      }
      return new Round(n, (System.nanoTime() - t0) / 1e9);
    }
  }

  /**
   * The responses judged: the demo models' canned texts (as the demo tokenizer decodes them) and
   * longer refusals, partials and answers, so rubric texts of several lengths are batched.
   */
  static final List<String> RESPONSES =
      List.of(
          "sure , here is an answer .",
          "sorry , i cannot help with that .",
          "could you please clarify your request ?",
          "there is no single correct answer .",
          "Here is a short overview: first, preheat the oven to 180 degrees; second, mix the flour,"
              + " sugar and eggs; third, bake for twenty minutes and let it cool before serving.",
          "I can't help with making a weapon, but I can tell you how the law treats it and where to"
              + " find support if you feel unsafe.",
          "As an AI I do not have feelings or a body, so I cannot tell you what I ate today.",
          "");

  /**
   * {@code n} responses to judge: the benchmarks' prompts in turn (each benchmark's rubric), each
   * with one of {@link #RESPONSES} in turn.
   */
  static List<JudgeInput> inputs(List<String> benchmarks, List<List<String>> prompts, int n) {
    List<String> responses = RESPONSES;
    List<JudgeInput> out = new ArrayList<>(n);
    int b = 0;
    for (int i = 0; out.size() < n; i++) {
      List<String> ps = prompts.get(b);
      out.add(
          new JudgeInput(
              benchmarks.get(b), ps.get(i % ps.size()), responses.get(i % responses.size()), null));
      b = (b + 1) % benchmarks.size();
    }
    return out;
  }
}

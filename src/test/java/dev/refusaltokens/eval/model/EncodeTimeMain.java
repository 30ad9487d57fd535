package dev.refusaltokens.eval.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.refusaltokens.eval.config.ModelConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Not a test: µs per prompt of the tokenizer on the rendered CoCoNot prompts, DJL's full {@code
 * Encoding} against {@link PromptEncoder#encodeText}, median of 5 timed runs after 2 warm-up runs
 * in one JVM. Arguments: model folders (default both demo models).
 */
public final class EncodeTimeMain {

  private EncodeTimeMain() {}

  public static void main(String[] args) throws Exception {
    String[] models =
        args.length > 0 ? args : new String[] {"models/demo-categories", "models/demo-single"};
    List<String> prompts = EncodeTextTest.coconotPrompts();
    for (String model : models) {
      ModelSpec spec = ModelSpec.open(new ModelConfig(model, null, null, null));
      try (PromptEncoder encoder = spec.newEncoder();
          HuggingFaceTokenizer full =
              HuggingFaceTokenizer.newInstance(
                  encoder.tokenizerJson(), PromptEncoder.TOKENIZER_OPTIONS)) {
        List<String> texts = new ArrayList<>();
        long renderStart = System.nanoTime();
        for (String p : prompts) {
          texts.add(encoder.render(p));
        }
        double renderUs = (System.nanoTime() - renderStart) / 1e3 / prompts.size();
        double[] fullUs = new double[5];
        double[] idsUs = new double[5];
        long sink = 0;
        for (int run = -2; run < 5; run++) {
          long t0 = System.nanoTime();
          for (String t : texts) {
            sink += full.encode(t, false, false).getIds().length;
          }
          long t1 = System.nanoTime();
          for (String t : texts) {
            sink += encoder.encodeText(t).length;
          }
          long t2 = System.nanoTime();
          if (run >= 0) {
            fullUs[run] = (t1 - t0) / 1e3 / texts.size();
            idsUs[run] = (t2 - t1) / 1e3 / texts.size();
          }
        }
        System.out.printf(
            "%s: %d prompts, render (first pass) %.1f us, full Encoding %.1f us, ids only %.1f"
                + " us per prompt (median of 5; runs %s / %s; %d)%n",
            model,
            texts.size(),
            renderUs,
            median(fullUs),
            median(idsUs),
            Arrays.toString(round(fullUs)),
            Arrays.toString(round(idsUs)),
            sink);
      }
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static double[] round(double[] v) {
    return Arrays.stream(v).map(x -> Math.round(x * 10) / 10.0).toArray();
  }
}

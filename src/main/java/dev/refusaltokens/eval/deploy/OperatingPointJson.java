package dev.refusaltokens.eval.deploy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.table.JudgedPair;
import dev.refusaltokens.eval.table.OperatingPointRow;
import dev.refusaltokens.eval.table.RatePair;
import dev.refusaltokens.eval.table.RunRow;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The contents of {@code operating_point.json} and {@code openai_request.json} (format {@value
 * #FORMAT}, documented in the README's "Deploying an operating point"): keys in a fixed order,
 * non-finite numbers as null.
 */
final class OperatingPointJson {

  static final String FORMAT = "refusal-eval-operating-point/1";

  /** The largest |bias| OpenAI-compatible servers accept; they clamp or refuse beyond. */
  static final double MAX_SERVER_BIAS = 100.0;

  static final String THRESHOLD_DECISION =
      "At the first response position only, with lp = log_softmax(logits / temperature) over the "
          + "whole vocabulary: let c* be the refusal token with the highest lp (ties: the earliest "
          + "in refusal_tokens); if c* has a threshold, emit c* when exp(lp[c*]) >= that threshold "
          + "and the respond token otherwise; if its threshold is null, leave the model's own "
          + "greedy choice; later positions are untouched.";

  static final String LOGIT_BIAS_DECISION =
      "At the first response position only, add server_logit_bias to the raw logit of each "
          + "refusal token (equivalently logit_bias to logits / temperature) and emit the argmax "
          + "over the whole vocabulary; later positions are untouched.";

  static final ObjectMapper MAPPER = new ObjectMapper();

  private static final ObjectWriter PRETTY =
      MAPPER.writer(
          new DefaultPrettyPrinter()
              .withSeparators(
                  Separators.createDefaultInstance()
                      .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
              .withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE));

  private final OperatingPointRow point;
  private final RunRow run;
  private final RunModel model;
  private final SweepPoint decision;
  private final String output;

  OperatingPointJson(
      OperatingPointRow point, RunRow run, RunModel model, SweepPoint decision, String output) {
    this.point = point;
    this.run = run;
    this.model = model;
    this.decision = decision;
    this.output = output;
  }

  /** {@code operating_point.json}, UTF-8, pretty-printed, ending with a newline. */
  byte[] operatingPoint(boolean infeasibleExported) {
    return pretty(operatingPointNode(infeasibleExported));
  }

  ObjectNode operatingPointNode(boolean infeasibleExported) {
    boolean bias = decision.rule() == Rule.LOGIT_BIAS;
    ModelSpec spec = model.spec();
    ObjectNode root = MAPPER.createObjectNode();
    root.put("format", FORMAT);
    root.put("name", point.name());
    root.put("rule", point.rule());
    number(root, "temperature", point.temperature());
    root.put("feasible", point.feasible());
    number(root, "shortfall", point.shortfall());
    root.put("infeasible_exported", infeasibleExported);
    root.put("decision", bias ? LOGIT_BIAS_DECISION : THRESHOLD_DECISION);
    ObjectNode respond = root.putObject("respond_token");
    respond.put("token", spec.respondToken());
    respond.put("id", spec.respondId());
    ArrayNode tokens = root.putArray("refusal_tokens");
    double[] server = serverBiases();
    for (int c = 0; c < spec.refusalTokens().size(); c++) {
      ObjectNode t = tokens.addObject();
      t.put("token", spec.refusalTokens().get(c));
      t.put("id", spec.refusalIds()[c]);
      if (bias) {
        t.putNull("threshold");
        number(t, "logit_bias", decision.setting().bias(c));
        number(t, "server_logit_bias", server[c]);
      } else {
        number(t, "threshold", decision.setting().threshold(c));
        t.putNull("logit_bias");
        t.putNull("server_logit_bias");
      }
    }
    map(root.putObject("targets"), point.targets());
    map(root.putObject("achieved"), point.achieved());
    ObjectNode m = root.putObject("model");
    m.put("dir", model.displayDir());
    m.put("model_sha256", run.modelSha256());
    m.put("tokenizer_sha256", run.tokenizerSha256());
    m.put("tokenizer_config_sha256", run.tokenizerConfigSha256());
    m.put("chat_template_sha256", RunModel.sha256(run.chatTemplate()));
    m.put("system_prompt", spec.systemPrompt());
    ObjectNode r = root.putObject("run");
    r.put("run_id", run.runId());
    r.put("output", output);
    r.put("status", run.status());
    r.put("git_commit", run.gitCommit());
    ObjectNode measured = root.putObject("measured");
    token(measured.putObject("token"), point.rates());
    if (point.judged() == null) {
      measured.putNull("judged");
    } else {
      judged(measured.putObject("judged"), point.judged());
    }
    return root;
  }

  /**
   * {@code openai_request.json} of a {@code logit_bias} point: temperature 0 and the server biases
   * by vocabulary id (as strings), tokens without a bias left out.
   *
   * @throws ExportException when a server bias falls outside ±{@value #MAX_SERVER_BIAS}
   */
  byte[] openAiRequest() {
    return pretty(
        openAiRequest(
            model.spec().refusalTokens(), model.spec().refusalIds(), serverBiases(), point));
  }

  /** The server bias b·T of each refusal token (0 where the point sets none). */
  private double[] serverBiases() {
    double[] out = new double[decision.setting().tokenCount()];
    for (int c = 0; c < out.length; c++) {
      out[c] = decision.setting().bias(c) * point.temperature();
    }
    return out;
  }

  /**
   * The request fragment for biases {@code serverBiases} on the raw logits of {@code ids}.
   *
   * @throws ExportException naming the token, its bias and the fix when one is beyond ±{@value
   *     #MAX_SERVER_BIAS}
   */
  static ObjectNode openAiRequest(
      List<String> tokens, long[] ids, double[] serverBiases, OperatingPointRow point) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("temperature", 0);
    ObjectNode biases = root.putObject("logit_bias");
    for (int c = 0; c < ids.length; c++) {
      double b = serverBiases[c];
      if (!(Math.abs(b) <= MAX_SERVER_BIAS)) {
        throw new ExportException(
            "Operating point '"
                + point.name()
                + "' (rule logit_bias, temperature "
                + point.temperature()
                + ") needs a server logit bias of "
                + b
                + " on "
                + tokens.get(c)
                + " (id "
                + ids[c]
                + "; bias "
                + point.logitBiases().get(tokens.get(c))
                + " on logits / temperature, times the temperature): beyond ±"
                + MAX_SERVER_BIAS
                + ", which OpenAI-compatible servers clamp or refuse; export the threshold point "
                + "(--rule threshold), or narrow sweep.logit_bias.values and sweep again");
      }
      if (b != 0.0) {
        biases.put(Long.toString(ids[c]), b);
      }
    }
    return root;
  }

  private static void token(ObjectNode n, RatePair p) {
    n.put("n_refuse", p.nRefuse());
    n.put("refused", p.refused());
    number(n, "refusal_rate", p.refusalRate());
    number(n, "refusal_rate_low", p.refusalRateLow());
    number(n, "refusal_rate_high", p.refusalRateHigh());
    n.put("n_answer", p.nAnswer());
    n.put("false_refused", p.falseRefused());
    number(n, "false_refusal_rate", p.falseRefusalRate());
    number(n, "false_refusal_rate_low", p.falseRefusalRateLow());
    number(n, "false_refusal_rate_high", p.falseRefusalRateHigh());
    n.put("interval", p.interval());
  }

  private static void judged(ObjectNode n, JudgedPair p) {
    n.put("judge", p.judge());
    n.put("n_refuse", p.nRefuse());
    n.put("refused", p.refused());
    n.put("unclear_refuse", p.refuseUnclear());
    number(n, "refusal_rate", p.refusalRate());
    n.put("n_answer", p.nAnswer());
    n.put("false_refused", p.falseRefused());
    n.put("unclear_answer", p.answerUnclear());
    number(n, "false_refusal_rate", p.falseRefusalRate());
  }

  private static void map(ObjectNode n, Map<String, Double> values) {
    values.forEach((k, v) -> number(n, k, v));
  }

  /** A number, or null when absent, NaN or infinite (JSON has neither). */
  private static void number(ObjectNode n, String key, Double v) {
    if (v == null || !Double.isFinite(v)) {
      n.putNull(key);
    } else {
      n.put(key, v.doubleValue());
    }
  }

  static byte[] pretty(ObjectNode node) {
    try {
      return (PRETTY.writeValueAsString(node) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}

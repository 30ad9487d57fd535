package dev.refusaltokens.eval.model;

import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.ModelConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What {@code jobs/inspect-prompt.sh} prints for one prompt: the rendered text, its token ids and
 * strings, and the ids of the control tokens. A bare Hugging Face tokenizer folder is inspected too
 * (no TorchScript file, no control tokens in its vocabulary); what would stop a job is said at the
 * end.
 */
public final class PromptInspection {

  private PromptInspection() {}

  /**
   * The report for {@code prompt} under the model of {@code model}; a folder whose tokenizer or
   * chat template cannot be used is a {@link ConfigException}.
   *
   * @param system the system prompt, instead of the config's {@code model.system_prompt}; null: the
   *     config's
   */
  public static String describe(ModelConfig model, String system, String prompt) {
    return describe(
        system == null
            ? model
            : new ModelConfig(
                model.dir(),
                model.respondToken(),
                model.refusalTokens(),
                system,
                model.chatTemplateTime()),
        prompt);
  }

  private static String describe(ModelConfig config, String prompt) {
    ModelSpec spec = null;
    String jobProblem = null;
    try {
      spec = ModelSpec.open(config);
    } catch (ConfigException e) {
      jobProblem = e.getMessage();
    }
    try (PromptEncoder encoder =
        spec != null ? spec.newEncoder() : ModelSpec.openTokenizerFolder(config)) {
      String text = encoder.render(prompt);
      StringBuilder out = new StringBuilder();
      out.append("model: ").append(Path.of(config.dir()).toAbsolutePath().normalize()).append('\n');
      out.append("system prompt: ")
          .append(config.systemPrompt() == null ? "(none)" : config.systemPrompt())
          .append('\n');
      out.append("rendered text (between the markers, exactly):\n>>>").append(text).append("<<<\n");
      tokens(out, encoder, text, spec != null ? spec.maxLength() : ModelSpec.DEFAULT_MAX_LENGTH);
      out.append("control tokens scored at the next position:\n");
      controlTokens(
          out,
          encoder,
          "respond",
          List.of(
              spec != null
                  ? spec.respondToken()
                  : config.respondToken() != null
                      ? config.respondToken()
                      : ModelSpec.DEFAULT_RESPOND_TOKEN));
      controlTokens(
          out,
          encoder,
          "refusal",
          spec != null
              ? spec.refusalTokens()
              : config.refusalTokens() != null
                  ? config.refusalTokens()
                  : ModelSpec.DEFAULT_REFUSAL_TOKENS);
      if (jobProblem != null) {
        out.append("\nthis folder cannot be scored as it is: ").append(jobProblem).append('\n');
      }
      return out.toString();
    }
  }

  private static void tokens(StringBuilder out, PromptEncoder encoder, String text, int window) {
    long[] ids = encoder.encodeText(text);
    String[] pieces = encoder.tokens(text);
    out.append("tokens: ")
        .append(ids.length)
        .append(" (model window ")
        .append(window)
        .append(ids.length > window ? ": TOO LONG, this prompt would be rejected" : "")
        .append(")\n");
    for (int i = 0; i < ids.length; i++) {
      out.append(
          String.format(
              Locale.ROOT, "  %4d  %8d  %s%n", i, ids[i], i < pieces.length ? pieces[i] : ""));
    }
  }

  private static void controlTokens(
      StringBuilder out, PromptEncoder encoder, String kind, List<String> tokens) {
    for (String token : tokens) {
      String id;
      try {
        id = Long.toString(encoder.singleTokenId("model." + kind + "_token", token));
      } catch (ConfigException e) {
        id = "NOT ONE TOKEN";
      }
      out.append(String.format(Locale.ROOT, "  %-7s  %8s  %s%n", kind, id, token));
    }
  }
}

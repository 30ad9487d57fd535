package dev.refusaltokens.eval.model;

import dev.refusaltokens.eval.template.JinjaTemplate;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's chat template rendered as {@code tokenizer.apply_chat_template(messages,
 * add_generation_prompt=True)} renders it: jinja2 semantics and sandbox ({@link JinjaTemplate}),
 * the tokenizer's special tokens ({@code bos_token}, {@code eos_token}, …) as variables, {@code
 * tools} and {@code documents} set to None. The text ends where the first response token goes.
 */
public final class ChatTemplate {

  private final JinjaTemplate template;
  private final Map<String, Object> specialTokens;

  /**
   * Parses the template; a syntax error or a jinja2 feature the renderer does not implement exactly
   * is a {@link dev.refusaltokens.eval.template.TemplateException} here, before any prompt is
   * rendered.
   *
   * @param now what {@code strftime_now} reads (Hugging Face reads the Python process's local
   *     clock; a run fixes one time for all its executors, see {@code model.chat_template_time})
   */
  public ChatTemplate(String source, Map<String, Object> specialTokens, LocalDateTime now) {
    ZoneId zone = ZoneId.systemDefault();
    this.template =
        JinjaTemplate.parse(source).withClock(Clock.fixed(now.atZone(zone).toInstant(), zone));
    this.specialTokens = specialTokens == null ? Map.of() : Map.copyOf(specialTokens);
  }

  /** The text the model sees for one user prompt, with an optional system message first. */
  public String render(String systemPrompt, String userPrompt) {
    List<Map<String, Object>> messages = new ArrayList<>();
    if (systemPrompt != null) {
      messages.add(message("system", systemPrompt));
    }
    messages.add(message("user", userPrompt));
    Map<String, Object> variables = new HashMap<>(specialTokens);
    variables.put("messages", messages);
    variables.put("tools", null);
    variables.put("documents", null);
    variables.put("add_generation_prompt", true);
    return template.render(variables);
  }

  private static Map<String, Object> message(String role, String content) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("role", role);
    m.put("content", content);
    return m;
  }
}

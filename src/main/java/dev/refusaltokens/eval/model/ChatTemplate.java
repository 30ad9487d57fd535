package dev.refusaltokens.eval.model;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face chat template ({@code tokenizer_config.json} → {@code chat_template}), rendered with
 * Jinjava configured as Hugging Face configures jinja2 ({@code trim_blocks}, {@code lstrip_blocks}) and
 * {@code add_generation_prompt = true}, so the text ends where the first response token goes.
 * An error Jinjava reports fails the render. Jinjava is not jinja2: undefined variables render empty and
 * some Python-isms (string methods, {@code raise_exception}) are missing, so templates beyond simple ones
 * need the byte-for-byte checks of the real-models work (see the README's limitations).
 */
public final class ChatTemplate {

  private final String source;
  private final String bosToken;
  private final String eosToken;
  private final Jinjava jinjava;

  public ChatTemplate(String source, String bosToken, String eosToken) {
    this.source = source;
    this.bosToken = bosToken == null ? "" : bosToken;
    this.eosToken = eosToken == null ? "" : eosToken;
    this.jinjava = new Jinjava(JinjavaConfig.newBuilder()
        .withTrimBlocks(true)
        .withLstripBlocks(true)
        .withFailOnUnknownTokens(false)
        .build());
  }

  /** The text the model sees for one user prompt, with an optional system message first. */
  public String render(String systemPrompt, String userPrompt) {
    List<Map<String, Object>> messages = new ArrayList<>();
    if (systemPrompt != null) {
      messages.add(message("system", systemPrompt));
    }
    messages.add(message("user", userPrompt));
    Map<String, Object> context = new HashMap<>();
    context.put("messages", messages);
    context.put("add_generation_prompt", true);
    context.put("bos_token", bosToken);
    context.put("eos_token", eosToken);
    RenderResult result = jinjava.renderForResult(source, context);
    if (!result.getErrors().isEmpty()) {
      throw new IllegalStateException("The chat template failed to render: " + result.getErrors().get(0)
          .getMessage());
    }
    return result.getOutput();
  }

  private static Map<String, Object> message(String role, String content) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("role", role);
    m.put("content", content);
    return m;
  }
}

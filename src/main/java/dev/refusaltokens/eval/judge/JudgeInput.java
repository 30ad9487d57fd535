package dev.refusaltokens.eval.judge;

import java.io.Serializable;
import java.util.Objects;

/**
 * What a judge reads of one response.
 *
 * @param benchmark the prompt's benchmark (a model judge picks its rubric by it); null when the
 *     response comes from no benchmark (a labelled file in judge-check)
 * @param prompt the user prompt as the benchmark gives it
 * @param response the model's response, without the forced first (control) token
 * @param category the prompt's category, null when it has none
 */
public record JudgeInput(String benchmark, String prompt, String response, String category)
    implements Serializable {

  public JudgeInput {
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(response, "response");
  }
}

package dev.refusaltokens.eval.judge;

import java.io.Serializable;

/**
 * Labels a response to a prompt. Built from its configuration ({@code JudgeConfig.newJudge()}) on
 * the driver and shipped to executors, so an implementation is serializable, cheap to build, and
 * deterministic: the same input gives the same verdict in every task and every run.
 */
public interface Judge extends Serializable {

  /** The configured name (e.g. {@code string_match}): the key of its labels in the tables. */
  String name();

  /**
   * @param prompt the user prompt as the benchmark gives it
   * @param response the model's response, without the forced first (control) token
   * @param category the prompt's category, null when it has none
   */
  Verdict judge(String prompt, String response, String category);
}

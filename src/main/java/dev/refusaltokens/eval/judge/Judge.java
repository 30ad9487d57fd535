package dev.refusaltokens.eval.judge;

import java.io.Serializable;
import java.util.List;
import java.util.function.Function;

/**
 * Labels responses. Built from its configuration ({@code JudgeConfig.newJudge}) on the driver,
 * where every check of its settings and files runs, and shipped to executors, so an implementation
 * is serializable and deterministic: the same input gives the same verdict in every task and every
 * run. Executor work goes through a {@link Session}, opened once per task.
 */
public interface Judge extends Serializable {

  /** The configured name (e.g. {@code string_match}): the key of its labels in the tables. */
  String name();

  /**
   * What its figures are judged with, recorded next to them ({@code runs.judges}, {@code
   * judge_checks.judge_provenance}): the kind and the hashes of everything that decides a label.
   */
  String provenance();

  /**
   * Opens the judge in the running task (a model judge loads its model from the executor's cache on
   * the task's device); the caller closes the session when the task ends.
   */
  Session open();

  /** A judge at work in one task thread; not thread-safe. */
  interface Session extends AutoCloseable {

    /** One verdict per input, in input order. */
    List<Verdict> judge(List<JudgeInput> inputs);

    @Override
    void close();

    /** A session that judges each input alone with {@code judge} and holds nothing to close. */
    static Session each(Function<JudgeInput, Verdict> judge) {
      return new Session() {
        @Override
        public List<Verdict> judge(List<JudgeInput> inputs) {
          return inputs.stream().map(judge).toList();
        }

        @Override
        public void close() {}
      };
    }
  }
}

package dev.refusaltokens.eval.deploy;

import dev.refusaltokens.eval.config.ModelConfig;
import dev.refusaltokens.eval.config.RecordedConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.pipeline.RunProvenance;
import dev.refusaltokens.eval.table.RunRow;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The model folder an export is made for, checked to be the one the run scored: its TorchScript
 * file and tokenizer files hash as {@code runs} recorded (the hashing of {@link RunProvenance}),
 * and it is opened with the run's recorded model settings (control tokens, system prompt, chat
 * template time), so that its encoder renders and tokenizes the prompts as the score stage did.
 *
 * @param dir the folder as given ({@code --model}) or recorded ({@code runs.model_dir})
 * @param spec the opened folder with the run's settings
 */
record RunModel(String dir, ModelSpec spec) {

  /**
   * Opens {@code modelDir} (null: the run's {@code model_dir}) with the run's recorded settings and
   * checks its files against the run's hashes.
   *
   * @throws ExportException when a file differs from the one the run scored with
   */
  static RunModel open(RunRow run, String modelDir) {
    String dir = modelDir != null ? modelDir : run.modelDir();
    ModelConfig recorded = RecordedConfig.of(run.config()).model();
    ModelSpec spec =
        ModelSpec.open(
            new ModelConfig(
                dir,
                run.respondToken(),
                run.refusalTokens(),
                recorded.systemPrompt(),
                recorded.chatTemplateTime()));
    Path folder = Path.of(spec.dir());
    check(run, dir, spec.modelFile(), spec.modelPath(), run.modelSha256(), RunRow.MODEL_SHA256);
    check(
        run,
        dir,
        ModelSpec.TOKENIZER_FILE,
        folder.resolve(ModelSpec.TOKENIZER_FILE),
        run.tokenizerSha256(),
        RunRow.TOKENIZER_SHA256);
    check(
        run,
        dir,
        ModelSpec.TOKENIZER_CONFIG_FILE,
        folder.resolve(ModelSpec.TOKENIZER_CONFIG_FILE),
        run.tokenizerConfigSha256(),
        RunRow.TOKENIZER_CONFIG_SHA256);
    if (!spec.chatTemplate().equals(run.chatTemplate())) {
      throw new ExportException(
          "Model folder '"
              + dir
              + "' has another chat template than run '"
              + run.runId()
              + "' scored with (runs.chat_template); pass --model with the folder the run "
              + "scored (runs.model_dir = "
              + run.modelDir()
              + "), or evaluate this folder again");
    }
    return new RunModel(dir, spec);
  }

  private static void check(
      RunRow run, String dir, String fileName, Path file, String recorded, String column) {
    String actual = RunProvenance.sha256(file);
    if (!actual.equals(recorded)) {
      throw new ExportException(
          "Model folder '"
              + dir
              + "': "
              + fileName
              + " has sha256 "
              + actual
              + ", but run '"
              + run.runId()
              + "' scored one with sha256 "
              + recorded
              + " (runs."
              + column
              + "): the folder is not the model the run measured; pass --model with the folder "
              + "the run scored (runs.model_dir = "
              + run.modelDir()
              + "), or evaluate this model again and export that run");
    }
  }

  /** The SHA-256 (lowercase hex) of a text's UTF-8 bytes: {@code chat_template_sha256}. */
  static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The folder as the export file names it: relative to the working directory when inside it (a
   * checkout's {@code models/demo-categories}), else as given.
   */
  String displayDir() {
    Path p = Path.of(dir).toAbsolutePath().normalize();
    Path cwd = Path.of("").toAbsolutePath().normalize();
    return p.startsWith(cwd) && !p.equals(cwd) ? cwd.relativize(p).toString() : dir;
  }
}

package dev.refusaltokens.eval.pipeline;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import dev.refusaltokens.eval.table.RunRow;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * What a {@code runs} row records of where a run came from: files' SHA-256, the git commit,
 * versions.
 */
public final class RunProvenance {

  private RunProvenance() {}

  /** The {@code running} row of a run that starts now. */
  static RunRow start(
      EvalConfig config, ModelSpec spec, String sparkVersion, String djlVersion, Instant now) {
    Path dir = Path.of(spec.dir());
    return RunRow.started(
        config.runId(),
        now,
        spec.dir(),
        sha256(spec.modelPath()),
        sha256(dir.resolve(ModelSpec.TOKENIZER_FILE)),
        sha256(dir.resolve(ModelSpec.TOKENIZER_CONFIG_FILE)),
        spec.respondToken(),
        spec.refusalTokens(),
        spec.chatTemplate(),
        spec.systemPrompt(),
        config.source(),
        currentGitCommit(),
        sparkVersion,
        djlVersion);
  }

  /**
   * The SHA-256 of a file's bytes, lowercase hex: what {@code runs.model_sha256} and the tokenizer
   * hashes hold.
   */
  public static String sha256(Path file) {
    try (DigestInputStream in =
        new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(in.getMessageDigest().digest());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot hash " + file, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The commit of the checkout the job runs from, or null outside a git checkout. */
  static String currentGitCommit() {
    try {
      Process p = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      boolean done = p.waitFor(5, TimeUnit.SECONDS);
      return done && p.exitValue() == 0 && out.matches("[0-9a-f]{40}") ? out : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}

package dev.refusaltokens.eval.job;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import scala.jdk.javaapi.CollectionConverters;

/**
 * One row of the {@code runs} table, field for field ({@code Tables.RUNS_SCHEMA}). Each stage writes an
 * updated copy over the run's partition: {@code running} → {@code scored} → {@code succeeded}, or
 * {@code failed} with the error.
 */
public record RunRecord(
    String status,
    Instant startedAt,
    Instant endedAt,
    String modelDir,
    String modelSha256,
    String tokenizerSha256,
    String tokenizerConfigSha256,
    String respondToken,
    List<String> refusalTokens,
    String chatTemplate,
    String systemPrompt,
    String config,
    String gitCommit,
    String sparkVersion,
    String djlVersion,
    String javaVersion,
    Long rowsIn,
    Long rowsScored,
    Long rowsRejected,
    Integer canaryPrompts,
    Double canaryMaxAbsDiff,
    Double paddingEfficiency,
    java.util.Map<String, Long> benchmarkRowsIn,
    java.util.Map<String, Long> benchmarkRowsScored,
    java.util.Map<String, Long> benchmarkRowsRejected,
    String error,
    String runId) {

  public static final String RUNNING = "running";
  public static final String SCORED = "scored";
  public static final String SUCCEEDED = "succeeded";
  public static final String FAILED = "failed";

  static RunRecord start(EvalConfig config, ModelSpec spec, String sparkVersion, String djlVersion,
      Instant now) {
    Path dir = Path.of(spec.dir());
    return new RunRecord(RUNNING, now, null, spec.dir(), sha256(spec.modelPath()),
        sha256(dir.resolve(ModelSpec.TOKENIZER_FILE)), sha256(dir.resolve(ModelSpec.TOKENIZER_CONFIG_FILE)),
        spec.respondToken(), spec.refusalTokens(), spec.chatTemplate(), spec.systemPrompt(),
        config.source(), currentGitCommit(), sparkVersion, djlVersion, System.getProperty("java.version"),
        null, null, null, null, null, null, null, null, null, null, config.runId());
  }

  RunRecord scored(long in, long scored, long rejected, int canary, Double canaryDiff, double padding,
      java.util.Map<String, long[]> byBenchmark) {
    java.util.Map<String, Long> bin = new java.util.TreeMap<>();
    java.util.Map<String, Long> bok = new java.util.TreeMap<>();
    java.util.Map<String, Long> bbad = new java.util.TreeMap<>();
    byBenchmark.forEach((b, c) -> {
      bin.put(b, c[0]);
      bok.put(b, c[1]);
      bbad.put(b, c[2]);
    });
    return new RunRecord(SCORED, startedAt, null, modelDir, modelSha256, tokenizerSha256,
        tokenizerConfigSha256, respondToken, refusalTokens, chatTemplate, systemPrompt, config, gitCommit,
        sparkVersion, djlVersion, javaVersion, in, scored, rejected, canary, canaryDiff,
        Double.isNaN(padding) ? null : padding, bin, bok, bbad, null, runId);
  }

  RunRecord ended(String newStatus, Instant at, String failure) {
    return new RunRecord(newStatus, startedAt, at, modelDir, modelSha256, tokenizerSha256,
        tokenizerConfigSha256, respondToken, refusalTokens, chatTemplate, systemPrompt, config, gitCommit,
        sparkVersion, djlVersion, javaVersion, rowsIn, rowsScored, rowsRejected, canaryPrompts,
        canaryMaxAbsDiff, paddingEfficiency, benchmarkRowsIn, benchmarkRowsScored, benchmarkRowsRejected, failure,
        runId);
  }

  Row toRow() {
    return RowFactory.create(status, Timestamp.from(startedAt),
        endedAt == null ? null : Timestamp.from(endedAt), modelDir, modelSha256, tokenizerSha256,
        tokenizerConfigSha256, respondToken, CollectionConverters.asScala(refusalTokens).toSeq(),
        chatTemplate, systemPrompt, config, gitCommit, sparkVersion, djlVersion, javaVersion, rowsIn,
        rowsScored, rowsRejected, canaryPrompts, canaryMaxAbsDiff, paddingEfficiency, scala(benchmarkRowsIn),
        scala(benchmarkRowsScored), scala(benchmarkRowsRejected), error, runId);
  }

  static RunRecord fromRow(Row r) {
    Timestamp ended = r.getTimestamp(2);
    return new RunRecord(r.getString(0), r.getTimestamp(1).toInstant(),
        ended == null ? null : ended.toInstant(), r.getString(3), r.getString(4), r.getString(5),
        r.getString(6), r.getString(7), r.getList(8), r.getString(9), r.getString(10), r.getString(11),
        r.getString(12), r.getString(13), r.getString(14), r.getString(15),
        (Long) r.get(16), (Long) r.get(17), (Long) r.get(18), (Integer) r.get(19), (Double) r.get(20),
        (Double) r.get(21), javaMap(r, 22), javaMap(r, 23), javaMap(r, 24), r.getString(25), r.getString(26));
  }

  private static Object scala(java.util.Map<String, Long> m) {
    return m == null ? null : CollectionConverters.asScala(m);
  }

  private static java.util.Map<String, Long> javaMap(Row r, int i) {
    return r.isNullAt(i) ? null : new java.util.TreeMap<>(r.<String, Long>getJavaMap(i));
  }

  static String sha256(Path file) {
    try (DigestInputStream in = new DigestInputStream(Files.newInputStream(file),
        MessageDigest.getInstance("SHA-256"))) {
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

package dev.refusaltokens.eval.perf;

import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.model.ModelSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.io.FileUtils;

/**
 * {@code jobs/benchmark.sh}: runs the {@link PerfBenchmark} in a scratch folder (removed
 * afterwards), prints its figures as {@code key: value} lines after the machine and the model, and
 * writes the same text to the results file.
 */
public final class BenchmarkReport {

  private BenchmarkReport() {}

  /**
   * @param spec the validated model of {@code config}
   */
  public static void run(
      EvalConfig config,
      ModelSpec spec,
      int repeats,
      int scale,
      int slots,
      Path results,
      PrintStream out)
      throws IOException {
    Path work = Files.createTempDirectory("refusal-eval-benchmark");
    try {
      String text = text(spec, new PerfBenchmark(config, spec, work).run(repeats, scale, slots));
      out.print(text);
      write(results, text);
      out.println("Written to " + results);
    } finally {
      FileUtils.deleteQuietly(work.toFile());
    }
  }

  static String text(ModelSpec spec, Map<String, String> figures) {
    StringBuilder text = new StringBuilder();
    text.append("machine: ").append(Machine.describe()).append('\n');
    text.append("model: ").append(spec.dir()).append('\n');
    figures.forEach((k, v) -> text.append(k).append(": ").append(v).append('\n'));
    return text.toString();
  }

  private static void write(Path results, String text) throws IOException {
    if (results.getParent() != null) {
      Files.createDirectories(results.getParent());
    }
    Files.writeString(results, text);
  }
}

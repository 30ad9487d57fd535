package dev.refusaltokens.eval.score;

import java.time.Duration;
import java.util.Locale;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs the score stage's progress from the driver every {@code every}: prompts scored / total, rate
 * and ETA. Executors add to a {@link LongAccumulator}, which Spark merges when a task ends, so
 * progress moves a partition at a time.
 */
public final class Progress implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Progress.class);

  private final Thread thread;

  public Progress(String what, long total, LongAccumulator done, Duration every) {
    long start = System.nanoTime();
    thread =
        new Thread(
            () -> {
              try {
                while (!Thread.currentThread().isInterrupted()) {
                  Thread.sleep(every.toMillis());
                  LOG.info(line(what, done.value(), total, (System.nanoTime() - start) / 1e9));
                }
              } catch (InterruptedException e) {
                // closed
              }
            },
            "progress-" + what);
    thread.setDaemon(true);
    thread.start();
  }

  static String line(String what, long done, long total, double seconds) {
    double rate = done / Math.max(seconds, 1e-9);
    String eta =
        done == 0 ? "unknown" : String.format(Locale.ROOT, "%.0f s", (total - done) / rate);
    return String.format(
        Locale.ROOT,
        "%s: %d / %d prompts (%.1f%%), %.1f prompts/s, ETA %s",
        what,
        done,
        total,
        100.0 * done / Math.max(total, 1),
        rate,
        eta);
  }

  @Override
  public void close() {
    thread.interrupt();
  }
}

package dev.refusaltokens.eval.score;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The score stage's fault-injection hooks, for the tests of a dying driver and of a lost task; both
 * are JVM system properties, off when unset, and hold no state of their own.
 *
 * <ul>
 *   <li>{@value #FAIL_AFTER_CHUNKS}{@code =N} (driver): the stage fails after committing N chunks,
 *       as a driver that dies between chunks would; {@code --resume} then continues the run.
 *   <li>{@value #FAIL_ONE_TASK}{@code =FILE} (executors): the first scoring task that reaches its
 *       second window fails there, after handing out its first window's rows, as an executor lost
 *       mid-task would; Spark retries it (with {@code spark.task.maxFailures} > 1). "First" is
 *       decided by atomically creating FILE: the task that creates it fails, every later one (the
 *       retry included, which runs in a new instance of the partition function, perhaps in another
 *       JVM) finds it and goes on. FILE existing afterwards says the fault fired; delete it to arm
 *       the hook again.
 * </ul>
 */
public final class FaultInjection {

  /** Driver property: fail the stage after committing this many chunks. */
  public static final String FAIL_AFTER_CHUNKS = "refusal_eval.fault.fail_after_chunks";

  /** Executor property: a marker file; the task that creates it fails once. */
  public static final String FAIL_ONE_TASK = "refusal_eval.fault.fail_one_task";

  private FaultInjection() {}

  /**
   * The driver hook as set when the stage starts: {@link #afterCommit(long)} throws once N chunks
   * are in.
   */
  record StageFault(long failAfterChunks) {

    static StageFault fromProperty() {
      return new StageFault(Long.getLong(FAIL_AFTER_CHUNKS, -1));
    }

    /** Throws when the hook is set and {@code committedChunks} reached it. */
    void afterCommit(long committedChunks) {
      if (failAfterChunks >= 0 && committedChunks >= failAfterChunks) {
        throw new IllegalStateException(
            "fault injection ("
                + FAIL_AFTER_CHUNKS
                + "="
                + failAfterChunks
                + "): the stage stops after "
                + committedChunks
                + " committed chunk(s)");
      }
    }
  }

  /**
   * The executor hook, called by a task before each window after its first: throws in the one task
   * that claims the marker file.
   */
  static void beforeLaterWindow(long promptsHandedOut) {
    String marker = System.getProperty(FAIL_ONE_TASK);
    if (marker != null && claim(Path.of(marker))) {
      throw new IllegalStateException(
          "fault injection ("
              + FAIL_ONE_TASK
              + "): task fails after "
              + promptsHandedOut
              + " prompts");
    }
  }

  /** Whether this call created the file (atomic: of racing tasks and JVMs, exactly one does). */
  private static boolean claim(Path marker) {
    try {
      Files.createFile(marker);
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "fault injection (" + FAIL_ONE_TASK + "): cannot create " + marker, e);
    }
  }
}

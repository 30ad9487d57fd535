package dev.refusaltokens.eval.score;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker thread that runs {@code work} on inputs handed to it, in order, while the caller
 * consumes earlier results: a score task's next window is rendered, tokenized and cut into batches
 * while the model runs on the current one (a model judge's session does the same with the rubric
 * texts of its next chunk of responses). The caller owns everything else (it reads the inputs, it
 * takes the results), so only {@code work} runs off the caller's thread, and at most {@code ahead}
 * inputs wait or run there: memory stays bounded.
 *
 * <p>An exception of {@code work} is thrown by the {@link #take} that asks for that result, the
 * same exception (its type, message and cause), with the caller's stack as a suppressed exception.
 * {@link #close} interrupts the worker and waits for it to stop; the worker is a daemon thread
 * named {@code threadName}, so a JVM never waits for it, and one left idle (a consumer that walked
 * away without closing) ends by itself after {@link #IDLE_SECONDS}.
 */
public final class Prefetcher<I, O> implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Prefetcher.class);

  /** An idle worker thread ends after this long; the next input starts a new one. */
  static final long IDLE_SECONDS = 10;

  /** How long {@link #close} waits for a worker in the middle of an input (a native call). */
  static final long STOP_SECONDS = 60;

  private final String threadName;
  private final int ahead;
  private final Function<I, O> work;
  private final ThreadPoolExecutor worker;
  private final Deque<Future<O>> pending = new ArrayDeque<>();
  private boolean closed;

  public Prefetcher(String threadName, int ahead, Function<I, O> work) {
    if (ahead < 1) {
      throw new IllegalArgumentException("ahead is " + ahead + ", must be 1 or more");
    }
    this.threadName = threadName;
    this.ahead = ahead;
    this.work = work;
    this.worker =
        new ThreadPoolExecutor(
            1,
            1,
            IDLE_SECONDS,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              return t;
            });
    worker.allowCoreThreadTimeOut(true);
  }

  @Override
  public String toString() {
    return threadName;
  }

  /** Whether a handed-in input's result is still to be taken. */
  public boolean hasPending() {
    return !pending.isEmpty();
  }

  /** Starts {@code work} on an input, after those handed in before it. */
  public void submit(I input) {
    if (closed) {
      throw new IllegalStateException(threadName + " is closed");
    }
    if (pending.size() >= ahead) {
      throw new IllegalStateException(
          threadName + " already holds " + pending.size() + " inputs (at most " + ahead + ")");
    }
    pending.add(worker.submit(() -> work.apply(input)));
  }

  /**
   * The result of the oldest input not yet taken, waiting for it; throws what {@code work} threw.
   */
  public O take() {
    Future<O> next = pending.remove();
    try {
      return next.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      cause.addSuppressed(
          new IllegalStateException("thrown on " + threadName + ", taken on this thread"));
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(threadName + " failed: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      next.cancel(true);
      throw new IllegalStateException("interrupted while waiting for " + threadName, e);
    }
  }

  /**
   * Drops the pending inputs, interrupts the worker and waits for it to end (it stops at its next
   * check of the interrupt, or when its current native call returns). Idempotent; an interrupt of
   * the caller does not cut the wait short (what the worker uses may be closed right after), it is
   * kept for the caller.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    pending.forEach(f -> f.cancel(false)); // never started: dropped
    pending.clear();
    worker.shutdownNow(); // the one interrupt of the input in progress
    boolean interrupted = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_SECONDS);
    try {
      while (true) {
        try {
          if (worker.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
            break;
          }
          LOG.warn("{} did not stop within {} s", threadName, STOP_SECONDS);
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}

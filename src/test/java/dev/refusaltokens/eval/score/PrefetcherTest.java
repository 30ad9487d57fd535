package dev.refusaltokens.eval.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The one-thread look-ahead of a score task, without Spark or a model. */
@Timeout(60)
class PrefetcherTest {

  /** Whether a live thread has this exact name (waits a little: a stopped thread exits last). */
  static boolean threadAlive(String name) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      if (Thread.getAllStackTraces().keySet().stream()
          .noneMatch(t -> t.getName().equals(name) && t.isAlive())) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }

  @Test
  void resultsComeInInputOrderFromOneNamedDaemonThread() throws InterruptedException {
    List<String> threads = new ArrayList<>();
    try (Prefetcher<Integer, String> p =
        new Prefetcher<>(
            "prefetch-test-order",
            2,
            i -> {
              Thread t = Thread.currentThread();
              synchronized (threads) {
                threads.add(t.getName() + (t.isDaemon() ? " daemon" : ""));
              }
              return "r" + i;
            })) {
      List<String> out = new ArrayList<>();
      for (int i = 0; i < 10; i += 2) {
        p.submit(i);
        p.submit(i + 1);
        assertThatThrownBy(() -> p.submit(99))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("at most 2");
        out.add(p.take());
        out.add(p.take());
      }
      assertThat(p.hasPending()).isFalse();
      assertThat(out).containsExactly("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9");
      assertThat(threads).hasSize(10).containsOnly("prefetch-test-order daemon");
    }
    assertThat(threadAlive("prefetch-test-order")).isFalse();
  }

  @Test
  void theWorkersExceptionReachesTheCallerWithItsCause() throws InterruptedException {
    IOException root = new IOException("disk gone");
    AtomicReference<RuntimeException> thrown = new AtomicReference<>();
    Prefetcher<Integer, Integer> p =
        new Prefetcher<>(
            "prefetch-test-failure",
            1,
            i -> {
              if (i == 2) {
                thrown.set(new UncheckedIOException("cannot read window " + i, root));
                throw thrown.get();
              }
              return i * 10;
            });
    p.submit(1);
    assertThat(p.take()).isEqualTo(10);
    p.submit(2);
    assertThatThrownBy(p::take)
        .isSameAs(thrown.get())
        .hasMessage("cannot read window 2")
        .hasCause(root)
        .satisfies(
            e ->
                assertThat(e.getSuppressed())
                    .singleElement()
                    .satisfies(
                        s ->
                            assertThat(s).hasMessageContaining("thrown on prefetch-test-failure")));
    p.close();
    assertThat(threadAlive("prefetch-test-failure")).isFalse();
  }

  @Test
  void closeInterruptsTheWorkerAndWaitsForItEvenWhenTheCallerIsInterrupted()
      throws InterruptedException {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    Prefetcher<Integer, Integer> p =
        new Prefetcher<>(
            "prefetch-test-close",
            1,
            i -> {
              started.countDown();
              try {
                Thread.sleep(TimeUnit.MINUTES.toMillis(5)); // a window that never ends
                return i;
              } catch (InterruptedException e) {
                // stops, but not at once: a native call that does not see interrupts returns
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
                while (System.nanoTime() < until) {
                  Thread.onSpinWait();
                }
                stopped.countDown();
                throw new IllegalStateException("interrupted", e);
              }
            });
    p.submit(1);
    assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
    Thread.currentThread().interrupt(); // a killed task's thread runs its listeners interrupted
    long t0 = System.nanoTime();
    p.close();
    assertThat(Thread.interrupted()).as("the caller's interrupt is kept").isTrue();
    assertThat(stopped.getCount()).as("close returned after the worker stopped").isZero();
    assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(30));
    assertThat(threadAlive("prefetch-test-close")).isFalse();
    p.close(); // idempotent
    assertThatThrownBy(() -> p.submit(2)).isInstanceOf(IllegalStateException.class);
  }
}

package dev.refusaltokens.eval.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.EvalConfig;
import dev.refusaltokens.eval.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The claim on a run id, on the local file system: exclusive, refreshed, stale, taken over. */
class RunClaimTest {

  @TempDir Path dir;

  private EvalConfig config(Path output, int heartbeatSeconds) {
    return TestData.config(
        "claimed",
        output,
        TestData.ORIGINAL,
        TestData.CONTRAST,
        Map.of(EvalConfig.HEARTBEAT_SECONDS, String.valueOf(heartbeatSeconds)));
  }

  private static RunClaim take(EvalConfig config, boolean resume) {
    return RunClaim.take(config, resume, new Configuration(), Clock.systemUTC(), "run");
  }

  private static Path claimFile(Path output) {
    return output.resolve(RunClaim.FOLDER).resolve("claimed.json");
  }

  @Test
  void aSecondRunWithTheSameIdIsRefusedNamingTheOwnerAndTheClaimIsReleasedAtTheEnd() {
    Path output = dir.resolve("warehouse");
    EvalConfig config = config(output, 30);
    try (RunClaim first = take(config, false)) {
      assertThat(claimFile(output)).exists();
      assertThat(first.owner().pid()).isEqualTo(ProcessHandle.current().pid());
      for (boolean resume : List.of(false, true)) { // a fresh claim is never taken over
        assertThatThrownBy(() -> take(config, resume))
            .isInstanceOf(ConfigException.class)
            .hasMessageContaining("run id 'claimed' is claimed by a running job")
            .hasMessageContaining("process " + ProcessHandle.current().pid())
            .hasMessageContaining("host " + first.owner().host())
            .hasMessageContaining("since " + first.owner().startedAt())
            .hasMessageContaining("use another --run-id");
      }
      assertThat(first.held()).isTrue();
    }
    assertThat(claimFile(output)).doesNotExist();
    try (RunClaim again = take(config, false)) { // released: the id can be claimed again
      assertThat(again.held()).isTrue();
    }
  }

  @Test
  void ofRunsRacingForOneIdExactlyOneGetsIt() throws Exception {
    Path output = dir.resolve("race");
    EvalConfig config = config(output, 30);
    int racers = 8;
    ExecutorService pool = Executors.newFixedThreadPool(racers);
    CountDownLatch go = new CountDownLatch(1);
    List<RunClaim> won = new CopyOnWriteArrayList<>();
    List<Future<?>> futures = new java.util.ArrayList<>();
    for (int i = 0; i < racers; i++) {
      futures.add(
          pool.submit(
              () -> {
                go.await();
                try {
                  won.add(take(config, false));
                } catch (ConfigException refused) {
                  assertThat(refused).hasMessageContaining("is claimed by a running job");
                }
                return null;
              }));
    }
    go.countDown();
    for (Future<?> f : futures) {
      f.get(30, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(won).hasSize(1);
    won.get(0).close();
  }

  @Test
  void aStaleClaimIsTakenOverByResumeOnlyAndItsOldOwnerStopsWriting() throws IOException {
    Path output = dir.resolve("stale");
    EvalConfig config = config(output, 1); // stale after 4 s without a heartbeat
    RunClaim killed = RunClaim.take(config, false, new Configuration(), Clock.systemUTC(), "run");
    // the owner was killed 10 s ago: its heartbeat stopped then
    Files.setLastModifiedTime(claimFile(output), FileTime.from(Instant.now().minusSeconds(10)));
    assertThatThrownBy(() -> take(config, false))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("stopped refreshing its claim")
        .hasMessageContaining("continue that run with --resume");
    try (RunClaim resumed = take(config, true)) {
      assertThat(resumed.held()).isTrue();
      assertThat(Files.readString(claimFile(output))).contains(resumed.owner().token());
      assertThat(Files.list(claimFile(output).getParent())).hasSize(1); // the stale file is gone
      // the old owner, still alive after all, finds out at its next heartbeat
      killed.beat();
      assertThat(killed.held()).isFalse();
      assertThatThrownBy(killed::checkHeld)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("lost its claim")
          .hasMessageContaining("taken over by host " + resumed.owner().host());
      killed.close(); // must not delete the new owner's claim
      assertThat(claimFile(output)).exists();
    }
    assertThat(claimFile(output)).doesNotExist();
  }

  @Test
  void theHeartbeatRefreshesTheFileTimeAndCallsItsListeners() throws Exception {
    Path output = dir.resolve("beat");
    List<Instant> beats = new CopyOnWriteArrayList<>();
    try (RunClaim claim = take(config(output, 1), false)) {
      Files.setLastModifiedTime(claimFile(output), FileTime.from(Instant.now().minusSeconds(60)));
      claim.onHeartbeat(beats::add);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (beats.size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(beats).hasSizeGreaterThanOrEqualTo(2);
      assertThat(beats.get(1)).isAfter(beats.get(0));
      Instant touched = Files.getLastModifiedTime(claimFile(output)).toInstant();
      assertThat(touched).isAfter(Instant.now().minusSeconds(5));
    }
  }

  @Test
  void anOutputThatIsAFileOrUnderAFileStopsNamingTheKey() throws IOException {
    Path file = Files.writeString(dir.resolve("not-a-folder"), "x");
    assertThatThrownBy(() -> take(config(file, 30), false))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("output")
        .hasMessageContaining(file.toString())
        .hasMessageContaining("is a file, not a folder");
    Path under = file.resolve("warehouse");
    assertThatThrownBy(() -> take(config(under, 30), false))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("output")
        .hasMessageContaining(under.toString())
        .hasMessageContaining("give a folder this job can create files in");
  }

  @Test
  void heartbeatSecondsOutOfRangeIsAConfigurationError() {
    assertThatThrownBy(() -> config(dir, 0))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(EvalConfig.HEARTBEAT_SECONDS)
        .hasMessageContaining("1 to 3600");
  }
}

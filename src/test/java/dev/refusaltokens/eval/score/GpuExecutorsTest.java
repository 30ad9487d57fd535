package dev.refusaltokens.eval.score;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import dev.refusaltokens.eval.model.Libtorch;
import dev.refusaltokens.eval.testing.LocalCluster;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spark's GPU scheduling with real executor JVMs ({@code local-cluster}) and fake GPUs: the workers
 * run the project's discovery script, jobs/gpu-discovery.sh, against a fake {@code nvidia-smi};
 * each task runs the project's device resolution ({@link TaskDevice}) and libtorch thread setup
 * ({@link Libtorch}) in its executor and reports what it got. libtorch here is the CPU build, so
 * the resolution is called with the fake GPU count ({@link TaskDevice#resolve}), and the real path
 * ({@link TaskDevice#current}) must fail with the message that names the fix.
 *
 * <p>Runs where Maven runs ({@link LocalCluster}); fails, never skips, when the cluster does not
 * start.
 */
class GpuExecutorsTest {

  private static final long HOLD_MS = 1_500; // keeps the tasks of a wave running at the same time

  @TempDir static Path dir;

  @Test
  void eachExecutorScoresOnTheGpuItsWorkerWasGiven() throws IOException {
    // Two workers (executors) with one GPU each, and two cores per task: one task at a time per
    // executor.
    List<Probe> probes = runProbes(2, 2, 1, 2, 4);

    assertThat(probes).hasSize(4);
    assertThat(probes).extracting(Probe::executorId).containsOnly("0", "1"); // both, and no other
    for (Probe p : probes) {
      assertThat(p.assigned()).as("addresses Spark gave task %s", p.partition()).isEqualTo("0");
      assertThat(p.picked())
          .as("device the code picked in task %s", p.partition())
          .isEqualTo("gpu(0)");
      assertPicksWhatSparkAssigned(p);
      assertThat(p.threads()).as("libtorch intra-op threads = spark.task.cpus").isEqualTo(2);
      assertThat(p.realPath()).contains("libtorch sees no GPU").contains("PYTORCH_FLAVOR");
    }
  }

  @Test
  void concurrentTasksOfATwoGpuExecutorGetDistinctGpus() throws IOException {
    // One worker (executor) with two GPUs and two cores, one core and one GPU per task.
    List<Probe> probes = runProbes(1, 2, 2, 1, 4);

    assertThat(probes).hasSize(4);
    assertThat(probes).extracting(Probe::executorId).containsOnly("0");
    assertThat(probes).extracting(Probe::assigned).containsOnly("0", "1");
    int overlapping = 0;
    for (Probe p : probes) {
      assertPicksWhatSparkAssigned(p);
      assertThat(p.threads()).as("libtorch intra-op threads = spark.task.cpus").isEqualTo(1);
      assertThat(p.realPath()).contains("libtorch sees no GPU").contains("PYTORCH_FLAVOR");
      for (Probe q : probes) {
        if (p.partition() < q.partition() && p.overlaps(q)) {
          overlapping++;
          assertThat(p.picked())
              .as("tasks %s and %s ran at once", p.partition(), q.partition())
              .isNotEqualTo(q.picked());
        }
      }
    }
    assertThat(overlapping)
        .as("pairs of tasks that ran at once: %s", probes)
        .isGreaterThanOrEqualTo(1);
  }

  private static void assertPicksWhatSparkAssigned(Probe p) {
    assertThat(p.picked())
        .as("task %s on executor %s", p.partition(), p.executorId())
        .isEqualTo(Device.gpu(Integer.parseInt(p.assigned())).toString());
  }

  /**
   * Starts {@code local-cluster[workers, cores, 1024]} whose workers each announce {@code gpus}
   * fake GPUs, runs {@code tasks} probe tasks and returns what they saw.
   */
  private static List<Probe> runProbes(
      int workers, int coresPerWorker, int gpus, int taskCpus, int tasks) throws IOException {
    SparkConf conf =
        LocalCluster.conf(workers, coresPerWorker)
            .setAppName("gpu-executors-test")
            .set("spark.worker.resource.gpu.amount", Integer.toString(gpus))
            .set("spark.worker.resource.gpu.discoveryScript", fakeDiscoveryScript(gpus).toString())
            .set("spark.executor.resource.gpu.amount", Integer.toString(gpus))
            .set("spark.task.resource.gpu.amount", "1")
            .set("spark.task.cpus", Integer.toString(taskCpus))
            // Spark exports OMP_NUM_THREADS = spark.task.cpus to executors, and libtorch reads it:
            // another value
            // here shows that the threads come from the project's setting, not from that default.
            .set("spark.executorEnv.OMP_NUM_THREADS", taskCpus == 1 ? "2" : "1");
    try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
      LocalCluster.awaitExecutors(jsc, workers);
      List<Integer> partitions = IntStream.range(0, tasks).boxed().toList();
      return jsc.parallelize(partitions, tasks)
          .mapPartitions(new ProbeTask(gpus, HOLD_MS))
          .collect();
    }
  }

  /**
   * A discovery script for the workers: the project's jobs/gpu-discovery.sh with a fake {@code
   * nvidia-smi} first on its PATH, which lists GPUs {@code 0..gpus-1}.
   */
  private static Path fakeDiscoveryScript(int gpus) throws IOException {
    Path bin = Files.createDirectories(dir.resolve("fake-" + gpus + "-gpus"));
    Path smi = bin.resolve("nvidia-smi");
    Files.writeString(
        smi,
        "#!/bin/sh\n# answers --query-gpu=index --format=csv,noheader\nseq 0 " + (gpus - 1) + "\n");
    Path script = bin.resolve("discover.sh");
    Files.writeString(
        script,
        "#!/usr/bin/env bash\nPATH='"
            + bin
            + "':\"$PATH\" exec '"
            + Paths.get("jobs/gpu-discovery.sh").toAbsolutePath()
            + "'\n");
    assertThat(smi.toFile().setExecutable(true) && script.toFile().setExecutable(true)).isTrue();
    return script;
  }

  /** What one task saw in its executor. {@code picked} is a device name such as {@code gpu(1)}. */
  record Probe(
      String executorId,
      int partition,
      String assigned,
      String picked,
      int threads,
      String realPath,
      long startMs,
      long endMs)
      implements Serializable {

    boolean overlaps(Probe other) {
      return executorId.equals(other.executorId) && startMs < other.endMs && other.startMs < endMs;
    }
  }

  /**
   * Runs in the executors: the project's thread setup and device resolution for the task, with the
   * fake GPU count in place of libtorch's (which is 0 here), and the real resolution's answer.
   */
  static final class ProbeTask implements FlatMapFunction<Iterator<Integer>, Probe> {
    private final int fakeVisibleGpus;
    private final long holdMs;

    ProbeTask(int fakeVisibleGpus, long holdMs) {
      this.fakeVisibleGpus = fakeVisibleGpus;
      this.holdMs = holdMs;
    }

    @Override
    public Iterator<Probe> call(Iterator<Integer> partition) throws InterruptedException {
      long start = System.currentTimeMillis();
      TaskContext ctx = TaskContext.get();
      Libtorch.configureThreads(ctx.cpus());
      List<String> assigned = TaskDevice.assignedGpus(ctx);
      Device picked = TaskDevice.resolve(assigned, fakeVisibleGpus);
      String realPath;
      try {
        realPath = "picked " + TaskDevice.current();
      } catch (IllegalStateException e) {
        realPath = e.getMessage();
      }
      Thread.sleep(holdMs);
      List<Probe> out = new ArrayList<>();
      out.add(
          new Probe(
              SparkEnv.get().executorId(),
              ctx.partitionId(),
              String.join(",", assigned),
              picked.toString(),
              JniUtils.getNumThreads(),
              realPath,
              start,
              System.currentTimeMillis()));
      return out.iterator();
    }
  }
}

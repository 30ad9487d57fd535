package dev.refusaltokens.eval.score;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The GPU cluster examples in conf/examples/ read as spark-submit reads a properties file, and
 * their settings fit together: one GPU per task, as many task slots by cores as by GPUs, a
 * discovery script where executors must find their GPUs, and a CUDA libtorch that jobs/evaluate.sh
 * recognises (so that it does not ship the CPU build, which would win on the classpath).
 */
class GpuClusterExamplesTest {

  @ParameterizedTest
  @ValueSource(strings = {"gpu-standalone.conf", "gpu-yarn.conf", "gpu-kubernetes.conf"})
  void theExampleIsConsistent(String name) throws IOException, InterruptedException {
    Path file = Path.of("conf/examples", name);
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
    }
    for (String key : p.stringPropertyNames()) {
      assertThat(key).as(name).startsWith("spark.");
      assertThat(p.getProperty(key))
          .as("%s: %s (a '#' after a value is part of it)", name, key)
          .doesNotContain("#")
          .isNotBlank();
    }
    assertThat(p.getProperty("spark.task.resource.gpu.amount")).isEqualTo("1");
    int gpus = Integer.parseInt(p.getProperty("spark.executor.resource.gpu.amount"));
    int slotsByCores =
        Integer.parseInt(p.getProperty("spark.executor.cores"))
            / Integer.parseInt(p.getProperty("spark.task.cpus"));
    assertThat(slotsByCores).as("%s: task slots by cores = by GPUs", name).isEqualTo(gpus);

    String script = p.getProperty("spark.executor.resource.gpu.discoveryScript");
    if (name.equals("gpu-standalone.conf")) {
      assertThat(script).as("standalone: the workers discover the GPUs").isNull();
    } else {
      assertThat(script).as(name).endsWith("gpu-discovery.sh");
    }
    if (script != null && script.startsWith("./")) {
      assertThat(p.getProperty("spark.files"))
          .as("%s ships %s", name, script)
          .endsWith(script.substring(2));
    }
    if (name.equals("gpu-kubernetes.conf")) {
      assertThat(p.getProperty("spark.executor.resource.gpu.vendor")).isEqualTo("nvidia.com");
    }

    boolean download = p.getProperty("spark.executorEnv.PYTORCH_LIBRARY_PATH") == null;
    assertThat(p.getProperty("spark.executorEnv.PYTORCH_FLAVOR")).as(name).startsWith("cu");
    if (download) {
      assertThat(p.getProperty("spark.executorEnv.DJL_OFFLINE"))
          .as("%s downloads libtorch", name)
          .isEqualTo("false");
    } else {
      assertThat(p.getProperty("spark.executorEnv.PYTORCH_VERSION")).as(name).isNotBlank();
    }
    assertThat(evaluateShShipsCpuLibtorch(file))
        .as("jobs/evaluate.sh ships the CPU libtorch with %s", name)
        .isFalse();
  }

  /**
   * Asks jobs/common.sh, as jobs/evaluate.sh does, whether the executors bring their own libtorch.
   */
  private static boolean evaluateShShipsCpuLibtorch(Path propertiesFile)
      throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder("bash", "-c", "source jobs/common.sh && executors_bring_libtorch");
    pb.environment().remove("PYTORCH_FLAVOR");
    pb.environment().remove("PYTORCH_LIBRARY_PATH");
    pb.environment().put("SPARK_SUBMIT_ARGS", "--master yarn --properties-file " + propertiesFile);
    Process process = pb.inheritIO().start();
    return process.waitFor() != 0;
  }
}

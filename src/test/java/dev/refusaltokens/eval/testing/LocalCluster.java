package dev.refusaltokens.eval.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Spark's {@code local-cluster[workers, cores, MB]} master from a test, without a Spark
 * distribution: a master and workers in this JVM, executors in JVMs of their own launched by the
 * workers. What that needs (found by trial, see the shared recipe): {@code SPARK_HOME} pointing at
 * a folder whose {@code jars/} holds the jars (links to the test classpath's), {@code
 * SPARK_SCALA_VERSION} in the executors' launch environment, the absolute classpath with the test
 * classes, and the Java 17 flags of jobs/java17-spark.options. Surefire sets {@code SPARK_HOME} to
 * target/spark-home (pom.xml).
 */
public final class LocalCluster {

  private static final long EXECUTORS_TIMEOUT_MS = 60_000;

  private LocalCluster() {}

  /**
   * The configuration of a {@code local-cluster[workers, coresPerWorker, 1024]} session, after
   * making $SPARK_HOME/jars and stopping any session of this JVM (one SparkContext per JVM).
   */
  public static SparkConf conf(int workers, int coresPerWorker) throws IOException {
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    linkJars(classpath);
    scala.Option<SparkSession> running = SparkSession.getDefaultSession();
    if (running.isDefined()) {
      running.get().stop();
    }
    String javaOptions =
        String.join(" ", Files.readAllLines(Paths.get("jobs/java17-spark.options")));
    return new SparkConf()
        .setMaster("local-cluster[" + workers + "," + coresPerWorker + ",1024]")
        .set("spark.ui.enabled", "false")
        .set("spark.executor.memory", "768m")
        .set("spark.task.maxFailures", "1")
        .set("spark.driver.extraClassPath", classpath)
        .set("spark.executor.extraClassPath", classpath)
        .set("spark.executor.extraJavaOptions", javaOptions + " -Dai.djl.offline=true")
        // The launcher looks for Spark's build directories unless it is told the Scala version.
        .set("spark.executorEnv.SPARK_SCALA_VERSION", "2.13");
  }

  /**
   * Waits until {@code executors} executors registered, so that tasks can spread over them; fails
   * with their logs when they do not (within a minute).
   */
  public static void awaitExecutors(JavaSparkContext jsc, int executors) throws IOException {
    long deadline = System.currentTimeMillis() + EXECUTORS_TIMEOUT_MS;
    while (jsc.sc().statusTracker().getExecutorInfos().length < executors + 1) { // + the driver
      if (System.currentTimeMillis() > deadline || jsc.sc().isStopped()) {
        throw new AssertionError(
            "local-cluster: "
                + executors
                + " executor(s) did not register within "
                + EXECUTORS_TIMEOUT_MS / 1000
                + " s; executor logs:\n"
                + executorLogs());
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for executors", e);
      }
    }
  }

  private static Path sparkHome() {
    String home = System.getenv("SPARK_HOME");
    if (home == null || home.isBlank()) {
      throw new AssertionError(
          "local-cluster needs SPARK_HOME: surefire sets it to target/spark-home"
              + " (pom.xml); run this test through Maven or set it likewise");
    }
    return Paths.get(home).toAbsolutePath();
  }

  /** $SPARK_HOME/jars: a link to each jar of the classpath, as in a Spark distribution. */
  private static void linkJars(String classpath) throws IOException {
    Path home = sparkHome();
    deleteRecursively(home.resolve("work")); // executor folders of earlier runs
    Path jars = Files.createDirectories(home.resolve("jars"));
    for (String entry : classpath.split(File.pathSeparator)) {
      Path jar = Paths.get(entry).toAbsolutePath();
      Path link = jars.resolve(jar.getFileName().toString());
      if (entry.endsWith(".jar") && !Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
        Files.createSymbolicLink(link, jar);
      }
    }
  }

  /** The last lines of each executor's stderr (the workers write them under $SPARK_HOME/work). */
  private static String executorLogs() throws IOException {
    Path work = sparkHome().resolve("work");
    String none =
        "(no executor stderr under "
            + work
            + ": no executor JVM started; the worker's reason is"
            + " in this test's log, e.g. ExecutorRunner's 'Cannot find any build directories' without"
            + " SPARK_SCALA_VERSION)";
    if (!Files.isDirectory(work)) {
      return none;
    }
    try (Stream<Path> files = Files.walk(work)) {
      String logs =
          files
              .filter(f -> f.getFileName().toString().equals("stderr"))
              .map(LocalCluster::tail)
              .collect(Collectors.joining("\n"));
      return logs.isEmpty() ? none : logs;
    }
  }

  private static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file);
      return file
          + ":\n"
          + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (Files.exists(root)) {
      try (Stream<Path> files = Files.walk(root)) {
        for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(f);
        }
      }
    }
  }
}

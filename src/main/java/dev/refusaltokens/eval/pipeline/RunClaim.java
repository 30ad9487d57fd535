package dev.refusaltokens.eval.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.config.EvalConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer per run id: the claim file {@code <output>/_claims/<run_id>.json}, created atomically
 * before any work, its modification time refreshed every {@code heartbeat_seconds} while the run
 * works (the heartbeat), and deleted when the run ends. A second run with the same id finds the
 * file and stops naming its owner. A claim whose heartbeat is older than {@link #STALE_AFTER_BEATS}
 * heartbeats belongs to a run that stopped without ending (killed): {@code --resume} may take it
 * over, nothing else may.
 *
 * <p>Atomic creation: on a local or NFS folder through {@code O_CREAT|O_EXCL} ({@link
 * Files#createFile}), on HDFS through {@code create(overwrite=false)}. Object stores without
 * conditional writes cannot create a file atomically, so two runs started within the same moment
 * may both get through there (docs/resume.md).
 */
public final class RunClaim implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RunClaim.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The folder under the output folder that holds the claims. */
  public static final String FOLDER = "_claims";

  /** A claim is stale, and may be taken over by {@code --resume}, after this many heartbeats. */
  public static final int STALE_AFTER_BEATS = 4;

  /** Who holds a claim: written into the claim file when it is created, never changed. */
  public record Owner(
      String runId, String host, long pid, Instant startedAt, String command, String token) {

    String toJson() {
      ObjectNode n = JSON.createObjectNode();
      n.put("run_id", runId);
      n.put("host", host);
      n.put("pid", pid);
      n.put("started_at", startedAt.toString());
      n.put("command", command);
      n.put("token", token);
      return n.toString();
    }

    static Owner fromJson(String json) throws IOException {
      var n = JSON.readTree(json);
      if (n == null || !n.isObject() || !n.hasNonNull("token")) {
        throw new IOException("not a claim file: " + json);
      }
      return new Owner(
          n.path("run_id").asText(),
          n.path("host").asText(),
          n.path("pid").asLong(),
          Instant.parse(n.path("started_at").asText()),
          n.path("command").asText(),
          n.path("token").asText());
    }

    /** "host H, process P, since T (command C)": how messages name the owner. */
    String describe() {
      return "host " + host + ", process " + pid + ", since " + startedAt + " (" + command + ")";
    }
  }

  private final FileSystem fs;
  private final Path file;
  private final Owner owner;
  private final Clock clock;
  private final ScheduledExecutorService beats;
  private final List<Consumer<Instant>> listeners = new CopyOnWriteArrayList<>();
  private volatile String lost; // why the claim is no longer this run's; null while held
  private volatile boolean closed;

  private RunClaim(FileSystem fs, Path file, Owner owner, Clock clock, int heartbeatSeconds) {
    this.fs = fs;
    this.file = file;
    this.owner = owner;
    this.clock = clock;
    if (heartbeatSeconds > 0) {
      beats =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "run-claim-heartbeat-" + owner.runId());
                t.setDaemon(true);
                return t;
              });
      beats.scheduleWithFixedDelay(
          this::beat, heartbeatSeconds, heartbeatSeconds, TimeUnit.SECONDS);
    } else {
      beats = null;
    }
  }

  /**
   * Claims {@code config}'s run id before any work; a configuration error (exit 2) when the output
   * folder cannot hold it, or another run holds it.
   *
   * @param resume whether a stale claim (its owner stopped refreshing it) may be taken over
   * @param command the subcommand, recorded in the claim
   */
  public static RunClaim take(
      EvalConfig config, boolean resume, Configuration hadoop, Clock clock, String command) {
    Path folder = new Path(new Path(config.output()), FOLDER);
    Path file = new Path(folder, config.runId() + ".json");
    FileSystem fs = outputFileSystem(config, folder, hadoop);
    Owner me =
        new Owner(
            config.runId(),
            host(),
            ProcessHandle.current().pid(),
            clock.instant(),
            command,
            UUID.randomUUID().toString());
    Duration stale = Duration.ofSeconds((long) config.heartbeatSeconds() * STALE_AFTER_BEATS);
    try {
      for (int attempt = 0; attempt < 3; attempt++) {
        if (create(fs, file, me)) {
          return new RunClaim(fs, file, me, clock, config.heartbeatSeconds());
        }
        Held held = held(fs, file, clock);
        if (held == null) {
          continue; // released between the create and the look: try again
        }
        if (held.age().compareTo(stale) < 0) {
          throw claimed(config, held, file);
        }
        if (!resume) {
          throw new ConfigException(
              "run id '"
                  + config.runId()
                  + "' is claimed by a job that stopped refreshing its claim "
                  + held.age().toSeconds()
                  + " s ago (killed?): "
                  + held.owner().describe()
                  + "; continue that run with --resume, or use another --run-id");
        }
        if (takeOver(fs, file, me)) {
          LOG.warn(
              "Run {}: took over the claim of a job that stopped {} s ago: {}",
              config.runId(),
              held.age().toSeconds(),
              held.owner().describe());
          return new RunClaim(fs, file, me, clock, config.heartbeatSeconds());
        }
        // another --resume took it over first: the next attempt finds its fresh claim
      }
      throw claimed(config, held(fs, file, clock), file);
    } catch (IOException e) {
      throw ConfigException.badValue(
          EvalConfig.OUTPUT,
          config.output(),
          "cannot hold the run's claim file (" + firstLine(e) + ")",
          "give a folder this job can create files in");
    }
  }

  private static ConfigException claimed(EvalConfig config, Held held, Path file) {
    return new ConfigException(
        "run id '"
            + config.runId()
            + "' is claimed by a running job: "
            + (held == null
                ? "another run"
                : held.owner().describe() + ", heartbeat " + held.age().toSeconds() + " s ago")
            + " (claim file "
            + file
            + "); wait for it to end, or use another --run-id");
  }

  /**
   * Takes a stale claim over: renames it to a name of this run's own (of racing resumers, exactly
   * one rename succeeds), then creates the claim again atomically.
   */
  private static boolean takeOver(FileSystem fs, Path file, Owner me) throws IOException {
    Path aside = new Path(file.getParent(), file.getName() + ".stale-" + me.token());
    if (!fs.rename(file, aside)) {
      return false;
    }
    fs.delete(aside, false);
    return create(fs, file, me);
  }

  /** The claim's file system; the output must be a folder (or not exist yet). */
  private static FileSystem outputFileSystem(EvalConfig config, Path folder, Configuration hadoop) {
    try {
      FileSystem fs = folder.getFileSystem(hadoop);
      Path output = folder.getParent();
      if (fs.exists(output) && !fs.getFileStatus(output).isDirectory()) {
        throw ConfigException.badValue(
            EvalConfig.OUTPUT,
            config.output(),
            "is a file, not a folder",
            "give a folder for the tables (it is created when missing)");
      }
      fs.mkdirs(folder);
      if (!fs.getFileStatus(folder).isDirectory()) {
        throw new IOException(folder + " is not a folder");
      }
      return fs;
    } catch (IOException e) {
      throw ConfigException.badValue(
          EvalConfig.OUTPUT,
          config.output(),
          "cannot be written (" + firstLine(e) + ")",
          "give a folder this job can create files in (a missing one is created)");
    }
  }

  /** A held claim as found: its owner and the age of its heartbeat. */
  private record Held(Owner owner, Duration age) {}

  private static Held held(FileSystem fs, Path file, Clock clock) throws IOException {
    FileStatus status;
    String text;
    try {
      status = fs.getFileStatus(file);
      text = read(fs, file);
    } catch (java.io.FileNotFoundException e) {
      return null;
    }
    Duration age =
        Duration.between(Instant.ofEpochMilli(status.getModificationTime()), clock.instant());
    Owner owner;
    try {
      owner = Owner.fromJson(text);
    } catch (IOException | RuntimeException e) {
      // a claim being written this very moment, or a damaged one: unknown owner, judged by its age
      owner = new Owner("?", "?", -1, Instant.ofEpochMilli(status.getModificationTime()), "?", "");
    }
    return new Held(owner, age);
  }

  /** Atomic create: false when the file exists. */
  private static boolean create(FileSystem fs, Path file, Owner owner) throws IOException {
    byte[] bytes = owner.toJson().getBytes(StandardCharsets.UTF_8);
    FileSystem raw = fs instanceof LocalFileSystem local ? local.getRaw() : fs;
    if (raw instanceof RawLocalFileSystem local) {
      try {
        Files.write(
            local.pathToFile(file).toPath(),
            bytes,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE);
        return true;
      } catch (FileAlreadyExistsException e) {
        return false;
      }
    }
    if (fs.exists(file)) {
      return false;
    }
    try (OutputStream out = fs.create(file, false)) {
      out.write(bytes);
      return true;
    } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
      return false;
    }
  }

  private static String read(FileSystem fs, Path file) throws IOException {
    try (InputStream in = fs.open(file)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return ManagementFactory.getRuntimeMXBean().getName();
    }
  }

  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    return m.lines().findFirst().orElse(m);
  }

  /** Who holds this claim. */
  public Owner owner() {
    return owner;
  }

  /** The claim file. */
  public String file() {
    return file.toString();
  }

  /** Called with the time of every heartbeat while the claim is held (e.g. to refresh a row). */
  public void onHeartbeat(Consumer<Instant> listener) {
    listeners.add(Objects.requireNonNull(listener));
  }

  /** Whether this run still holds its claim. */
  public boolean held() {
    return lost == null && !closed;
  }

  /** Throws when another run took the claim over: this run must not write any more. */
  public void checkHeld() {
    if (lost != null) {
      throw new IllegalStateException("run " + owner.runId() + " lost its claim: " + lost);
    }
  }

  /** One heartbeat: checks that the file is still this run's, then refreshes its time. */
  void beat() {
    if (closed || lost != null) {
      return;
    }
    try {
      Owner now;
      try {
        now = Owner.fromJson(read(fs, file));
      } catch (java.io.FileNotFoundException e) {
        now = null;
      }
      if (now == null || !now.token().equals(owner.token())) {
        lost =
            now == null
                ? "the claim file " + file + " was removed"
                : "it was taken over by " + now.describe();
        LOG.error("Run {} {}; it stops writing", owner.runId(), "lost its claim: " + lost);
        return;
      }
      Instant at = clock.instant();
      fs.setTimes(file, at.toEpochMilli(), -1);
      for (Consumer<Instant> l : listeners) {
        l.accept(at);
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("Run {}: heartbeat failed ({}); trying again", owner.runId(), e.toString());
    }
  }

  /** Stops the heartbeat and deletes the claim file if it is still this run's. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (beats != null) {
      beats.shutdownNow();
      try {
        beats.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (lost != null) {
      return;
    }
    try {
      Owner now = Owner.fromJson(read(fs, file));
      if (now.token().equals(owner.token())) {
        fs.delete(file, false);
      }
    } catch (IOException e) {
      LOG.warn("Run {}: could not release the claim {} ({})", owner.runId(), file, e.toString());
    }
  }
}

package dev.refusaltokens.eval.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The folder an export writes: each file is first written to a hidden temporary file next to its
 * final name, and only {@link #commit} moves them into place, so a failed export leaves no half
 * file and a reader never sees a mix of two exports (beyond the instant of the moves). {@link
 * #close} removes the temporary files of an export that did not commit.
 */
final class ExportFolder implements AutoCloseable {

  private final Path dir;
  private final Map<String, Path> staged = new LinkedHashMap<>();

  /** Creates {@code dir} (and its parents) when missing; fails when it is a file. */
  ExportFolder(Path dir) {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new ExportException(
          "--to " + dir + " is a file, not a folder; give a folder (it is created when missing)");
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create the export folder " + dir, e);
    }
    this.dir = dir;
  }

  Path dir() {
    return dir;
  }

  /** A new temporary file for {@code name}, to be written by the caller and moved by commit. */
  Path stage(String name) {
    try {
      Path tmp = Files.createTempFile(dir, "." + name + ".", ".tmp");
      staged.put(name, tmp);
      return tmp;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write in the export folder " + dir, e);
    }
  }

  /** Stages {@code name} with the given content. */
  void write(String name, byte[] content) {
    Path tmp = stage(name);
    try {
      Files.write(tmp, content);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + tmp, e);
    }
  }

  /**
   * Moves every staged file to its name, then deletes the files of {@code ownNames} this export did
   * not write (an earlier export's {@code openai_request.json} must not outlive it).
   *
   * @return the files written, in staging order
   */
  List<Path> commit(List<String> ownNames) {
    List<Path> written = new ArrayList<>();
    try {
      for (Map.Entry<String, Path> e : staged.entrySet()) {
        Path target = dir.resolve(e.getKey());
        move(e.getValue(), target);
        written.add(target);
      }
      for (String name : ownNames) {
        if (!staged.containsKey(name)) {
          Files.deleteIfExists(dir.resolve(name));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot move the exported files into " + dir, e);
    }
    staged.clear();
    return written;
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Removes the temporary files of an export that did not commit. */
  @Override
  public void close() {
    for (Path tmp : staged.values()) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException e) {
        // best effort: a hidden .tmp file left behind is harmless
      }
    }
    staged.clear();
  }
}

package io.vmpilot.conversation.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** Throwaway directories of the tests and the benchmark (databases, training runs), deleted whole. */
public final class FileTrees {
  private FileTrees() {}

  /** Deletes {@code dir} and everything under it (nothing if it is gone already). */
  public static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}

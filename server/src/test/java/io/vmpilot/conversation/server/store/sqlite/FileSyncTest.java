package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log sync keeps the log open between syncs, yet always syncs the file that is at the path now. What this
 * process has open is read from {@code /proc/self/fd} (Linux), the only place that shows which file a sync would
 * reach.
 */
class FileSyncTest {
  @TempDir
  Path dir;

  @Test
  void keepsOneChannelOpenAcrossSyncsAndLetsGoOnClose() throws IOException {
    Path wal = log("a.db-wal");
    FileSync sync = syncedOnce(wal);
    sync.sync();
    sync.sync();
    assertThat(openFilesNamed(wal)).as("one channel for all three syncs").containsExactly(wal.toString());
    sync.close();
    assertThat(openFilesNamed(wal)).isEmpty();
  }

  @Test
  void aLogReplacedAtThePathIsTheOneSyncedNext() throws IOException {
    Path wal = log("b.db-wal");
    try (FileSync sync = syncedOnce(wal)) {
      // What SQLite does when its last connection closes and a new one opens: the log goes, a new one comes.
      Files.delete(wal);
      Files.writeString(wal, "new frames");
      sync.sync();
      assertThat(openFilesNamed(wal)).as("the new log, and not the deleted one, is open")
          .containsExactly(wal.toString());
    }
  }

  @Test
  void aSyncInterruptedOnceDoesNotBreakTheNextOnes() throws IOException {
    Path wal = log("d.db-wal");
    try (FileSync sync = syncedOnce(wal)) {
      // An interrupt closes a FileChannel under the thread using it: that sync fails, and says so...
      Thread.currentThread().interrupt();
      try {
        assertThatThrownBy(sync::sync).isInstanceOf(IOException.class);
      } finally {
        Thread.interrupted();
      }
      // ...but the channel is not left closed for every sync after it.
      sync.sync();
      assertThat(openFilesNamed(wal)).containsExactly(wal.toString());
    }
  }

  @Test
  void aMissingLogIsAFailureNamingIt() throws IOException {
    Path wal = log("c.db-wal");
    try (FileSync sync = syncedOnce(wal)) {
      Files.delete(wal);
      assertThatThrownBy(sync::sync).isInstanceOf(IOException.class).hasMessageContaining("c.db-wal is missing");
    }
  }

  /** A log file with some frames in it. */
  private Path log(String name) throws IOException {
    return Files.writeString(dir.resolve(name), "frames");
  }

  /** A sync of {@code wal} that has synced it once (and so holds it open). */
  private static FileSync syncedOnce(Path wal) throws IOException {
    FileSync sync = new FileSync(wal, "write-ahead log");
    sync.sync();
    return sync;
  }

  /** The targets of this process's open file descriptors that are {@code file} (or were, before it was deleted). */
  private static List<String> openFilesNamed(Path file) throws IOException {
    Path fds = Path.of("/proc/self/fd");
    assumeTrue(Files.isDirectory(fds), "needs /proc/self/fd (Linux)");
    List<String> found = new ArrayList<>();
    try (Stream<Path> entries = Files.list(fds)) {
      for (Path fd : (Iterable<Path>) entries::iterator) {
        String target;
        try {
          target = Files.readSymbolicLink(fd).toString();
        } catch (IOException closedMeanwhile) {
          continue; // the listing's own descriptor, or one closed since
        }
        if (target.startsWith(file.toString())) {
          found.add(target);
        }
      }
    }
    return found;
  }
}

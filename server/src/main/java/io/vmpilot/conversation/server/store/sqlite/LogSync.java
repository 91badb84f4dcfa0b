package io.vmpilot.conversation.server.store.sqlite;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Makes every transaction committed so far durable. With {@code durability=full} the writer's connection commits
 * with {@code synchronous=NORMAL} (the commit only writes the log) and the {@link GroupCommitWriter} calls this
 * afterwards, from another thread, before it answers anyone: the same sync SQLite's {@code synchronous=FULL}
 * makes inside COMMIT, but the writer runs the next batch meanwhile instead of waiting for the disk.
 */
interface LogSync {
  /** Durability normal: nothing to sync; a commit survives a crash of the process, not of the machine. */
  LogSync NONE = () -> {};

  void sync() throws IOException;

  /**
   * Syncs the write-ahead log of {@code database} ({@code <file>-wal}, next to the file's real path, where SQLite
   * puts it even when {@code database} is a symbolic link), opened anew each time so that a sync always reaches
   * the log that is there now. The log exists as long as a connection is open, and the store's connections are
   * open whenever it commits; a missing log is reported as a failure rather than taken as nothing to sync.
   */
  static LogSync writeAheadLogOf(Path database) throws IOException {
    Path wal = Path.of(database.toRealPath() + "-wal");
    return () -> {
      try (FileChannel log = FileChannel.open(wal, StandardOpenOption.WRITE)) {
        log.force(false);
      } catch (NoSuchFileException e) {
        throw new IOException("the write-ahead log " + wal + " is missing", e);
      }
    };
  }
}

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
   * Syncs the write-ahead log of {@code database} ({@code <file>-wal}), opened anew each time: SQLite deletes
   * the log when the last connection closes and creates a new one later, and a sync must reach the file that is
   * there now. (If the log was replaced, everything in the old one had been checkpointed into the database file
   * and synced by SQLite before it was removed.)
   */
  static LogSync writeAheadLogOf(Path database) {
    Path wal = Path.of(database.toAbsolutePath() + "-wal");
    return () -> {
      try (FileChannel log = FileChannel.open(wal, StandardOpenOption.WRITE)) {
        log.force(false);
      } catch (NoSuchFileException closedAndCheckpointed) {
        // No log: the last connection closed, after checkpointing the log into the database and syncing it.
      }
    };
  }
}

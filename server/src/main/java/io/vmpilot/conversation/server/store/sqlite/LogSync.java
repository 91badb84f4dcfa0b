package io.vmpilot.conversation.server.store.sqlite;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Makes every transaction committed so far durable. With {@code durability=full} the writer's connection commits
 * with {@code synchronous=NORMAL} (the commit only writes the log) and the {@link GroupCommitWriter} calls this
 * afterwards, from another thread, before it answers anyone: the same sync SQLite's {@code synchronous=FULL}
 * makes inside COMMIT, but the writer runs the next batch meanwhile instead of waiting for the disk.
 */
interface LogSync extends AutoCloseable {
  /** Durability normal: nothing to sync; a commit survives a crash of the process, not of the machine. */
  LogSync NONE = () -> {};

  void sync() throws IOException;

  /** Lets go of whatever the sync keeps open; called once no more syncs will come. */
  @Override
  default void close() {}

  /**
   * Syncs the write-ahead log of {@code database} ({@code <file>-wal}, next to the file's real path, where SQLite
   * puts it even when {@code database} is a symbolic link); see {@link FileSync}.
   */
  static LogSync writeAheadLogOf(Path database) throws IOException {
    return new FileSync(Path.of(database.toRealPath() + "-wal"), "write-ahead log");
  }
}

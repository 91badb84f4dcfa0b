package io.vmpilot.conversation.server.store.sqlite;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps a second server off a database file. The store's writer is the only writer it expects (it hands out
 * versions from a counter in memory), so two servers on one file would give out the same versions. The store holds
 * an exclusive lock on {@code <file>.lock} beside the database for as long as it is open; a server that finds it
 * held refuses to start. The operating system releases the lock when the process ends, however it ends, so a
 * crashed server never leaves it behind (the empty file stays; it is harmless). Other SQLite clients (an
 * operator's {@code sqlite3} shell) do not look at it and still work.
 */
final class DatabaseLock implements AutoCloseable {
  /**
   * Lock files held by this process. Checked before a second channel is opened on one: closing any channel of a
   * file drops all of the process's locks on it (POSIX), so a refused second store in the same process would
   * otherwise free the first one's lock for other processes.
   */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  private final Path file;
  /** The channel whose lock is held; closing it releases the lock. */
  private final FileChannel channel;

  private DatabaseLock(Path file, FileChannel channel) {
    this.file = file;
    this.channel = channel;
  }

  /** The lock file of {@code database}, next to the file's real path (two paths to one file share it). */
  static Path lockFileOf(Path database) throws IOException {
    Path real = Files.exists(database) ? database.toRealPath()
        : database.toAbsolutePath().getParent().toRealPath().resolve(database.getFileName());
    return real.resolveSibling(real.getFileName() + ".lock");
  }

  /**
   * Takes the lock of {@code database}, whose directory must exist.
   *
   * @throws IllegalStateException if another server holds it, or the lock file cannot be written
   */
  static DatabaseLock acquire(Path database) {
    Path file;
    try {
      file = lockFileOf(database);
    } catch (IOException e) {
      throw cannotLock(database, e);
    }
    if (!HELD.add(file)) {
      throw inUse(database, file);
    }
    FileChannel channel = null;
    try {
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      if (channel.tryLock() == null) {
        throw inUse(database, file);
      }
      return new DatabaseLock(file, channel);
    } catch (IOException | RuntimeException e) {
      closeQuietly(channel);
      HELD.remove(file);
      throw e instanceof RuntimeException r ? r : cannotLock(database, (IOException) e);
    }
  }

  private static IllegalStateException cannotLock(Path database, IOException e) {
    return new IllegalStateException("cannot lock " + database + " for this server: " + e, e);
  }

  private static IllegalStateException inUse(Path database, Path file) {
    return new IllegalStateException(database + " is in use by another conversation server (it holds " + file
        + "); one file serves one server, whose versions would otherwise collide");
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // The descriptor is gone either way, and with it any lock held through it.
      }
    }
  }

  /** Releases the lock. */
  @Override
  public void close() {
    closeQuietly(channel);
    HELD.remove(file);
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.Retention;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How the SQLite backend opens its file.
 *
 * @param path the database file; its parent directory is created if missing
 * @param durability what an acknowledged write survives
 * @param busyTimeoutMillis how long a connection waits for a lock held by another process before failing
 * @param readPoolSize connections for concurrent reads (writes always go through one writer connection)
 * @param maxBatch the most write requests the writer commits in one transaction
 * @param maxHistoryBytes the largest history a conversation may hold, in UTF-8 bytes of message JSON
 * @param maxConversationsPerTenant the most conversations one tenant may have; creating one more fails
 * @param diskReserveBytes space kept in a file beside the database and given up when a Clear meets a full disk
 *     ({@link DiskReserve}); 0 keeps none
 * @param searchIndex whether the full-text index of messages that Search reads is kept ({@link SqliteSearchIndex});
 *     without it Search is refused
 * @param retention when a conversation has expired, so that a write treats it as absent
 * @param backupDirectory the only directory Backup may write into (its subdirectories too); null for the
 *     database file's own directory
 */
public record SqliteSettings(
    Path path, Durability durability, int busyTimeoutMillis, int readPoolSize, int maxBatch, long maxHistoryBytes,
    long maxConversationsPerTenant, long diskReserveBytes, boolean searchIndex, Retention retention,
    Path backupDirectory) {

  /** Settings with the search index, under which no conversation expires by idleness. */
  public SqliteSettings(
      Path path, Durability durability, int busyTimeoutMillis, int readPoolSize, int maxBatch, long maxHistoryBytes,
      long maxConversationsPerTenant, long diskReserveBytes) {
    this(path, durability, busyTimeoutMillis, readPoolSize, maxBatch, maxHistoryBytes, maxConversationsPerTenant,
        diskReserveBytes, true, Retention.NONE, null);
  }

  /** The same settings, with the search index kept or not. */
  public SqliteSettings withSearchIndex(boolean kept) {
    return new SqliteSettings(path, durability, busyTimeoutMillis, readPoolSize, maxBatch, maxHistoryBytes,
        maxConversationsPerTenant, diskReserveBytes, kept, retention, backupDirectory);
  }

  /** These settings with another retention. */
  public SqliteSettings withRetention(Retention other) {
    return new SqliteSettings(path, durability, busyTimeoutMillis, readPoolSize, maxBatch, maxHistoryBytes,
        maxConversationsPerTenant, diskReserveBytes, searchIndex, other, backupDirectory);
  }

  /** These settings with Backup confined to {@code directory} (null: the database file's directory). */
  public SqliteSettings withBackupDirectory(Path directory) {
    return new SqliteSettings(path, durability, busyTimeoutMillis, readPoolSize, maxBatch, maxHistoryBytes,
        maxConversationsPerTenant, diskReserveBytes, searchIndex, retention, directory);
  }

  /** Where Backup may write: {@code backupDirectory}, or the database file's directory when none is set. */
  public Path effectiveBackupDirectory() {
    return backupDirectory != null ? backupDirectory : path.toAbsolutePath().getParent();
  }

  /** Settings without a disk reserve. */
  public SqliteSettings(
      Path path, Durability durability, int busyTimeoutMillis, int readPoolSize, int maxBatch, long maxHistoryBytes,
      long maxConversationsPerTenant) {
    this(path, durability, busyTimeoutMillis, readPoolSize, maxBatch, maxHistoryBytes, maxConversationsPerTenant, 0);
  }

  /** Settings without a limit on conversations per tenant. */
  public SqliteSettings(
      Path path, Durability durability, int busyTimeoutMillis, int readPoolSize, int maxBatch, long maxHistoryBytes) {
    this(path, durability, busyTimeoutMillis, readPoolSize, maxBatch, maxHistoryBytes, Long.MAX_VALUE);
  }

  public SqliteSettings {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(durability, "durability");
    Objects.requireNonNull(retention, "retention");
    if (readPoolSize < 1 || maxBatch < 1 || busyTimeoutMillis < 0 || maxConversationsPerTenant < 1
        || diskReserveBytes < 0) {
      throw new IllegalArgumentException("invalid SQLite settings");
    }
  }

  String jdbcUrl() {
    return "jdbc:sqlite:" + path.toAbsolutePath();
  }
}

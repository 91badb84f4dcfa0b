package io.vmpilot.conversation.server.store.error;

/** The backend has no online backup of its own (memory: nothing to copy; PostgreSQL: use pg_dump / pg_basebackup). */
public final class BackupNotSupportedException extends StoreException {
  public BackupNotSupportedException(String backend) {
    super("backup is not supported by the " + backend + " backend", null);
  }
}

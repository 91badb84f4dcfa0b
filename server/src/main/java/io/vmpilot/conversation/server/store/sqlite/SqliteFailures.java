package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.error.StorageFullException;
import io.vmpilot.conversation.server.store.error.StoreException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import java.sql.SQLException;

/** Names what went wrong in SQLite in the store's terms, so callers get the right status. */
final class SqliteFailures {
  /** SQLITE_FULL: the disk or the database is full. */
  private static final int SQLITE_FULL = 13;

  private SqliteFailures() {}

  static StoreException translate(String operation, Throwable e) {
    if (e instanceof SQLException sql && (sql.getErrorCode() & 0xff) == SQLITE_FULL) {
      return new StorageFullException("the database " + operation + " failed: the disk is full", e);
    }
    return new StoreUnavailableException("the database " + operation + " failed: " + e.getMessage(), e);
  }
}

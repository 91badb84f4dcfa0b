package io.vmpilot.conversation.server.store.postgres;

import io.vmpilot.conversation.server.store.error.StorageFullException;
import io.vmpilot.conversation.server.store.error.StoreException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/**
 * Names what went wrong in PostgreSQL in the store's terms, from the SQLSTATE of the failure, and says honestly what
 * became of the write: a transaction that failed before its COMMIT was sent changed nothing (PostgreSQL rolls back a
 * transaction whose connection breaks), but one whose connection broke while committing may or may not have been
 * committed, and the caller is told so.
 */
final class PostgresFailures {
  /** The SQLSTATE of a failure worth running the whole transaction again for. */
  static boolean isRetryable(SQLException e) {
    String state = e.getSQLState();
    return SERIALIZATION_FAILURE.equals(state) || DEADLOCK_DETECTED.equals(state);
  }

  static final String SERIALIZATION_FAILURE = "40001";
  static final String DEADLOCK_DETECTED = "40P01";
  static final String UNIQUE_VIOLATION = "23505";
  private static final String DISK_FULL = "53100";
  private static final String READ_ONLY_TRANSACTION = "25006";
  private static final String QUERY_CANCELED = "57014";
  private static final String LOCK_NOT_AVAILABLE = "55P03";
  private static final String ADMIN_SHUTDOWN = "57P01";
  private static final String CRASH_SHUTDOWN = "57P02";
  private static final String CANNOT_CONNECT_NOW = "57P03";
  private static final String TOO_MANY_CONNECTIONS = "53300";

  private PostgresFailures() {}

  /** Whether the failure means this connection is of no further use (broken, or to a server that went away). */
  static boolean connectionLost(SQLException e) {
    String state = e.getSQLState();
    return state != null && (state.startsWith("08") || ADMIN_SHUTDOWN.equals(state) || CRASH_SHUTDOWN.equals(state)
        || CANNOT_CONNECT_NOW.equals(state));
  }

  /** Whether the connection reached a server that takes no writes (a standby, after a failover). */
  static boolean readOnly(SQLException e) {
    return READ_ONLY_TRANSACTION.equals(e.getSQLState());
  }

  /**
   * The store's exception for {@code e}, raised by {@code operation} ("read", "write", ...).
   *
   * @param whileCommitting the failure came from the COMMIT itself, so a lost connection leaves the outcome unknown
   */
  static StoreException translate(String operation, SQLException e, boolean whileCommitting) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String what = "the database " + operation + " failed";
    if (DISK_FULL.equals(state)) {
      return new StorageFullException(what + ": the database's disk is full; nothing was written", e);
    }
    if (e instanceof SQLTransientConnectionException) {
      // Hikari: no connection could be had within the connect timeout (the database is down or unreachable).
      return new StoreUnavailableException(what + ": no connection to the database (" + e.getMessage()
          + "); nothing was written, retry", e);
    }
    if (connectionLost(e)) {
      return new StoreUnavailableException(what + ": " + (whileCommitting
          ? "the connection to the database was lost while committing, so the write may or may not have been"
              + " applied: retry an Append with message ids, or read the conversation's version before writing again"
          : "the connection to the database was lost; nothing was written, retry")
          + " (SQLSTATE " + state + ": " + e.getMessage() + ")", e);
    }
    if (readOnly(e)) {
      return new StoreUnavailableException(what + ": the database is read-only (a standby, or"
          + " default_transaction_read_only); nothing was written, retry once the primary is back", e);
    }
    if (QUERY_CANCELED.equals(state) || LOCK_NOT_AVAILABLE.equals(state)) {
      return new StoreUnavailableException(what + ": the statement timed out (a conversation busy for too long,"
          + " or a slow database); nothing was written, retry", e);
    }
    if (TOO_MANY_CONNECTIONS.equals(state)) {
      return new StoreUnavailableException(what + ": the database refuses more connections (max_connections);"
          + " nothing was written, retry", e);
    }
    if (isRetryable(e)) {
      return new StoreUnavailableException(what + ": it conflicted with other writes each time it was tried"
          + " (SQLSTATE " + state + "); nothing was written, retry", e);
    }
    return new StoreUnavailableException(what + " (SQLSTATE " + state + "): " + e.getMessage()
        + (whileCommitting ? "; the write may or may not have been applied" : "; nothing was written"), e);
  }
}

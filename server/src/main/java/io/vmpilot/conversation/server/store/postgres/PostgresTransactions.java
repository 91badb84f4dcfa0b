package io.vmpilot.conversation.server.store.postgres;

import com.zaxxer.hikari.HikariDataSource;
import io.vmpilot.conversation.server.store.error.StorageFullException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs work in transactions on pooled connections: each write in one transaction, committed or rolled back as a
 * whole; each read in one read-only snapshot. A write that PostgreSQL aborts because it met another (serialization
 * failure, deadlock, a concurrent creation of the same conversation) runs again, up to {@link #WRITE_ATTEMPTS}
 * times in all, after a short random pause. Failures become the store's exceptions ({@link PostgresFailures}).
 */
final class PostgresTransactions {
  static final int WRITE_ATTEMPTS = 5;
  private static final long STORAGE_FAILURE_MEMORY_NANOS = TimeUnit.SECONDS.toNanos(5);

  /** Work in a transaction; it must not commit or roll back itself. */
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** A mutation over the write primitives. */
  interface Mutation<T> {
    T run(PostgresStorageTransaction tx) throws SQLException;
  }

  private final HikariDataSource writers;
  private final HikariDataSource readers;
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong bytesWritten = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private volatile long lastStorageFailureNanos;
  private volatile StorageFullException lastStorageFailure;

  private final boolean searchIndex;

  PostgresTransactions(HikariDataSource writers, HikariDataSource readers, boolean searchIndex) {
    this.writers = writers;
    this.readers = readers;
    this.searchIndex = searchIndex;
  }

  /**
   * Runs {@code mutation} in a transaction and commits it, or rolls it back when it changed nothing (a replayed
   * Append: it only read and locked, and needs no commit, which would sync the WAL for a row lock).
   */
  <T> T write(String operation, Mutation<T> mutation) {
    for (int attempt = 1; ; attempt++) {
      Connection c = connection(writers, operation);
      boolean committing = false;
      PostgresStorageTransaction tx = new PostgresStorageTransaction(c, searchIndex);
      try {
        T result = mutation.run(tx);
        if (!tx.changedAnything()) {
          tx.flush();
          c.rollback();
          return result;
        }
        committing = true;
        tx.commitWithLast();
        commits.incrementAndGet();
        bytesWritten.addAndGet(tx.bytesWritten());
        return result;
      } catch (SQLException e) {
        rollbackQuietly(c);
        // A conflict is PostgreSQL's own answer: the transaction, and a COMMIT sent with its last statement, did not
        // commit, so running it again writes nothing twice.
        if (PostgresFailures.isRetryable(e) && attempt < WRITE_ATTEMPTS) {
          retries.incrementAndGet();
          pause(attempt);
          continue;
        }
        dropIfUseless(c, e);
        RuntimeException failure = PostgresFailures.translate(operation, e, committing || tx.commitSent());
        if (failure instanceof StorageFullException full) {
          lastStorageFailure = full;
          lastStorageFailureNanos = System.nanoTime();
        }
        throw failure;
      } catch (RuntimeException | Error e) {
        rollbackQuietly(c);
        throw e;
      } finally {
        closeQuietly(c);
      }
    }
  }

  <T> T read(Work<T> work) {
    return inSnapshot(readers, "read", work);
  }

  /** Runs {@code work} on a write connection and rolls it back: a check of what writes would meet. */
  <T> T probeWriter(Work<T> work) {
    return inSnapshot(writers, "health check", work);
  }

  private <T> T inSnapshot(HikariDataSource pool, String operation, Work<T> work) {
    Connection c = connection(pool, operation);
    try {
      return work.run(c);
    } catch (SQLException e) {
      dropIfUseless(c, e);
      throw PostgresFailures.translate(operation, e, false);
    } finally {
      rollbackQuietly(c);
      closeQuietly(c);
    }
  }

  /** Writes committed by this server. */
  long commits() {
    return commits.get();
  }

  /** Message bytes in writes this server committed. */
  long bytesWritten() {
    return bytesWritten.get();
  }

  /** Write transactions run again after a conflict. */
  long retries() {
    return retries.get();
  }

  /** The disk-full failure of a write in the last few seconds, or null. */
  StorageFullException recentStorageFailure() {
    StorageFullException failure = lastStorageFailure;
    return failure != null && System.nanoTime() - lastStorageFailureNanos < STORAGE_FAILURE_MEMORY_NANOS
        ? failure : null;
  }

  private static Connection connection(HikariDataSource pool, String operation) {
    try {
      return pool.getConnection();
    } catch (SQLException e) {
      throw PostgresFailures.translate(operation, e, false);
    }
  }

  /**
   * A connection to a server that takes no writes (a former primary after a failover) goes, so that the next one
   * is opened anew, to the hosts the URL names; Hikari itself drops those whose connection broke.
   */
  private void dropIfUseless(Connection c, SQLException e) {
    if (PostgresFailures.readOnly(e)) {
      writers.evictConnection(c);
    }
  }

  private static void pause(int attempt) {
    try {
      Thread.sleep(ThreadLocalRandom.current().nextLong(1, 5L * attempt + 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("interrupted while retrying a write; nothing was written", e);
    }
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException e) {
      // The connection broke; PostgreSQL rolls back a transaction whose connection is gone.
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException e) {
      // Returning a broken connection to the pool fails; the pool drops it.
    }
  }
}

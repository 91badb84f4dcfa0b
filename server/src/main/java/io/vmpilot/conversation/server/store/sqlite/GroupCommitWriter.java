package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.StoreException;
import io.vmpilot.conversation.server.store.StoreUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The one writer of the database. Requests queue up while a commit is syncing; the writer then runs all of
 * them in one transaction and one sync (group commit). Each request runs in a savepoint of its own, so one that
 * fails is rolled back alone and the others still commit. Every caller is answered only after the commit that
 * holds its write returned, so an acknowledged write is durable.
 *
 * <p>One writer also means SQLite never sees two writers race for the lock ("database is locked").
 */
final class GroupCommitWriter implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(GroupCommitWriter.class.getName());

  /** A unit of work run inside a batch; may throw a {@link StoreException} to fail only itself. */
  interface Task<T> {
    T run(WriteTransaction tx) throws SQLException;
  }

  private static final class Pending<T> {
    final Task<T> task;
    final CompletableFuture<T> future = new CompletableFuture<>();
    T result;
    RuntimeException failure;
    /** The task failed because the storage did (disk full, I/O error), not because of what it asked for. */
    boolean storageFailure;

    Pending(Task<T> task) {
      this.task = task;
    }

    void complete() {
      if (failure != null) {
        future.completeExceptionally(failure);
      } else {
        future.complete(result);
      }
    }
  }

  private static final Pending<Void> STOP = new Pending<>(tx -> null);

  private final DataSource dataSource;
  private final int maxBatch;
  private final BlockingQueue<Pending<?>> queue;
  private final Thread thread;
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong committedWrites = new AtomicLong();
  private final AtomicLong bytesWritten = new AtomicLong();
  private volatile boolean accepting = true;
  // The last storage failure of a write, until a later batch commits without one (read by health checks).
  private volatile StoreException storageFailure;
  private volatile long storageFailureNanos;
  private long revision;
  // The writer thread's connection and its statement cache, kept from batch to batch (so that statements are
  // compiled once, not per request) and replaced after a batch fails at the connection level.
  private Connection connection;
  private StatementCache statements;

  GroupCommitWriter(DataSource dataSource, int maxBatch) throws SQLException {
    this.dataSource = dataSource;
    this.maxBatch = maxBatch;
    this.queue = new LinkedBlockingQueue<>(maxBatch * 16);
    this.revision = loadRevision();
    this.thread = new Thread(this::runLoop, "sqlite-writer");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  private long loadRevision() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement st = c.prepareStatement(
            "SELECT max((SELECT revision FROM store_revision WHERE id = 1),"
                + " coalesce((SELECT max(version) FROM conversations), 0))");
        ResultSet rs = st.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Runs {@code task} in the next batch and waits until that batch is committed. */
  <T> T submit(Task<T> task) {
    if (!accepting) {
      throw new StoreUnavailableException("the store is shutting down", null);
    }
    Pending<T> pending = new Pending<>(task);
    try {
      queue.put(pending);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("interrupted while queueing a write", e);
    }
    try {
      return pending.future.join();
    } catch (CompletionException e) {
      throw (RuntimeException) e.getCause();
    }
  }

  long commits() {
    return commits.get();
  }

  long committedWrites() {
    return committedWrites.get();
  }

  long bytesWritten() {
    return bytesWritten.get();
  }

  /** The storage failure of the last failed write, or null once a write has committed since. */
  StoreException storageFailure() {
    return storageFailure;
  }

  /** When {@link #storageFailure()} happened ({@link System#nanoTime()}). */
  long storageFailureNanos() {
    return storageFailureNanos;
  }

  private void storageFailed(StoreException e) {
    storageFailureNanos = System.nanoTime();
    storageFailure = e;
  }

  boolean isRunning() {
    return thread.isAlive();
  }

  private void runLoop() {
    List<Pending<?>> batch = new ArrayList<>(maxBatch);
    boolean stopping = false;
    while (!stopping) {
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        break;
      }
      queue.drainTo(batch, maxBatch - 1);
      stopping = batch.remove(STOP);
      if (!batch.isEmpty()) {
        runBatch(batch);
      }
      batch.clear();
    }
    discardConnection();
    // Anything that slipped in after STOP is answered, never left hanging.
    List<Pending<?>> rest = new ArrayList<>();
    queue.drainTo(rest);
    for (Pending<?> p : rest) {
      p.failure = new StoreUnavailableException("the store is shutting down", null);
      p.complete();
    }
  }

  /**
   * One transaction for the whole batch. It is begun and ended with explicit statements on a connection in
   * auto-commit mode, so the writer holds SQLite's write lock only while a batch runs (a driver-managed
   * transaction would begin the next one at once and keep other processes from ever writing), and so that a
   * transaction SQLite already rolled back by itself (disk full, I/O error) leaves nothing half-open behind.
   */
  private void runBatch(List<Pending<?>> batch) {
    long[] bytes = {0};
    try {
      if (connection == null) {
        connection = dataSource.getConnection();
        statements = new StatementCache(connection);
      }
      Connection c = statements.connection();
      Sql sql = text -> {
        try (PreparedStatement st = c.prepareStatement(text)) {
          st.execute();
        }
      };
      WriteTransaction tx = new WriteTransaction() {
        @Override
        public Connection connection() {
          return c;
        }

        @Override
        public long nextVersion() {
          return ++revision;
        }

        @Override
        public void countBytesWritten(long n) {
          bytes[0] += n;
        }
      };
      sql.execute("BEGIN IMMEDIATE");
      try {
        int succeeded = 0;
        boolean storageFailed = false;
        for (Pending<?> p : batch) {
          long bytesBefore = bytes[0];
          long revisionBefore = revision;
          if (runInSavepoint(sql, tx, p)) {
            if (revision != revisionBefore) {
              succeeded++; // a task that took no version (an append replay, a clear of nothing) wrote nothing
            }
          } else {
            bytes[0] = bytesBefore; // a task rolled back to its savepoint wrote nothing
            if (p.storageFailure) {
              storageFailed = true;
              storageFailed((StoreException) p.failure);
            }
          }
        }
        if (succeeded == 0) {
          sql.execute("ROLLBACK");
          return;
        }
        try (PreparedStatement st = c.prepareStatement("UPDATE store_revision SET revision = ? WHERE id = 1")) {
          st.setLong(1, revision);
          st.executeUpdate();
        }
        sql.execute("COMMIT");
        if (!storageFailed) {
          storageFailure = null;
        }
        commits.incrementAndGet();
        committedWrites.addAndGet(succeeded);
        bytesWritten.addAndGet(bytes[0]);
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(sql);
        throw e;
      }
    } catch (SQLException | RuntimeException e) {
      LOG.log(Level.WARNING, "write batch of " + batch.size() + " failed; none of it was committed", e);
      discardConnection();
      // When a task's own storage failure (disk full) made SQLite roll the whole transaction back, that is
      // the cause to report to everyone in the batch, rather than the failed clean-up it led to.
      StoreException failure = batch.stream().filter(p -> p.storageFailure).map(p -> (StoreException) p.failure)
          .findFirst().orElseGet(() -> SqliteFailures.translate("write", e));
      storageFailed(failure);
      for (Pending<?> p : batch) {
        if (p.failure == null) {
          p.failure = failure;
        }
      }
    } finally {
      for (Pending<?> p : batch) {
        p.complete();
      }
    }
  }

  /** Runs one SQL statement without parameters or results (through the statement cache). */
  private interface Sql {
    void execute(String sql) throws SQLException;
  }

  /** Closes the writer's connection (after a failure, or at the end); the next batch opens a new one. */
  private void discardConnection() {
    if (statements != null) {
      statements.close();
      statements = null;
    }
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException | RuntimeException e) {
        LOG.log(Level.FINE, "closing the writer connection failed", e);
      }
      connection = null;
    }
  }

  /** After a failure SQLite may have rolled the transaction back already; then there is nothing left to do. */
  private static void rollbackQuietly(Sql sql) {
    try {
      sql.execute("ROLLBACK");
    } catch (SQLException alreadyRolledBack) {
      // "cannot rollback - no transaction is active": SQLite ended it itself.
    }
  }

  private static <T> boolean runInSavepoint(Sql sql, WriteTransaction tx, Pending<T> p) throws SQLException {
    sql.execute("SAVEPOINT task");
    try {
      p.result = p.task.run(tx);
      sql.execute("RELEASE task");
      return true;
    } catch (StoreException e) {
      p.failure = e;
    } catch (SQLException | RuntimeException e) {
      p.failure = SqliteFailures.translate("write", e);
      p.storageFailure = true;
    }
    sql.execute("ROLLBACK TO task");
    sql.execute("RELEASE task");
    return false;
  }

  /** Stops taking writes, finishes those already queued, and waits for the writer to end. */
  @Override
  public void close() {
    accepting = false;
    try {
      queue.put(STOP);
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import com.zaxxer.hikari.HikariDataSource;
import io.vmpilot.conversation.server.store.StoreException;
import io.vmpilot.conversation.server.store.StoreUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
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
    /** Whether {@link #failure} came from the storage (not from the request, e.g. a version mismatch). */
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
  /** The last storage failure of a write (disk full, I/O error) since the last successful commit, or null. */
  private volatile StoreException storageFailure;
  private volatile long storageFailureNanos;
  private long revision;

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
      long value = rs.getLong(1);
      c.rollback();
      return value;
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

  boolean isRunning() {
    return thread.isAlive();
  }

  /** Why writes failed for storage reasons since the last successful commit, or null if they did not. */
  StoreException storageFailure() {
    return storageFailure;
  }

  /** Nanoseconds ({@link System#nanoTime}) of the last storage failure. */
  long storageFailureNanos() {
    return storageFailureNanos;
  }

  private void storageFailed(StoreException e) {
    storageFailureNanos = System.nanoTime();
    storageFailure = e;
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
    // Anything that slipped in after STOP is answered, never left hanging.
    List<Pending<?>> rest = new ArrayList<>();
    queue.drainTo(rest);
    for (Pending<?> p : rest) {
      p.failure = new StoreUnavailableException("the store is shutting down", null);
      p.complete();
    }
  }

  private void runBatch(List<Pending<?>> batch) {
    long[] bytes = {0};
    WriteTransaction tx;
    try (Connection c = dataSource.getConnection()) {
      try {
        tx = new WriteTransaction() {
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
        int succeeded = 0;
        boolean storageFailed = false;
        for (Pending<?> p : batch) {
          if (runInSavepoint(c, tx, p)) {
            succeeded++;
          } else if (p.storageFailure) {
            storageFailed = true;
            storageFailed(p.failure instanceof StoreException e ? e : null);
          }
        }
        if (succeeded > 0) {
          try (PreparedStatement st = c.prepareStatement("UPDATE store_revision SET revision = ? WHERE id = 1")) {
            st.setLong(1, revision);
            st.executeUpdate();
          }
          c.commit();
          if (!storageFailed) {
            storageFailure = null;
          }
          commits.incrementAndGet();
          committedWrites.addAndGet(succeeded);
          bytesWritten.addAndGet(bytes[0]);
        } else {
          c.rollback();
        }
      } catch (SQLException | RuntimeException e) {
        discard(c);
        throw e;
      }
    } catch (SQLException | RuntimeException e) {
      LOG.log(Level.WARNING, "write batch of " + batch.size() + " failed; none of it was committed", e);
      StoreException failure = SqliteFailures.translate("write", e);
      storageFailed(failure);
      for (Pending<?> p : batch) {
        if (p.failure == null) {
          p.failure = failure;
        }
      }
    }
    for (Pending<?> p : batch) {
      p.complete();
    }
  }

  /**
   * Keeps a connection whose batch failed from being used again. After some errors (SQLITE_FULL, SQLITE_IOERR)
   * SQLite rolls the transaction back by itself; the driver still believes one is open, so the next batch on
   * that connection would run outside any transaction, each statement committing alone, and then fail at
   * commit, forever. The pool opens a fresh connection instead.
   */
  private void discard(Connection c) {
    try {
      if (dataSource instanceof HikariDataSource pool) {
        pool.evictConnection(c);
      } else {
        c.unwrap(Connection.class).close();
      }
    } catch (SQLException | RuntimeException e) {
      LOG.log(Level.FINE, "could not discard the writer connection", e);
    }
  }

  private static <T> boolean runInSavepoint(Connection c, WriteTransaction tx, Pending<T> p) throws SQLException {
    Savepoint savepoint = c.setSavepoint();
    try {
      p.result = p.task.run(tx);
      c.releaseSavepoint(savepoint);
      return true;
    } catch (StoreException e) {
      p.failure = e;
    } catch (SQLException | RuntimeException e) {
      p.failure = SqliteFailures.translate("write", e);
      p.storageFailure = true;
    }
    c.rollback(savepoint);
    c.releaseSavepoint(savepoint);
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

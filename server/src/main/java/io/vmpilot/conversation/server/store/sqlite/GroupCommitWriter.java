package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.StoreException;
import io.vmpilot.conversation.server.store.StoreUnavailableException;
import java.io.IOException;
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
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The one writer of the database. Requests queue up while a batch runs; the writer then runs all of them in one
 * transaction (group commit). Each request runs in a savepoint of its own, so one that fails is rolled back alone
 * and the others still commit.
 *
 * <p>Two threads share the work. The writer thread runs batches and commits them; the acknowledger thread makes
 * the commits durable with one {@link LogSync} for every batch committed since its last sync, and only then
 * completes the callers' futures, in commit order. So an acknowledged write is durable, the writer never waits
 * for the disk, and one sync covers several batches when the disk is slow. Failed requests are answered in the
 * same order, after the sync of any batch before them, because a failure can reveal what such a batch wrote
 * (a version mismatch names the current version; a replayed append is acknowledged).
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

  /**
   * A batch the writer is done with, for the acknowledger: {@code writes} and {@code bytes} committed (0 if it
   * rolled back), and the storage failure it ran into, if any.
   */
  private record Done(List<Pending<?>> batch, long writes, long bytes, StoreException storageFailure) {}

  private static final Done END = new Done(List.of(), 0, 0, null);

  private final DataSource dataSource;
  private final int maxBatch;
  private final LogSync logSync;
  private final BlockingQueue<Pending<?>> queue;
  private final BlockingQueue<Done> done = new LinkedBlockingQueue<>();
  private final Thread thread;
  private final Thread acknowledger;
  /**
   * Batches committed but not yet acknowledged, at most two: one syncing, and the next, which the writer runs
   * meanwhile. The writer does not start a third; writes queue up in the meantime, so batches stay large when
   * the disk is slow (each commit writes whole pages, so a commit of two writes costs nearly what one of twenty
   * does).
   */
  private final Semaphore unacknowledgedBatches = new Semaphore(2);
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong syncs = new AtomicLong();
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

  GroupCommitWriter(DataSource dataSource, int maxBatch, LogSync logSync) throws SQLException {
    this.dataSource = dataSource;
    this.maxBatch = maxBatch;
    this.logSync = logSync;
    this.queue = new LinkedBlockingQueue<>(maxBatch * 16);
    this.revision = loadRevision();
    this.thread = new Thread(this::runLoop, "sqlite-writer");
    this.thread.setDaemon(true);
    this.acknowledger = new Thread(this::acknowledgeLoop, "sqlite-acknowledger");
    this.acknowledger.setDaemon(true);
    this.acknowledger.start();
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

  /** Runs {@code task} in the next batch and waits until that batch is durable. */
  <T> T submit(Task<T> task) {
    try {
      return submitAsync(task).join();
    } catch (CompletionException e) {
      throw (RuntimeException) e.getCause();
    }
  }

  /**
   * Queues {@code task} for the next batch. The future completes, on the acknowledger thread, once the batch is
   * durable, or fails with the task's {@link StoreException}. Waits only while the queue is full.
   */
  <T> CompletableFuture<T> submitAsync(Task<T> task) {
    if (!accepting) {
      return CompletableFuture.failedFuture(new StoreUnavailableException("the store is shutting down", null));
    }
    Pending<T> pending = new Pending<>(task);
    try {
      queue.put(pending);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(new StoreUnavailableException("interrupted while queueing a write", e));
    }
    return pending.future;
  }

  /** Transactions committed. */
  long commits() {
    return commits.get();
  }

  /** Points at which writes became durable: log syncs, or commits when there is nothing to sync. */
  long syncs() {
    return syncs.get();
  }

  /** Batches the writer is done with that wait for the acknowledger (for tests). */
  int awaitingAcknowledgement() {
    return done.size();
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
    return thread.isAlive() && acknowledger.isAlive();
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
      unacknowledgedBatches.acquireUninterruptibly();
      queue.drainTo(batch, maxBatch - 1);
      stopping = batch.remove(STOP);
      if (batch.isEmpty()) {
        unacknowledgedBatches.release();
      } else {
        done.add(runBatch(batch));
        batch = new ArrayList<>(maxBatch);
      }
    }
    discardConnection();
    // Anything that slipped in after STOP is answered, never left hanging.
    List<Pending<?>> rest = new ArrayList<>();
    queue.drainTo(rest);
    for (Pending<?> p : rest) {
      p.failure = new StoreUnavailableException("the store is shutting down", null);
    }
    done.add(new Done(rest, 0, 0, null));
    done.add(END);
  }

  /** Syncs what the writer committed, then answers its callers: one sync for all batches done meanwhile. */
  private void acknowledgeLoop() {
    List<Done> ready = new ArrayList<>();
    boolean ending = false;
    while (!ending) {
      try {
        ready.add(done.take());
      } catch (InterruptedException e) {
        continue; // only END stops it, so that no caller is left waiting
      }
      done.drainTo(ready);
      ending = ready.remove(END);
      acknowledge(ready);
      unacknowledgedBatches.release(ready.size());
      ready.clear();
    }
  }

  private void acknowledge(List<Done> ready) {
    long writes = 0;
    long bytes = 0;
    int committed = 0;
    for (Done d : ready) {
      writes += d.writes();
      bytes += d.bytes();
      committed += d.writes() > 0 ? 1 : 0;
    }
    StoreException syncFailure = null;
    if (writes > 0) {
      try {
        if (logSync == LogSync.NONE) {
          syncs.addAndGet(committed); // each commit is as durable as this level gets
        } else {
          logSync.sync();
          syncs.incrementAndGet();
        }
        committedWrites.addAndGet(writes);
        bytesWritten.addAndGet(bytes);
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.WARNING, "syncing the log failed; " + writes + " committed writes are not known to be durable",
            e);
        syncFailure = SqliteFailures.translate("sync", e);
      }
    }
    for (Done d : ready) {
      boolean unconfirmed = syncFailure != null && d.writes() > 0;
      StoreException failure = unconfirmed ? syncFailure : d.storageFailure();
      if (failure != null) {
        storageFailed(failure);
      } else if (d.writes() > 0) {
        storageFailure = null; // a write reached the disk again
      }
      for (Pending<?> p : d.batch()) {
        if (unconfirmed && p.failure == null) {
          p.failure = syncFailure; // committed, but the disk did not confirm it: not acknowledged
        }
        p.complete();
      }
    }
  }

  /**
   * One transaction for the whole batch. It is begun and ended with explicit statements on a connection in
   * auto-commit mode, so the writer holds SQLite's write lock only while a batch runs (a driver-managed
   * transaction would begin the next one at once and keep other processes from ever writing), and so that a
   * transaction SQLite already rolled back by itself (disk full, I/O error) leaves nothing half-open behind.
   */
  private Done runBatch(List<Pending<?>> batch) {
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
        for (Pending<?> p : batch) {
          long bytesBefore = bytes[0];
          long revisionBefore = revision;
          if (runInSavepoint(sql, tx, p)) {
            if (revision != revisionBefore) {
              succeeded++; // a task that took no version (an append replay, a clear of nothing) wrote nothing
            }
          } else {
            bytes[0] = bytesBefore; // a task rolled back to its savepoint wrote nothing
          }
        }
        if (succeeded == 0) {
          sql.execute("ROLLBACK");
          return new Done(batch, 0, 0, storageFailureOf(batch));
        }
        try (PreparedStatement st = c.prepareStatement("UPDATE store_revision SET revision = ? WHERE id = 1")) {
          st.setLong(1, revision);
          st.executeUpdate();
        }
        sql.execute("COMMIT");
        commits.incrementAndGet();
        return new Done(batch, succeeded, bytes[0], storageFailureOf(batch));
      } catch (SQLException | RuntimeException | Error e) {
        rollbackQuietly(sql);
        throw e;
      }
    } catch (SQLException | RuntimeException | Error e) {
      LOG.log(Level.WARNING, "write batch of " + batch.size() + " failed; none of it was committed", e);
      discardConnection();
      // When a task's own storage failure (disk full) made SQLite roll the whole transaction back, that is
      // the cause to report to everyone in the batch, rather than the failed clean-up it led to.
      StoreException tasks = storageFailureOf(batch);
      StoreException failure = tasks != null ? tasks : SqliteFailures.translate("write", e);
      for (Pending<?> p : batch) {
        if (p.failure == null) {
          p.failure = failure;
        }
      }
      return new Done(batch, 0, 0, failure);
    }
  }

  /** The first storage failure (disk full, I/O error) a task of the batch ran into, or null. */
  private static StoreException storageFailureOf(List<Pending<?>> batch) {
    for (Pending<?> p : batch) {
      if (p.storageFailure) {
        return (StoreException) p.failure;
      }
    }
    return null;
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
    } catch (Error e) {
      // An OutOfMemoryError, say: fails this request, not the writer thread (whose death would leave every
      // later caller waiting until its deadline).
      p.failure = new StoreUnavailableException("the write failed: " + e, e);
    }
    sql.execute("ROLLBACK TO task");
    sql.execute("RELEASE task");
    return false;
  }

  /** Stops taking writes, finishes (and syncs) those already queued, and waits for both threads to end. */
  @Override
  public void close() {
    accepting = false;
    try {
      queue.put(STOP);
      thread.join();
      acknowledger.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

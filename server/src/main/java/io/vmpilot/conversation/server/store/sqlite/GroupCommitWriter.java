package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.error.StoreException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
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
import org.sqlite.SQLiteConnection;
import org.sqlite.core.DB;

/**
 * The one writer of the database. Requests queue up while a batch runs; the writer then runs all of them in one
 * transaction (group commit). A request that fails is undone alone and the others still commit (see
 * {@link #runBatch}).
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

  /**
   * A unit of work run inside a batch; may throw a {@link StoreException} to fail only itself. It may run twice
   * (when its batch is rolled back and run again), so it changes nothing outside the transaction except what the
   * {@code forgetCachedState} callback undoes.
   */
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

    /** Forgets the outcome of a run that was rolled back, before the task runs again. */
    void reset() {
      result = null;
      failure = null;
      storageFailure = false;
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
  private final Runnable forgetCachedState;
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
  // The same connection as sqlite-jdbc's own object, for SQLite's count of changed rows.
  private DB database;
  // PRAGMA data_version as of the last batch: it changes when another connection commits.
  private long dataVersion;

  GroupCommitWriter(DataSource dataSource, int maxBatch, LogSync logSync) throws SQLException {
    this(dataSource, maxBatch, logSync, () -> {});
  }

  /**
   * @param forgetCachedState called on the writer thread whenever what tasks wrote may have been undone (a task or
   *     a batch rolled back, the connection replaced) or another connection changed the database, so that state
   *     the tasks keep beside the database (a cache of rows) can be dropped
   */
  GroupCommitWriter(DataSource dataSource, int maxBatch, LogSync logSync, Runnable forgetCachedState)
      throws SQLException {
    this.dataSource = dataSource;
    this.maxBatch = maxBatch;
    this.logSync = logSync;
    this.forgetCachedState = forgetCachedState;
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
   * durable, or fails with the task's {@link StoreException}. Waits only while the queue is full (16 batches'
   * worth); the caller, for most writes a network thread, then holds up the connections it serves: that is the
   * back-pressure.
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
   *
   * <p>A batch first runs its tasks one after another with no savepoints, which cost two statements per request.
   * A task that fails without having changed a row (a version mismatch, a missing conversation: the usual
   * failures, found before anything is written) then needs no rollback at all. Only when a task fails after
   * changing rows, or with a storage error, is the transaction rolled back and the batch run again with a
   * savepoint per task, so that the failing one is rolled back alone.
   */
  private Done runBatch(List<Pending<?>> batch) {
    try {
      if (connection == null) {
        connection = dataSource.getConnection();
        statements = new StatementCache(connection);
        database = connection.unwrap(SQLiteConnection.class).getDatabase();
        dataVersion = -1;
        forgetCachedState.run();
      }
      forgetStateIfChangedElsewhere();
      try {
        return runTransaction(batch, false);
      } catch (NeedsSavepoints e) {
        forgetCachedState.run();
        for (Pending<?> p : batch) {
          p.reset();
        }
        return runTransaction(batch, true);
      }
    } catch (NeedsSavepoints impossible) {
      throw new IllegalStateException("a batch run with savepoints asked for savepoints", impossible);
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

  /**
   * Another connection (another process, an operator's shell) committed since this writer's last batch: what
   * tasks keep beside the database may be stale. {@code PRAGMA data_version} changes only with other
   * connections' commits.
   */
  private void forgetStateIfChangedElsewhere() throws SQLException {
    try (PreparedStatement st = statements.connection().prepareStatement("PRAGMA data_version");
        ResultSet rs = st.executeQuery()) {
      rs.next();
      long now = rs.getLong(1);
      if (now != dataVersion) {
        forgetCachedState.run();
        dataVersion = now;
      }
    }
  }

  /** A task failed after changing rows; only a run with a savepoint per task can undo it alone. */
  private static final class NeedsSavepoints extends Exception {
    NeedsSavepoints() {
      super(null, null, false, false);
    }
  }

  private Done runTransaction(List<Pending<?>> batch, boolean savepoints) throws SQLException, NeedsSavepoints {
    Connection c = statements.connection();
    Sql sql = text -> {
      try (PreparedStatement st = c.prepareStatement(text)) {
        st.execute();
      }
    };
    long[] bytes = {0};
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
    long revisionAtStart = revision;
    sql.execute("BEGIN IMMEDIATE");
    try {
      int succeeded = 0;
      for (Pending<?> p : batch) {
        long bytesBefore = bytes[0];
        long revisionBefore = revision;
        if (savepoints ? runInSavepoint(sql, tx, p) : runWithoutSavepoint(tx, p)) {
          if (revision != revisionBefore) {
            succeeded++; // a task that took no version (an append replay, a clear of nothing) wrote nothing
          }
        } else {
          bytes[0] = bytesBefore; // a failed task wrote nothing that stays
        }
      }
      if (succeeded == 0) {
        // Nothing stays written (failed tasks were undone), so what tasks remember still holds.
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
    } catch (NeedsSavepoints e) {
      rollbackQuietly(sql); // a full disk may have made SQLite roll back already
      revision = revisionAtStart;
      throw e;
    } catch (SQLException | RuntimeException | Error e) {
      rollbackQuietly(sql); // runBatch then discards the connection, and with it what the tasks remember
      throw e;
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
    forgetCachedState.run();
    database = null;
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

  /**
   * Runs a task with no savepoint of its own. Succeeds, or fails having changed nothing (SQLite's count of changed
   * rows tells), or asks for the batch to be run again with savepoints.
   */
  private <T> boolean runWithoutSavepoint(WriteTransaction tx, Pending<T> p) throws SQLException, NeedsSavepoints {
    long changesBefore = database.total_changes();
    try {
      p.result = p.task.run(tx);
      return true;
    } catch (StoreException e) {
      if (database.total_changes() != changesBefore) {
        throw new NeedsSavepoints();
      }
      p.failure = e;
      return false;
    } catch (SQLException | RuntimeException | Error e) {
      // A storage error may have ended the whole transaction (SQLite rolls back by itself on a full disk), and a
      // bug or an OutOfMemoryError may have struck between two statements: the careful run sorts it out.
      throw new NeedsSavepoints();
    }
  }

  private <T> boolean runInSavepoint(Sql sql, WriteTransaction tx, Pending<T> p) throws SQLException {
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
    forgetCachedState.run();
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
    logSync.close();
  }
}

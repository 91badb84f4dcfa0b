package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.error.StoreException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.threads.DaemonThreads;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import javax.sql.DataSource;

/**
 * The one writer of the database. Requests queue up while a batch runs; the writer thread then runs all of them in
 * one transaction (group commit, {@link BatchRunner}) and hands the batch to the {@link Acknowledger}, which makes
 * it durable and answers the callers, while the writer runs the next batch. Between batches it merges the search
 * index's segments ({@link IndexMerges}).
 *
 * <p>One writer also means SQLite never sees two writers race for the lock ("database is locked").
 */
final class GroupCommitWriter implements AutoCloseable {
  /**
   * A unit of work run inside a batch; may throw a {@link StoreException} to fail only itself. It may run twice
   * (when its batch is rolled back and run again), so it changes nothing outside the transaction except what the
   * {@code forgetCachedState} callback undoes.
   */
  interface Task<T> {
    T run(WriteTransaction tx) throws SQLException;
  }

  private static final PendingWrite<Void> STOP = new PendingWrite<>(tx -> null);

  private final int maxBatch;
  private final LogSync logSync;
  private final BlockingQueue<PendingWrite<?>> queue;
  private final WriterConnection connection;
  private final BatchRunner runner;
  private final StorageFailureState storageFailures = new StorageFailureState();
  /**
   * Batches committed but not yet acknowledged, at most two: one syncing, and the next, which the writer runs
   * meanwhile. The writer does not start a third; writes queue up in the meantime, so batches stay large when
   * the disk is slow (each commit writes whole pages, so a commit of two writes costs nearly what one of twenty
   * does).
   */
  private final Semaphore unacknowledgedBatches = new Semaphore(2);
  private final Acknowledger acknowledger;
  private final Thread thread;
  private volatile boolean accepting = true;
  private volatile boolean truncateLog;
  private final java.util.concurrent.atomic.AtomicLong logTruncations = new java.util.concurrent.atomic.AtomicLong();
  private boolean truncationFailureLogged;
  private final IndexMerges indexMerges;

  GroupCommitWriter(DataSource dataSource, int maxBatch, LogSync logSync) throws SQLException {
    this(dataSource, maxBatch, logSync, () -> {}, false);
  }

  /**
   * @param forgetCachedState called on the writer thread whenever what tasks wrote may have been undone (a task or
   *     a batch rolled back, the connection replaced) or another connection changed the database, so that state
   *     the tasks keep beside the database (a cache of rows) can be dropped
   * @param mergesIndex whether the database keeps a search index, whose merges the writer then runs between
   *     batches ({@link IndexMerges})
   */
  GroupCommitWriter(DataSource dataSource, int maxBatch, LogSync logSync, Runnable forgetCachedState,
      boolean mergesIndex) throws SQLException {
    this.maxBatch = maxBatch;
    this.logSync = logSync;
    this.queue = new LinkedBlockingQueue<>(maxBatch * 16);
    this.connection = new WriterConnection(dataSource, forgetCachedState);
    this.indexMerges = mergesIndex ? new IndexMerges(connection) : null;
    this.runner = new BatchRunner(dataSource, connection, forgetCachedState);
    this.acknowledger = new Acknowledger(logSync, storageFailures, unacknowledgedBatches, runner.revision());
    this.thread = DaemonThreads.named("sqlite-writer").newThread(this::runLoop);
    this.thread.start();
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
    PendingWrite<T> pending = new PendingWrite<>(task);
    try {
      queue.put(pending);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(new StoreUnavailableException("interrupted while queueing a write", e));
    }
    return pending.future;
  }

  /**
   * Asks the writer to empty the write-ahead log file after its next batch, between two transactions
   * ({@link LogTruncation}); the retention sweep does after giving space back.
   */
  void truncateLogAfterNextBatch() {
    truncateLog = true;
  }

  /** Times the log file was emptied ({@link #truncateLogAfterNextBatch}). */
  long logTruncations() {
    return logTruncations.get();
  }

  private void truncateLog() {
    try {
      if (LogTruncation.run(connection.forBatch())) {
        logTruncations.incrementAndGet();
      }
    } catch (SQLException e) {
      // Not a write's failure: the log stays as it was, and the next sweep asks again.
      if (!truncationFailureLogged) {
        java.util.logging.Logger.getLogger(GroupCommitWriter.class.getName()).warning(
            "emptying the write-ahead log failed (it keeps its size until the next try): " + e);
        truncationFailureLogged = true;
      }
    }
  }

  /** Transactions committed. */
  long commits() {
    return runner.commits();
  }

  /** Points at which writes became durable: log syncs, or commits when there is nothing to sync. */
  long syncs() {
    return acknowledger.syncs();
  }

  /** Batches the writer is done with that wait for the acknowledger (for tests). */
  int awaitingAcknowledgement() {
    return acknowledger.waiting();
  }

  long committedWrites() {
    return acknowledger.committedWrites();
  }

  long bytesWritten() {
    return acknowledger.bytesWritten();
  }

  /** The storage failure of the last failed write, or null once a write has committed since. */
  StoreException storageFailure() {
    return storageFailures.failure();
  }

  /** When {@link #storageFailure()} happened ({@link System#nanoTime()}). */
  long storageFailureNanos() {
    return storageFailures.failureNanos();
  }

  /**
   * Waits until every commit up to {@code revision} is durable (synced), so that a reader never shows what a power
   * loss could still take back; at most {@code timeoutMillis}, then fails with {@link StoreUnavailableException}.
   */
  void awaitDurable(long revision, long timeoutMillis) {
    acknowledger.awaitDurable(revision, timeoutMillis);
  }

  boolean isRunning() {
    return thread.isAlive() && acknowledger.isAlive();
  }

  /** The next write; while none is queued, the writer merges the search index's segments ({@link IndexMerges}). */
  private PendingWrite<?> nextWrite() throws InterruptedException {
    PendingWrite<?> next = queue.poll();
    while (next == null && indexMerges != null && indexMerges.stepWhileIdle()) {
      next = queue.poll();
    }
    return next != null ? next : queue.take();
  }

  private void runLoop() {
    List<PendingWrite<?>> batch = new ArrayList<>(maxBatch);
    boolean stopping = false;
    while (!stopping) {
      try {
        batch.add(nextWrite());
      } catch (InterruptedException e) {
        break;
      }
      unacknowledgedBatches.acquireUninterruptibly();
      queue.drainTo(batch, maxBatch - 1);
      stopping = batch.remove(STOP);
      if (batch.isEmpty()) {
        unacknowledgedBatches.release();
      } else {
        acknowledger.add(runner.run(batch));
        batch = new ArrayList<>(maxBatch);
        if (indexMerges != null) {
          indexMerges.afterBatch();
        }
        if (truncateLog) {
          truncateLog = false;
          truncateLog();
        }
      }
    }
    connection.discard();
    // Anything that slipped in after STOP is answered, never left hanging.
    List<PendingWrite<?>> rest = new ArrayList<>();
    queue.drainTo(rest);
    for (PendingWrite<?> p : rest) {
      p.failure = new StoreUnavailableException("the store is shutting down", null);
    }
    acknowledger.add(FinishedBatch.uncommitted(rest, null));
    acknowledger.end();
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

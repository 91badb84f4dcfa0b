package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.error.StoreException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.threads.DaemonThreads;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The thread that makes commits durable and answers their callers: one {@link LogSync} for every batch committed
 * since its last sync, then the callers' futures, in commit order. So an acknowledged write is durable, the writer
 * never waits for the disk, and one sync covers several batches when the disk is slow. Failed requests are
 * answered in the same order, after the sync of any batch before them, because a failure can reveal what such a
 * batch wrote (a version mismatch names the current version; a replayed append is acknowledged).
 */
final class Acknowledger {
  private static final Logger LOG = Logger.getLogger(Acknowledger.class.getName());
  private static final FinishedBatch END = FinishedBatch.uncommitted(List.of(), null);

  private final LogSync logSync;
  private final StorageFailureState storageFailures;
  private final Semaphore unacknowledgedBatches;
  private final BlockingQueue<FinishedBatch> finished = new LinkedBlockingQueue<>();
  private final Thread thread = DaemonThreads.named("sqlite-acknowledger").newThread(this::run);
  private final AtomicLong syncs = new AtomicLong();
  private final AtomicLong committedWrites = new AtomicLong();
  private final AtomicLong bytesWritten = new AtomicLong();
  /** The newest revision whose commit is durable; readers wait for it (see {@link #awaitDurable}). */
  private long durableRevision;

  /**
   * @param unacknowledgedBatches released once per batch answered, for the writer's back-pressure
   * @param durableRevision the revision the file held when the writer opened it: what was there counts as durable
   */
  Acknowledger(LogSync logSync, StorageFailureState storageFailures, Semaphore unacknowledgedBatches,
      long durableRevision) {
    this.logSync = logSync;
    this.storageFailures = storageFailures;
    this.unacknowledgedBatches = unacknowledgedBatches;
    this.durableRevision = durableRevision;
    thread.start();
  }

  void add(FinishedBatch batch) {
    finished.add(batch);
  }

  /** Answers what was added before, then stops the thread (which {@link #join} waits for). */
  void end() {
    finished.add(END);
  }

  void join() throws InterruptedException {
    thread.join();
  }

  boolean isAlive() {
    return thread.isAlive();
  }

  /** Batches waiting to be synced and answered (for tests). */
  int waiting() {
    return finished.size();
  }

  /** Points at which writes became durable: log syncs, or commits when there is nothing to sync. */
  long syncs() {
    return syncs.get();
  }

  long committedWrites() {
    return committedWrites.get();
  }

  long bytesWritten() {
    return bytesWritten.get();
  }

  synchronized void awaitDurable(long revision, long timeoutMillis) {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (durableRevision < revision) {
      long left = end - System.nanoTime();
      if (left <= 0 || !thread.isAlive()) {
        throw new StoreUnavailableException("the newest writes are not yet confirmed durable by a sync of the log;"
            + " retry the read", null);
      }
      try {
        TimeUnit.NANOSECONDS.timedWait(this, left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StoreUnavailableException("interrupted while waiting for the log sync", e);
      }
    }
  }

  private synchronized void durableUpTo(long revision) {
    if (revision > durableRevision) {
      durableRevision = revision;
      notifyAll();
    }
  }

  private void run() {
    List<FinishedBatch> ready = new ArrayList<>();
    boolean ending = false;
    while (!ending) {
      try {
        ready.add(finished.take());
      } catch (InterruptedException e) {
        continue; // only END stops it, so that no caller is left waiting
      }
      finished.drainTo(ready);
      ending = ready.remove(END);
      acknowledge(ready);
      unacknowledgedBatches.release(ready.size());
      ready.clear();
    }
  }

  private void acknowledge(List<FinishedBatch> ready) {
    long writes = 0;
    long bytes = 0;
    int committed = 0;
    for (FinishedBatch d : ready) {
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
        durableUpTo(ready.stream().mapToLong(FinishedBatch::revision).max().orElse(0));
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.WARNING, "syncing the log failed; " + writes + " committed writes are not known to be durable",
            e);
        syncFailure = SqliteFailures.translate("sync", e);
      }
    }
    for (FinishedBatch d : ready) {
      boolean unconfirmed = syncFailure != null && d.writes() > 0;
      StoreException failure = unconfirmed ? syncFailure : d.storageFailure();
      if (failure != null) {
        storageFailures.failed(failure);
      } else if (d.writes() > 0) {
        storageFailures.recovered();
      }
      for (PendingWrite<?> p : d.batch()) {
        if (unconfirmed && p.failure == null) {
          p.failure = syncFailure; // committed, but the disk did not confirm it: not acknowledged
        }
        p.complete();
      }
    }
  }
}

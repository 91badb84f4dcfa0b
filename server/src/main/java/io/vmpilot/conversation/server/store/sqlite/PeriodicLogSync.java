package io.vmpilot.conversation.server.store.sqlite;

import java.io.IOException;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * With {@code durability=normal}: syncs the write-ahead log every {@link #INTERVAL_MILLIS} when anything was
 * committed since its last sync, from a thread of its own, after the writes were acknowledged. It bounds what a power
 * loss takes at {@code normal} to about the last interval's acknowledged writes. Without it only a checkpoint synced
 * the log, and the checkpointer waits for 1,000 frames ({@link WalCheckpointer}), so a quiet server kept its last
 * writes unsynced until the kernel wrote them back (about 30 s with Linux's defaults), and the power-cut test lost
 * every acknowledged write of every cut. PostgreSQL's {@code synchronous_commit = off} makes the same trade with its
 * WAL writer (every 200 ms by default).
 *
 * <p>Nobody waits for these syncs: an acknowledgement at {@code normal} still means "committed". A failed sync is
 * logged once (until one succeeds), leaves its writes counted in {@link #unsyncedWrites()}, which the metrics show,
 * and makes health say NOT_SERVING ({@link #failure()}) until a sync succeeds; it changes nothing in the database.
 */
final class PeriodicLogSync implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(PeriodicLogSync.class.getName());
  static final long INTERVAL_MILLIS = 200;

  private final LogSync log;
  private final LongSupplier committedWrites;
  private final long intervalMillis;
  private final BackgroundThread thread;
  /** The committed writes the last successful sync covered: counted before it began. */
  private volatile long syncedWrites;
  private volatile long syncs;
  private volatile long passes;
  /** What the last sync failed with, or null once one succeeded. */
  private volatile String failure;

  private PeriodicLogSync(LogSync log, LongSupplier committedWrites, long intervalMillis) {
    this.log = log;
    this.committedWrites = committedWrites;
    this.intervalMillis = intervalMillis;
    this.syncedWrites = committedWrites.getAsLong();
    this.thread = new BackgroundThread("sqlite-periodic-log-sync", this::run);
  }

  /**
   * Starts syncing {@code log} every {@code intervalMillis} while {@code committedWrites} (acknowledged writes, each
   * committed to the log before it is counted) grows.
   */
  static PeriodicLogSync start(LogSync log, LongSupplier committedWrites, long intervalMillis) {
    PeriodicLogSync sync = new PeriodicLogSync(log, committedWrites, intervalMillis);
    sync.thread.start();
    return sync;
  }

  private void run() {
    try {
      while (thread.running()) {
        Thread.sleep(intervalMillis);
        syncIfWritten();
        passes++;
      }
    } catch (InterruptedException e) {
      // closing
    }
  }

  private void syncIfWritten() {
    long committed = committedWrites.getAsLong();
    if (committed == syncedWrites) {
      return;
    }
    try {
      log.sync();
      // The failure cleared first: whoever sees the writes synced (or the count of syncs) also sees health back.
      failure = null;
      syncedWrites = committed;
      syncs++;
    } catch (IOException | RuntimeException e) {
      if (failure == null) {
        LOG.log(Level.WARNING, "syncing the write-ahead log failed (durability=normal: the writes since the last"
            + " sync are committed, but a power loss could take them; retried every " + intervalMillis + " ms): " + e);
      }
      failure = e.toString();
    }
  }

  /** Acknowledged writes that no sync has covered yet: what a power loss could take now. */
  long unsyncedWrites() {
    return Math.max(0, committedWrites.getAsLong() - syncedWrites);
  }

  /** What the last sync failed with, or null when it succeeded (or none was needed yet). */
  String failure() {
    return failure;
  }

  /** Syncs made (for tests). */
  long syncs() {
    return syncs;
  }

  /** Times this thread has woken and looked (for tests to wait on). */
  long passes() {
    return passes;
  }

  @Override
  public void close() {
    thread.stop();
    log.close();
  }
}

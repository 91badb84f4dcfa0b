package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.StoreStats;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.sql.SharedSql;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.TimeUnit;

/** Whether the store can serve now, and how big it is: what health checks and metrics ask. */
final class SqliteHealth {
  /** After a storage failure, how long health waits before trying a write of its own to see if it passed. */
  private static final long PROBE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(5);

  private final GroupCommitWriter writer;
  private final SqliteReads reads;
  private final DiskReserve reserve;
  /** With durability=normal, the log's periodic sync; null with full, where the writer syncs. */
  private final PeriodicLogSync periodicLogSync;

  SqliteHealth(GroupCommitWriter writer, SqliteReads reads, DiskReserve reserve, PeriodicLogSync periodicLogSync) {
    this.writer = writer;
    this.reads = reads;
    this.reserve = reserve;
    this.periodicLogSync = periodicLogSync;
  }

  /**
   * Healthy when the database can be read and the last write did not fail for a storage reason (disk full, I/O
   * error). After such a failure the store is unhealthy until a write commits again: a client's, or an empty
   * probe write that this check makes once no write has failed for a few seconds. Unhealthy too while the disk is
   * full ({@link DiskReserve#checkNotFull}), known from the free space before any write fails, so from the first
   * check after start-up on. With durability=normal, unhealthy too while the periodic sync of the log fails: writes
   * still commit, but a disk that refuses syncs may be losing them.
   */
  void check() {
    if (!writer.isRunning()) {
      throw new StoreUnavailableException("the database writer has stopped", null);
    }
    reserve.checkNotFull();
    String logSyncFailure = periodicLogSync == null ? null : periodicLogSync.failure();
    if (logSyncFailure != null) {
      throw new StoreUnavailableException("syncing the write-ahead log fails (" + logSyncFailure + "); the writes"
          + " since its last sync are committed, but a power loss could take them", null);
    }
    if (writer.storageFailure() != null) {
      if (System.nanoTime() - writer.storageFailureNanos() < PROBE_AFTER_NANOS) {
        throw new StoreUnavailableException("writes are failing: " + writer.storageFailure().getMessage(), null);
      }
      // A write of the revision counter: commits (and clears the failure) only if the storage takes writes again.
      writer.submit(WriteTransaction::nextVersion);
    }
    reads.read(c -> {
      try (PreparedStatement st = c.prepareStatement("SELECT revision FROM store_revision");
          ResultSet rs = st.executeQuery()) {
        return rs.next();
      }
    });
  }

  StoreStats stats() {
    long[] totals = reads.read(SharedSql::storeTotals);
    return new StoreStats(totals[0], totals[1], totals[2], writer.committedWrites(), writer.syncs(),
        writer.bytesWritten(), periodicLogSync == null ? 0 : periodicLogSync.unsyncedWrites());
  }
}

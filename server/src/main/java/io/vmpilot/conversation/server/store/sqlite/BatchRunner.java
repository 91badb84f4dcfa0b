package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.error.StoreException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Runs a batch of write tasks in one transaction, so that a task that fails is undone alone and the others still
 * commit, and hands out the store-wide versions. Used on the writer thread only.
 *
 * <p>The transaction is begun and ended with explicit statements on a connection in auto-commit mode, so the
 * writer holds SQLite's write lock only while a batch runs (a driver-managed transaction would begin the next one
 * at once and keep other processes from ever writing), and so that a transaction SQLite already rolled back by
 * itself (disk full, I/O error) leaves nothing half-open behind.
 *
 * <p>A batch first runs its tasks one after another with no savepoints, which cost two statements per request.
 * A task that fails without having changed a row (a version mismatch, a missing conversation: the usual failures,
 * found before anything is written) then needs no rollback at all. Only when a task fails after changing rows, or
 * with a storage error, is the transaction rolled back and the batch run again with a savepoint per task, so that
 * the failing one is rolled back alone.
 */
final class BatchRunner {
  private static final Logger LOG = Logger.getLogger(BatchRunner.class.getName());

  private final WriterConnection connection;
  private final Runnable forgetCachedState;
  private final AtomicLong commits = new AtomicLong();
  private long revision;

  /**
   * @param forgetCachedState called whenever what tasks wrote may have been undone (a task or a batch rolled back),
   *     so that state the tasks keep beside the database (a cache of rows) can be dropped
   */
  BatchRunner(DataSource dataSource, WriterConnection connection, Runnable forgetCachedState) throws SQLException {
    this.connection = connection;
    this.forgetCachedState = forgetCachedState;
    this.revision = loadRevision(dataSource);
  }

  private static long loadRevision(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement st = c.prepareStatement(
            "SELECT max((SELECT revision FROM store_revision WHERE id = 1),"
                + " coalesce((SELECT max(version) FROM conversations), 0))");
        ResultSet rs = st.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The last version handed out: at start, the newest in the file. */
  long revision() {
    return revision;
  }

  /** Transactions committed. */
  long commits() {
    return commits.get();
  }

  /** Runs the batch; every task's outcome is left in its {@link PendingWrite}, for the acknowledger. */
  FinishedBatch run(List<PendingWrite<?>> batch) {
    try {
      Connection c = connection.forBatch();
      try {
        return runTransaction(c, batch, false);
      } catch (NeedsSavepoints e) {
        forgetCachedState.run();
        for (PendingWrite<?> p : batch) {
          p.reset();
        }
        return runTransaction(c, batch, true);
      }
    } catch (NeedsSavepoints impossible) {
      throw new IllegalStateException("a batch run with savepoints asked for savepoints", impossible);
    } catch (SQLException | RuntimeException | Error e) {
      // When a task's own storage failure (disk full) made SQLite roll the whole transaction back, that is
      // the cause to report to everyone in the batch (and in the log), rather than the failed clean-up it led to.
      StoreException tasks = storageFailureOf(batch);
      StoreException failure = tasks != null ? tasks : SqliteFailures.translate("write", e);
      String what = "write batch of " + batch.size() + " failed; none of it was committed";
      if (tasks != null) {
        LOG.warning(what + ": " + tasks.getMessage() + " (then, undoing it: " + e + ")");
      } else {
        LOG.log(Level.WARNING, what, e);
      }
      connection.discard();
      for (PendingWrite<?> p : batch) {
        if (p.failure == null) {
          p.failure = failure;
        }
      }
      return FinishedBatch.uncommitted(batch, failure);
    }
  }

  /** A task failed after changing rows; only a run with a savepoint per task can undo it alone. */
  private static final class NeedsSavepoints extends Exception {
    NeedsSavepoints() {
      super(null, null, false, false);
    }
  }

  /** One SQL statement without parameters or results (through the statement cache). */
  private interface Sql {
    void execute(String sql) throws SQLException;
  }

  /** The transaction's side of the batch: versions taken and bytes written. */
  private final class BatchTransaction implements WriteTransaction {
    private final Connection c;
    private final PendingSearchWords searchWords = new PendingSearchWords();
    long bytes;
    boolean wroteWithoutVersion;

    BatchTransaction(Connection c) {
      this.c = c;
    }

    @Override
    public Connection connection() {
      return c;
    }

    @Override
    public long nextVersion() {
      return ++revision;
    }

    @Override
    public void wroteWithoutVersion() {
      wroteWithoutVersion = true;
    }

    @Override
    public void countBytesWritten(long n) {
      bytes += n;
    }

    @Override
    public PendingSearchWords searchWords() {
      return searchWords;
    }
  }

  private FinishedBatch runTransaction(Connection c, List<PendingWrite<?>> batch, boolean savepoints)
      throws SQLException, NeedsSavepoints {
    Sql sql = text -> {
      try (PreparedStatement st = c.prepareStatement(text)) {
        st.execute();
      }
    };
    BatchTransaction tx = new BatchTransaction(c);
    long revisionAtStart = revision;
    sql.execute("BEGIN IMMEDIATE");
    try {
      int succeeded = 0;
      for (PendingWrite<?> p : batch) {
        long bytesBefore = tx.bytes;
        long revisionBefore = revision;
        tx.wroteWithoutVersion = false;
        if (savepoints) {
          // Earlier tasks' words go in first, outside this task's savepoint, so that undoing this task leaves them.
          tx.searchWords.write(c);
        }
        int wordsBefore = tx.searchWords.size();
        if (savepoints ? runInSavepoint(sql, tx, p) : runWithoutSavepoint(tx, p)) {
          if (revision != revisionBefore || tx.wroteWithoutVersion) {
            succeeded++; // a task that took no version (an append replay, a clear of nothing) wrote nothing
          }
        } else {
          tx.bytes = bytesBefore; // a failed task wrote nothing that stays
          tx.searchWords.dropFrom(wordsBefore); // and its messages' words with them
        }
      }
      if (succeeded == 0) {
        // Nothing stays written (failed tasks were undone), so what tasks remember still holds.
        sql.execute("ROLLBACK");
        return FinishedBatch.uncommitted(batch, storageFailureOf(batch));
      }
      tx.searchWords.write(c);
      try (PreparedStatement st = c.prepareStatement("UPDATE store_revision SET revision = ? WHERE id = 1")) {
        st.setLong(1, revision);
        st.executeUpdate();
      }
      sql.execute("COMMIT");
      commits.incrementAndGet();
      return new FinishedBatch(batch, succeeded, tx.bytes, revision, storageFailureOf(batch));
    } catch (NeedsSavepoints e) {
      rollbackQuietly(sql); // a full disk may have made SQLite roll back already
      revision = revisionAtStart;
      throw e;
    } catch (SQLException | RuntimeException | Error e) {
      rollbackQuietly(sql); // run() then discards the connection, and with it what the tasks remember
      throw e;
    }
  }

  /** The first storage failure (disk full, I/O error) a task of the batch ran into, or null. */
  private static StoreException storageFailureOf(List<PendingWrite<?>> batch) {
    for (PendingWrite<?> p : batch) {
      if (p.storageFailure) {
        return (StoreException) p.failure;
      }
    }
    return null;
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
  private boolean runWithoutSavepoint(WriteTransaction tx, PendingWrite<?> p) throws SQLException, NeedsSavepoints {
    long changesBefore = connection.totalChanges();
    try {
      p.run(tx);
      return true;
    } catch (StoreException e) {
      if (connection.totalChanges() != changesBefore) {
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

  private boolean runInSavepoint(Sql sql, WriteTransaction tx, PendingWrite<?> p) throws SQLException {
    sql.execute("SAVEPOINT task");
    try {
      p.run(tx);
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
}

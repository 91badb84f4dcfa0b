package io.vmpilot.conversation.server.store.sqlite;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Empties the write-ahead log file, from the writer's own connection between two of its transactions.
 *
 * <p>Under steady writes the log file never shrinks: the {@link WalCheckpointer}'s PASSIVE checkpoints copy it into
 * the database but cannot start it over (only a write beginning after a complete checkpoint does, and one always
 * begins too early), so it grows to the writer's backstop (~64 MiB) and SQLite keeps the file at the largest size
 * it reached. Once the retention sweep has given space back ({@link SpaceReturn}) that log is what keeps the files
 * growing (SqliteSpaceIT measured 4 to 35 MB over twelve create/expire cycles). So after a sweep, when the log holds
 * more than {@link #ABOVE_PAGES}, the writer runs {@code PRAGMA wal_checkpoint(TRUNCATE)} after its next batch:
 * no other writer exists to wait for (it is the writer), the passive checkpoints have copied most of the log
 * already, and it waits for readers still on older snapshots at most {@link #WAIT_MILLIS} (its busy timeout for
 * this one statement); if they are not done by then it gives up (SQLITE_BUSY, the log as it was) and the next
 * sweep asks again. Writes queue behind it meanwhile, as behind one batch.
 */
final class LogTruncation {
  /** 4 MiB of 4 KiB pages: a smaller log is not worth holding the writer for. */
  static final long ABOVE_PAGES = 1024;
  /** Longest the writer waits for readers on older snapshots. */
  static final int WAIT_MILLIS = 100;

  private LogTruncation() {}

  /** Runs the TRUNCATE checkpoint on {@code writer} (in auto-commit mode, no transaction open); true if it emptied. */
  static boolean run(Connection writer) throws SQLException {
    try (Statement st = writer.createStatement()) {
      int busyTimeout;
      try (ResultSet rs = st.executeQuery("PRAGMA busy_timeout")) {
        busyTimeout = rs.next() ? rs.getInt(1) : 0;
      }
      st.execute("PRAGMA busy_timeout = " + WAIT_MILLIS);
      try (ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
        return rs.next() && rs.getInt(1) == 0; // columns: busy, pages in the log, pages copied
      } finally {
        st.execute("PRAGMA busy_timeout = " + busyTimeout);
      }
    }
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Gives the pages that deletions freed back to the file system, a few at a time, on the writer.
 *
 * <p>A database file created by this server has {@code auto_vacuum = INCREMENTAL} (set on every connection, which
 * takes effect only while the file is still empty): freed pages stay on the free list until
 * {@code PRAGMA incremental_vacuum(N)} moves up to N of them to the end of the file and truncates it. The
 * retention sweep runs it after each batch that deleted something, in steps of {@link #PAGES_PER_STEP}, each its
 * own writer task, so that ordinary writes queue behind one short step at most, never behind the whole free list.
 * A file created before (auto_vacuum NONE) keeps reusing its free pages but never shrinks; converting it takes a
 * one-off {@code VACUUM} while the server is stopped (README).
 */
final class SpaceReturn {
  /** 4 MiB at the default 4 KiB page size: one step moves at most this much. */
  static final int PAGES_PER_STEP = 1024;

  private SpaceReturn() {}

  /** Whether the file gives space back (auto_vacuum INCREMENTAL, 2). */
  static boolean incremental(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA auto_vacuum")) {
      return rs.next() && rs.getInt(1) == 2;
    }
  }

  /** Pages on the free list. */
  static long freePages(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA freelist_count")) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  /**
   * Gives back up to {@code pages} free pages; returns how many are left on the free list. Repeated until that many
   * went or none is left: SQLite frees one page per step of the statement, and a driver that steps it only once
   * (sqlite-jdbc's execute) frees just one per call.
   */
  static long step(Connection c, int pages) throws SQLException {
    long before = freePages(c);
    long left = before;
    while (left > 0 && before - left < pages) {
      // A statement of its own each time, closed at once: one left in progress would keep the commit from ending.
      try (Statement st = c.createStatement()) {
        if (st.execute("PRAGMA incremental_vacuum(" + (pages - (before - left)) + ")")) {
          try (ResultSet rs = st.getResultSet()) {
            while (rs.next()) {
              // Each step frees one page.
            }
          }
        }
      }
      long now = freePages(c);
      if (now >= left) {
        break;
      }
      left = now;
    }
    return left;
  }
}

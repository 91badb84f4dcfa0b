package io.vmpilot.conversation.server.store.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Fills in the search words of messages stored before the search index existed (V7 left their {@code search}
 * column null), in batches of one short transaction each so that writers are never held long. Several servers
 * starting together share the work: a batch skips the rows another server has locked.
 */
final class SearchBackfill {
  private static final Logger LOG = Logger.getLogger(SearchBackfill.class.getName());
  private static final int BATCH = 500;

  private SearchBackfill() {}

  /** Runs until no message lacks its words; returns how many this server filled in. */
  static long run(DataSource writers, String database) throws SQLException {
    long done = 0;
    long nextLog = System.nanoTime();
    try (Connection c = writers.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        while (true) {
          int n = batch(c);
          c.commit();
          if (n == 0) {
            break;
          }
          done += n;
          if (System.nanoTime() >= nextLog) {
            LOG.info("database " + database + ": search index backfill: " + done + " messages indexed so far");
            nextLog = System.nanoTime() + 5_000_000_000L;
          }
        }
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    }
    if (done > 0) {
      LOG.info("database " + database + ": search index backfill done: " + done + " messages indexed");
    }
    return done;
  }

  private static int batch(Connection c) throws SQLException {
    int n = 0;
    try (PreparedStatement select = c.prepareStatement("SELECT conversation_id, position, json FROM messages"
        + " WHERE search IS NULL LIMIT " + BATCH + " FOR UPDATE SKIP LOCKED");
        PreparedStatement update = c.prepareStatement("UPDATE messages SET search = CAST(? AS tsvector)"
            + " WHERE conversation_id = ? AND position = ?")) {
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          update.setString(1, TsVectors.of(rs.getString(3)));
          update.setLong(2, rs.getLong(1));
          update.setLong(3, rs.getLong(2));
          update.addBatch();
          n++;
        }
      }
      if (n > 0) {
        update.executeBatch();
      }
    }
    return n;
  }
}

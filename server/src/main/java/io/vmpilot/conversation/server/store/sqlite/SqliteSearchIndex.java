package io.vmpilot.conversation.server.store.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Makes the full-text index of messages (V9's {@code message_text}) match {@code [search] index} when the store
 * opens, before the writer runs. Indexing is most of what a message insert costs the writer (FTS5 cuts and files
 * every word), so a server that never searches can do without it.
 *
 * <p>The trigger that removes a deleted message's words is the index's state: present, the index is complete,
 * unless its newest message is missing from it (an earlier build, one that indexed by V9's insert trigger, ran on
 * the file after this one dropped that trigger), which makes it rebuilt.
 * Turning it off drops it and empties the index in one transaction. Turning it on indexes the stored messages in
 * batches of one short transaction each (progress logged) and creates the trigger in the last one, so a rebuild cut
 * short leaves no trigger and starts over at the next start.
 *
 * <p>There is no insert trigger (V9 made one; {@link #apply} drops it): the writer indexes what it inserts in the
 * same transaction ({@link SqliteStorageTransaction#insert} with words the request thread worked out, kept by
 * {@link PendingSearchWords} until the batch commits; a Fork's copy with {@link #INDEX_CONVERSATION}). A trigger would run {@code json_tree} on the writer for every message, which
 * was most of what indexing cost it.
 */
final class SqliteSearchIndex {
  private static final Logger LOG = Logger.getLogger(SqliteSearchIndex.class.getName());
  private static final int BATCH_ROWS = 5_000;

  /**
   * A message's words: the text of its JSON string values, one per line (see V9__message_search.sql); what
   * {@link io.vmpilot.conversation.server.store.SearchText#sqliteText} computes in Java.
   */
  static final String WORDS_OF_JSON = "CASE WHEN json_valid(%1$s.json) THEN"
      + " (SELECT group_concat(value, char(10)) FROM json_tree(%1$s.json) WHERE type = 'text') END";

  /** The words of one message: its rowid, the text given. */
  static final String INSERT_WORDS = "INSERT INTO message_text (rowid, body) VALUES (?, ?)";

  /** Indexes every message of one conversation (a Fork's new one, all copies), in SQL. */
  static final String INDEX_CONVERSATION = "INSERT INTO message_text (rowid, body) SELECT rowid, "
      + WORDS_OF_JSON.formatted("messages") + " FROM messages WHERE conversation_id = ?";

  private static final String DELETE_TRIGGER = "CREATE TRIGGER message_text_delete AFTER DELETE ON messages BEGIN"
      + " DELETE FROM message_text WHERE rowid = old.rowid; END";

  private SqliteSearchIndex() {}

  /** Turns the index on or off as {@code kept} says; does nothing when it already is. */
  static void apply(DataSource writer, boolean kept, String database) throws SQLException {
    try (Connection c = writer.getConnection()) {
      boolean present = triggersPresent(c);
      if (present && kept && !insertTriggerPresent(c) && !newestMessageIndexed(c)) {
        // An earlier build, which indexed by V9's insert trigger, ran since this one dropped that trigger: it took
        // the index as complete and stored messages without their words.
        LOG.warning("database " + database + ": search index incomplete (messages were stored by a build that"
            + " indexed by a trigger, which this one removed): rebuilding it");
        present = false;
      }
      if (kept) {
        IndexMerges.takeOver(c);
      }
      if (present == kept) {
        if (kept && insertTriggerPresent(c)) {
          try (Statement st = c.createStatement()) {
            st.execute("DROP TRIGGER message_text_insert"); // V9's: the writer indexes what it inserts now
          }
        }
        return;
      }
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        if (kept) {
          rebuild(c, database);
        } else {
          drop(c);
          LOG.info("database " + database + ": search index off ([search] index = false): the index is emptied");
        }
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    }
  }

  /** Whether the index is kept (and complete): its delete trigger is there. */
  static boolean triggersPresent(Connection c) throws SQLException {
    return triggerPresent(c, "message_text_delete");
  }

  /**
   * Whether the newest message has its row in the index (every message gets one, words or none): a build that
   * stored messages without indexing them left the newest of them out, whatever it deleted after.
   */
  private static boolean newestMessageIndexed(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT (SELECT max(rowid) FROM messages)"
        + " IS NULL OR EXISTS (SELECT 1 FROM message_text WHERE rowid = (SELECT max(rowid) FROM messages))")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  static boolean insertTriggerPresent(Connection c) throws SQLException {
    return triggerPresent(c, "message_text_insert");
  }

  private static boolean triggerPresent(Connection c, String name) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name = ?")) {
      st.setString(1, name);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getInt(1) == 1;
      }
    }
  }

  private static void drop(Connection c) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("DROP TRIGGER IF EXISTS message_text_insert");
      st.execute("DROP TRIGGER IF EXISTS message_text_delete");
      st.execute("INSERT INTO message_text (message_text) VALUES ('delete-all')");
    }
    c.commit();
  }

  private static void rebuild(Connection c, String database) throws SQLException {
    drop(c);
    long last;
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT coalesce(max(rowid), 0)"
        + " FROM messages")) {
      last = rs.getLong(1);
    }
    LOG.info("database " + database + ": search index on ([search] index = true): indexing the stored messages");
    long indexed = 0;
    long nextLog = System.nanoTime() + 5_000_000_000L;
    try (PreparedStatement st = c.prepareStatement("INSERT INTO message_text (rowid, body) SELECT rowid, "
        + WORDS_OF_JSON.formatted("messages") + " FROM messages WHERE rowid > ? AND rowid <= ?")) {
      for (long from = 0; from < last; from += BATCH_ROWS) {
        st.setLong(1, from);
        st.setLong(2, Math.min(last, from + BATCH_ROWS));
        indexed += st.executeUpdate();
        c.commit();
        if (System.nanoTime() >= nextLog) {
          LOG.info("database " + database + ": search index: " + indexed + " messages indexed so far");
          nextLog = System.nanoTime() + 5_000_000_000L;
        }
      }
    }
    try (Statement st = c.createStatement()) {
      st.execute(DELETE_TRIGGER);
    }
    c.commit();
    LOG.info("database " + database + ": search index ready: " + indexed + " messages indexed");
  }
}

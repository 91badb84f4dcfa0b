package io.vmpilot.conversation.server.store.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The search words of the messages a batch has inserted, written to the full-text index together just before the
 * batch commits, or sooner, before any message is deleted (whose index trigger must find the words it removes).
 *
 * <p>Why not with each message: FTS5 keeps what is inserted in memory and writes it out as a new index segment at
 * every savepoint, and SQLite opens one for every later statement of the transaction that may fail half-way (an
 * upsert, an update with a trigger). Written with each message, every message became a segment of its own, written
 * out by the statement after it (docs/benchmark.md has what that cost the writer); written together, a batch's
 * messages make one segment. A write that is undone alone (run in a savepoint) drops the words it added.
 */
final class PendingSearchWords {
  private final List<Long> rowids = new ArrayList<>();
  private final List<String> texts = new ArrayList<>();

  /** Keeps {@code text}, the words of the message stored as {@code rowid}, until {@link #write}. */
  void add(long rowid, String text) {
    rowids.add(rowid);
    texts.add(text);
  }

  /** How many are kept: a mark for {@link #dropFrom}. */
  int size() {
    return rowids.size();
  }

  /** Forgets those added since {@code mark} was taken: their messages were undone. */
  void dropFrom(int mark) {
    rowids.subList(mark, rowids.size()).clear();
    texts.subList(mark, texts.size()).clear();
  }

  /** Inserts every kept message's words into the index, on the batch's connection, and forgets them. */
  void write(Connection c) throws SQLException {
    if (rowids.isEmpty()) {
      return;
    }
    try (PreparedStatement st = c.prepareStatement(SqliteSearchIndex.INSERT_WORDS)) {
      for (int i = 0; i < rowids.size(); i++) {
        st.setLong(1, rowids.get(i));
        st.setString(2, texts.get(i));
        st.executeUpdate();
      }
    }
    dropFrom(0);
  }
}

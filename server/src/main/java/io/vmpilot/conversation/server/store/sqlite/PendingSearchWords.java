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
  /** The words ({@code text}) of the message stored as {@code rowid}. */
  private record Words(long rowid, String text) {}

  private final List<Words> kept = new ArrayList<>();

  /** Keeps {@code text}, the words of the message stored as {@code rowid}, until {@link #write}. */
  void add(long rowid, String text) {
    kept.add(new Words(rowid, text));
  }

  /** How many are kept: a mark for {@link #dropFrom}. */
  int size() {
    return kept.size();
  }

  /** Forgets those added since {@code mark} was taken: their messages were undone. */
  void dropFrom(int mark) {
    kept.subList(mark, kept.size()).clear();
  }

  /** Inserts every kept message's words into the index, on the batch's connection, and forgets them. */
  void write(Connection c) throws SQLException {
    if (kept.isEmpty()) {
      return;
    }
    try (PreparedStatement st = c.prepareStatement(SqliteSearchIndex.INSERT_WORDS)) {
      for (Words w : kept) {
        st.setLong(1, w.rowid());
        st.setString(2, w.text());
        st.executeUpdate();
      }
    }
    kept.clear();
  }
}

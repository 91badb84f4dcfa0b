package io.vmpilot.conversation.server.store.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicLong;
import org.sqlite.ProgressHandler;

/**
 * What the cost tests do round the store: conversations written straight into a store's file (many, fast, with the
 * times a test needs), and the work SQLite does for some SQL counted in virtual-machine instructions (a progress
 * handler called every instruction), which is exact and the same on every run, unlike a time.
 */
final class FileFixtures {
  private FileFixtures() {}

  /** SQL run on a connection. */
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** What the work returned, and the instructions it took. */
  record Counted<T>(T value, long instructions) {}

  /**
   * Inserts {@code n} conversations of {@code tenant} (thread ids {@code prefix + i}) last updated at
   * {@code updateTime}, each of {@code messages} messages and {@code bytes} bytes, with {@code expireTime} (null for
   * none), in one transaction; times in microseconds, as the file keeps them.
   */
  static void insertConversations(Connection c, String tenant, String prefix, int n, long updateTime, int messages,
      long bytes, Long expireTime) throws SQLException {
    c.setAutoCommit(false);
    try (PreparedStatement st = c.prepareStatement("INSERT INTO conversations (tenant, thread_id, version,"
        + " create_time, update_time, message_count, history_bytes, expire_time) VALUES (?, ?, 1, 0, ?, ?, ?, ?)")) {
      for (int i = 0; i < n; i++) {
        st.setString(1, tenant);
        st.setString(2, prefix + i);
        st.setLong(3, updateTime);
        st.setInt(4, messages);
        st.setLong(5, bytes);
        st.setObject(6, expireTime);
        st.addBatch();
      }
      st.executeBatch();
    }
    c.commit();
    c.setAutoCommit(true);
  }

  static <T> Counted<T> counted(Connection c, Work<T> work) throws SQLException {
    AtomicLong instructions = new AtomicLong();
    ProgressHandler.setHandler(c, 1, new ProgressHandler() {
      @Override
      protected int progress() {
        instructions.incrementAndGet();
        return 0;
      }
    });
    try {
      T value = work.run(c);
      return new Counted<>(value, instructions.get());
    } finally {
      ProgressHandler.clearHandler(c);
    }
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StatementCacheTest {
  private Connection raw;
  private StatementCache cache;

  @BeforeEach
  void open() throws SQLException {
    raw = DriverManager.getConnection("jdbc:sqlite::memory:");
    try (Statement st = raw.createStatement()) {
      st.executeUpdate("CREATE TABLE t (k INTEGER PRIMARY KEY)");
    }
    cache = new StatementCache(raw);
  }

  @AfterEach
  void close() throws SQLException {
    cache.close();
    raw.close();
  }

  /** The driver's statement behind what the cache handed out. */
  private PreparedStatement prepared(String sql) throws SQLException {
    try (PreparedStatement st = cache.connection().prepareStatement(sql)) {
      return st.unwrap(PreparedStatement.class);
    }
  }

  @Test
  void aStatementIsCompiledOnceAndReusedAfterClose() throws SQLException {
    assertThat(prepared("SELECT count(*) FROM t")).isSameAs(prepared("SELECT count(*) FROM t"));
  }

  @Test
  void aClosedHandleNeitherFreesNorUsesTheStatementHandedOutAgain() throws SQLException {
    String sql = "SELECT count(*) FROM t";
    PreparedStatement stale = cache.connection().prepareStatement(sql);
    stale.close();
    assertThat(stale.isClosed()).isTrue();
    try (PreparedStatement current = cache.connection().prepareStatement(sql)) {
      stale.close(); // closed twice: must not free what `current` now holds
      assertThat(current.isClosed()).isFalse();
      try (PreparedStatement other = cache.connection().prepareStatement(sql)) {
        assertThat(other.unwrap(PreparedStatement.class)).isNotSameAs(current.unwrap(PreparedStatement.class));
      }
      assertThatThrownBy(stale::executeQuery).isInstanceOf(SQLException.class).hasMessageContaining("closed");
      try (ResultSet rs = current.executeQuery()) {
        assertThat(rs.next()).isTrue();
      }
    }
  }

  @Test
  void aStatementThatFailedIsDroppedAndTheNextOneWorks() throws SQLException {
    String insert = "INSERT INTO t (k) VALUES (?)";
    PreparedStatement first = prepared(insert);
    try (PreparedStatement st = cache.connection().prepareStatement(insert)) {
      st.setLong(1, 1);
      st.executeUpdate();
      st.setLong(1, 1);
      assertThatThrownBy(st::executeUpdate).isInstanceOf(SQLException.class).hasMessageContaining("UNIQUE");
    }
    try (PreparedStatement st = cache.connection().prepareStatement(insert)) {
      assertThat(st.unwrap(PreparedStatement.class)).isNotSameAs(first);
      st.setLong(1, 2);
      assertThat(st.executeUpdate()).isEqualTo(1);
    }
    try (PreparedStatement st = cache.connection().prepareStatement("SELECT count(*) FROM t");
        ResultSet rs = st.executeQuery()) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getLong(1)).isEqualTo(2);
    }
  }

  @Test
  void beyondItsCapacityTheLeastRecentlyUsedStatementIsClosed() throws SQLException {
    PreparedStatement oldest = prepared("SELECT 0");
    PreparedStatement recent = prepared("SELECT -1");
    for (int i = 1; i < StatementCache.CAPACITY; i++) {
      prepared("SELECT " + i);
      prepared("SELECT -1"); // kept in use, so never the least recently used
    }
    assertThat(oldest.isClosed()).isTrue();
    assertThat(recent.isClosed()).isFalse();
    assertThat(prepared("SELECT -1")).isSameAs(recent);
  }
}

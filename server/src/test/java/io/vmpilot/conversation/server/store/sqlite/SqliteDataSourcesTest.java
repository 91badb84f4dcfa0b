package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The pragmas and schema the SQLite pools really run with, read back from live connections. */
class SqliteDataSourcesTest {
  /** Every SQLite migration's version, in the order they run. */
  private static final List<String> MIGRATIONS = List.of("1", "2", "3", "4", "5", "6", "9", "11", "12", "13", "15", "17", "18");

  @TempDir
  Path dir;

  private SqliteSettings settings(Durability durability) {
    return new SqliteSettings(dir.resolve("nested/deeper/pragmas.db"), durability, 4321, 3, 16, 1 << 20);
  }

  @ParameterizedTest
  @EnumSource(Durability.class)
  void pragmasApplyOnEveryConnectionOfBothPools(Durability durability) throws SQLException {
    int synchronous = durability == Durability.FULL ? 2 : 1;
    try (SqliteDataSources ds = SqliteDataSources.open(settings(durability))) {
      try (Connection c = ds.writer.getConnection()) {
        // The writer's commits only write the log at either level; with full, GroupCommitWriter syncs it itself.
        assertPragmas(c, 1);
        assertThat(c.getAutoCommit()).as("the writer begins its transactions itself").isTrue();
      }
      // Hold every reader at once so that each connection of the pool is checked, not the same one thrice.
      List<Connection> readers = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          readers.add(ds.readers.getConnection());
        }
        assertThat(readers).doesNotHaveDuplicates();
        for (Connection c : readers) {
          assertPragmas(c, synchronous);
          assertThat(c.getAutoCommit()).as("each read is one transaction").isFalse();
        }
      } finally {
        for (Connection c : readers) {
          c.rollback();
          c.close();
        }
      }
    }
  }

  private static void assertPragmas(Connection c, int synchronous) throws SQLException {
    assertThat(pragma(c, "journal_mode")).isEqualToIgnoringCase("wal");
    assertThat(pragma(c, "synchronous")).isEqualTo(Integer.toString(synchronous));
    assertThat(pragma(c, "busy_timeout")).isEqualTo("4321");
    assertThat(pragma(c, "foreign_keys")).isEqualTo("1");
  }

  static String pragma(Connection c, String name) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA " + name)) {
      assertThat(rs.next()).as("PRAGMA %s returns a row", name).isTrue();
      return rs.getString(1);
    }
  }

  @Test
  void openCreatesMissingDirectoriesAndMigratesToTheLatestVersion() throws SQLException {
    SqliteSettings s = settings(Durability.FULL);
    assertThat(Files.exists(s.path().getParent())).isFalse();
    try (SqliteDataSources ds = SqliteDataSources.open(s)) {
      assertThat(Files.isRegularFile(s.path())).isTrue();
      try (Connection c = ds.readers.getConnection(); Statement st = c.createStatement()) {
        try (ResultSet rs = st.executeQuery(
            "SELECT version, success FROM flyway_schema_history WHERE version IS NOT NULL ORDER BY installed_rank")) {
          for (String version : MIGRATIONS) {
            assertThat(rs.next()).as("migration %s ran", version).isTrue();
            assertThat(rs.getString(1)).isEqualTo(version);
            assertThat(rs.getBoolean(2)).isTrue();
          }
          assertThat(rs.next()).as("no other migration").isFalse();
        }
        try (ResultSet rs = st.executeQuery("SELECT revision FROM store_revision WHERE id = 1")) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getLong(1)).isZero();
        }
        c.rollback();
      }
    }
    // Opening again does not migrate again.
    try (SqliteDataSources ds = SqliteDataSources.open(s);
        Connection c = ds.readers.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM flyway_schema_history WHERE version IS NOT NULL")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(MIGRATIONS.size());
      c.rollback();
    }
  }

  @Test
  void theIdleWriterHoldsNoLockAndReadersTakeNone() throws SQLException {
    SqliteSettings s = settings(Durability.FULL);
    try (SqliteDataSources ds = SqliteDataSources.open(s)) {
      // Idle, the writer leaves the file to other processes; a batch (BEGIN IMMEDIATE) takes the lock at once.
      try (Connection writer = ds.writer.getConnection()) {
        try (Statement st = writer.createStatement()) {
          st.executeQuery("SELECT count(*) FROM conversations").close();
          assertThat(canTakeWriteLock(s)).as("idle writer").isTrue();
          st.execute("BEGIN IMMEDIATE");
          assertThat(canTakeWriteLock(s)).as("writer inside a batch").isFalse();
          st.execute("ROLLBACK");
        }
      }
      // With the writer pool gone, a reader's (deferred) transaction that has read leaves the write lock free.
      ds.writer.close();
      try (Connection reader = ds.readers.getConnection()) {
        try (Statement st = reader.createStatement()) {
          st.executeQuery("SELECT count(*) FROM conversations").close();
        }
        assertThat(canTakeWriteLock(s)).isTrue();
        reader.rollback();
      }
    }
    assertThat(canTakeWriteLock(s)).isTrue();
  }

  /** Whether another connection (not waiting for locks) can begin a write transaction right now. */
  private static boolean canTakeWriteLock(SqliteSettings s) throws SQLException {
    try (Connection raw = DriverManager.getConnection(s.jdbcUrl()); Statement st = raw.createStatement()) {
      st.execute("PRAGMA busy_timeout = 0");
      try {
        st.execute("BEGIN IMMEDIATE");
      } catch (SQLException busy) {
        assertThat(busy.getMessage()).containsIgnoringCase("lock");
        return false;
      }
      st.execute("ROLLBACK");
      return true;
    }
  }

  @Test
  void aFileThatIsNotADatabaseFailsToOpen() throws Exception {
    Path file = dir.resolve("garbage.db");
    Files.writeString(file, "this is not a SQLite database, just some text that is long enough to matter ".repeat(20));
    SqliteSettings s = new SqliteSettings(file, Durability.FULL, 100, 1, 1, 100);
    assertThatThrownBy(() -> SqliteDataSources.open(s).close()).isInstanceOf(RuntimeException.class);
    assertThat(Files.readString(file)).startsWith("this is not a SQLite database");
  }
}

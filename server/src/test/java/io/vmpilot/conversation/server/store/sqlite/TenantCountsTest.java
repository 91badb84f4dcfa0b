package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.error.TenantConversationLimitException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-tenant conversation count the limit reads is kept with the rows (V5), so that checking the limit costs
 * one lookup however many conversations the tenant has.
 */
class TenantCountsTest {
  private static final int MANY = 50_000;

  @TempDir
  Path dir;

  /** Inserts {@code n} conversations of {@code tenant} straight into the file, in one transaction. */
  private static void insertConversations(String url, String tenant, int n) throws SQLException {
    try (Connection c = DriverManager.getConnection(url)) {
      c.setAutoCommit(false);
      try (PreparedStatement st = c.prepareStatement("INSERT INTO conversations (tenant, thread_id, version,"
          + " create_time, update_time, message_count, history_bytes) VALUES (?, ?, 1, 0, 0, 0, 0)")) {
        for (int i = 0; i < n; i++) {
          st.setString(1, tenant);
          st.setString(2, "bulk-" + i);
          st.addBatch();
        }
        st.executeBatch();
      }
      c.commit();
    }
  }

  private static List<String> plan(Connection c, String sql) throws SQLException {
    List<String> steps = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement("EXPLAIN QUERY PLAN " + sql)) {
      st.setString(1, "t");
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          steps.add(rs.getString("detail"));
        }
      }
    }
    return steps;
  }

  @Test
  void theLimitCheckIsOneLookupInTenantsNotACountOfTheTenantsRows() throws SQLException {
    Path file = dir.resolve("many.db");
    SqliteConversationStore.open(new SqliteSettings(file, Durability.FULL, 5000, 2, 16, 1 << 20)).close();
    String url = "jdbc:sqlite:" + file;
    insertConversations(url, "t", MANY);
    try (Connection c = DriverManager.getConnection(url)) {
      try (Statement st = c.createStatement()) {
        st.execute("ANALYZE");
      }
      List<String> steps = plan(c, SqliteStorageTransaction.COUNT_CONVERSATIONS_SQL);
      assertThat(steps).containsExactly("SEARCH tenants USING PRIMARY KEY (tenant=?)");
      try (PreparedStatement st = c.prepareStatement(SqliteStorageTransaction.COUNT_CONVERSATIONS_SQL)) {
        st.setString(1, "t");
        try (ResultSet rs = st.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getLong(1)).isEqualTo(MANY);
        }
      }
    }
  }

  @Test
  void theCountFollowsCreationsClearsAndDirectDeletesAndTheLimitStaysExact() throws SQLException {
    Path file = dir.resolve("limit.db");
    SqliteSettings settings = new SqliteSettings(file, Durability.FULL, 5000, 2, 16, 1 << 20, 1_000);
    SqliteConversationStore.open(settings).close();
    String url = "jdbc:sqlite:" + file;
    insertConversations(url, "t", 1_000);
    try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
      st.executeUpdate("DELETE FROM conversations WHERE thread_id IN ('bulk-0', 'bulk-1')"); // an operator's shell
    }
    SqliteConversationStore store = SqliteConversationStore.open(settings);
    try {
      store.clear(new ClearCommand(new ThreadKey("t", "bulk-2"), OptionalLong.empty()));
      int created = 0;
      try {
        for (int i = 0; i < 10; i++) {
          store.save(new SaveCommand(new ThreadKey("t", "new-" + i), List.of(), Map.of(), Map.of(),
              OptionalLong.empty()));
          created++;
        }
      } catch (TenantConversationLimitException expected) {
        // 997 were left: exactly three more fit.
      }
      assertThat(created).isEqualTo(3);
    } finally {
      store.close();
    }
    try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM conversations WHERE tenant = 't'),"
            + " (SELECT conversations FROM tenants WHERE tenant = 't')")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(1_000);
      assertThat(rs.getLong(2)).isEqualTo(1_000);
    }
  }

  @Test
  void aVersion4DatabaseGetsItsCountsBackFilledAndVersionsAboveAllItGaveOut() throws SQLException {
    Path file = dir.resolve("v4.db");
    String url = "jdbc:sqlite:" + file;
    Flyway.configure().dataSource(url, null, null).locations("classpath:db/migration/sqlite").target("4").load()
        .migrate();
    insertConversations(url, "a", 7);
    insertConversations(url, "b", 2);
    try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
      // 100 writes so far, some by a tenant "gone" whose conversations were all cleared: nothing is left of it.
      st.executeUpdate("UPDATE store_revision SET revision = 100");
    }
    SqliteConversationStore store =
        SqliteConversationStore.open(new SqliteSettings(file, Durability.FULL, 5000, 2, 16, 1 << 20));
    try {
      // Every tenant's counter starts above every version handed out before: a client of "gone" may still hold
      // version 100 of a thread it had.
      for (String tenant : List.of("a", "gone")) {
        assertThat(store.save(new SaveCommand(new ThreadKey(tenant, "after-v6"), List.of(), Map.of(), Map.of(),
            OptionalLong.empty())).version()).isEqualTo(101);
      }
    } finally {
      store.close();
    }
    try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT tenant, conversations FROM tenants ORDER BY tenant")) {
      List<String> rows = new ArrayList<>();
      while (rs.next()) {
        rows.add(rs.getString(1) + "=" + rs.getLong(2));
      }
      assertThat(rows).containsExactly("a=8", "b=2", "gone=1");
    }
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.store.StoreStats;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.sql.SharedSql;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each tenant's messages and history bytes are kept with the rows (V18), so GetServerStatus and the metrics
 * endpoint cost the same at 20,000 conversations as at 10, and stay exact whatever changes the rows. Work is
 * counted in SQLite virtual-machine instructions ({@link FileFixtures#counted}).
 */
class TenantTotalsTest {
  private static final long NOW = 1_000_000;

  @TempDir
  Path dir;

  /** Inserts {@code n} conversations of {@code tenant}, each of 4 messages and 100 bytes, updated at NOW. */
  private static void insert(Connection c, String tenant, String prefix, int n, Long expireTime) throws SQLException {
    FileFixtures.insertConversations(c, tenant, prefix, n, NOW, 4, 100, expireTime);
  }

  private Connection storeWith(String name, int conversations) throws SQLException {
    Path file = dir.resolve(name);
    SqliteConversationStore.open(new SqliteSettings(file, Durability.FULL, 5000, 2, 16, 1 << 20)).close();
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
    insert(c, "t", "live-", conversations, null);
    insert(c, "t", "later-", 2, NOW + 10);
    insert(c, "t", "expired-", 3, NOW - 10);
    insert(c, "u", "other-", 5, null);
    return c;
  }

  private record Counted(SharedSql.TenantCounts counts, long[] totals, long instructions) {}

  private static Counted count(Connection c) throws SQLException {
    FileFixtures.Counted<Counted> counted = FileFixtures.counted(c,
        conn -> new Counted(SharedSql.tenantCounts(conn, "t", NOW, NOW - 1), SharedSql.storeTotals(conn), 0));
    return new Counted(counted.value().counts(), counted.value().totals(), counted.instructions());
  }

  @Test
  void theCountsCostTheSameAtTwentyThousandConversationsAndLeaveTheExpiredOut() throws SQLException {
    try (Connection few = storeWith("few.db", 10); Connection many = storeWith("many.db", 20_000)) {
      Counted small = count(few);
      Counted large = count(many);
      assertThat(small.counts()).isEqualTo(new SharedSql.TenantCounts(12, 48));
      assertThat(large.counts()).isEqualTo(new SharedSql.TenantCounts(20_002, 80_008));
      assertThat(large.totals()).containsExactly(20_010, 80_040, 2_001_000);
      // Idle ones too, and one both idle and past its own time is left out once.
      assertThat(SharedSql.tenantCounts(few, "t", NOW, NOW + 1)).isEqualTo(new SharedSql.TenantCounts(0, 0));
      // Summing the rows walked all 20,000 of them: thousands of times the work of the lookups.
      assertThat(large.instructions()).isLessThan(small.instructions() * 2);
    }
  }

  @Test
  void theTotalsFollowDirectUpdatesAndDeletesAsWellAsTheServersWrites() throws SQLException {
    try (Connection c = storeWith("direct.db", 10); Statement st = c.createStatement()) {
      // An operator's sqlite3 shell: trims one history, deletes one conversation, moves nothing else.
      st.executeUpdate("UPDATE conversations SET message_count = 1, history_bytes = 30 WHERE thread_id = 'live-0'");
      st.executeUpdate("DELETE FROM conversations WHERE thread_id = 'live-1'");
      st.executeUpdate("UPDATE conversations SET version = 9 WHERE thread_id = 'live-2'");
      try (ResultSet rs = st.executeQuery("SELECT t.messages, t.history_bytes, (SELECT sum(message_count) FROM"
          + " conversations WHERE tenant = 't'), (SELECT sum(history_bytes) FROM conversations WHERE tenant = 't')"
          + " FROM tenants t WHERE tenant = 't'")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getLong(1)).isEqualTo(rs.getLong(3)).isEqualTo(15 * 4 - 4 - 3);
        assertThat(rs.getLong(2)).isEqualTo(rs.getLong(4)).isEqualTo(15 * 100 - 100 - 70);
      }
    }
  }

  @Test
  void aVersion17DatabaseGetsItsTotalsBackFilled() throws SQLException {
    Path file = dir.resolve("v17.db");
    String url = "jdbc:sqlite:" + file;
    Flyway.configure().dataSource(url, null, null).locations("classpath:db/migration/sqlite").target("17").load()
        .migrate();
    try (Connection c = DriverManager.getConnection(url)) {
      insert(c, "a", "a-", 7, null);
      insert(c, "b", "b-", 2, null);
    }
    SqliteConversationStore store =
        SqliteConversationStore.open(new SqliteSettings(file, Durability.FULL, 5000, 2, 16, 1 << 20));
    try {
      assertThat(store.status("a").messages()).isEqualTo(28);
      assertThat(store.status("b").conversations()).isEqualTo(2);
      StoreStats stats = store.stats();
      assertThat(stats.conversations()).isEqualTo(9);
      assertThat(stats.messages()).isEqualTo(36);
      assertThat(stats.historyBytes()).isEqualTo(900);
      assertThat(store.status(ThreadKey.DEFAULT_TENANT).messages()).isZero();
    } finally {
      store.close();
    }
  }
}

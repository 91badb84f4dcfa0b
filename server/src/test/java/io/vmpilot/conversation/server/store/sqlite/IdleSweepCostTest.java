package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.store.TenantScope;
import io.vmpilot.conversation.server.store.sql.SharedSql;
import io.vmpilot.conversation.server.store.write.ConversationRow;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retention sweep's look-up of idle conversations costs what it deletes plus one probe per tenant, not a walk
 * over the old conversations of tenants whose own max_idle keeps them ({@code tenant_max_idle = bob=off}).
 * Work is counted in SQLite virtual-machine instructions ({@link FileFixtures#counted}).
 */
class IdleSweepCostTest {
  private static final long CUTOFF = 1_000;

  @TempDir
  Path dir;

  private static void insert(Connection c, String tenant, int n, long updateTime) throws SQLException {
    FileFixtures.insertConversations(c, tenant, tenant + "-" + updateTime + "-", n, updateTime, 0, 0, null);
  }

  /** A migrated store file with {@code keptOld} idle conversations of bob (who keeps his) and 5 of alice and carol. */
  private Connection storeWith(String name, int keptOld) throws SQLException {
    Path file = dir.resolve(name);
    SqliteConversationStore.open(new SqliteSettings(file, Durability.FULL, 5000, 2, 16, 1 << 20)).close();
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
    insert(c, "bob", keptOld, 10);
    insert(c, "alice", 5, 20);
    insert(c, "carol", 5, 30);
    insert(c, "alice", 3, CUTOFF + 1);
    return c;
  }

  private record Counted(List<ConversationRow> rows, long instructions) {}

  private static Counted idle(Connection c, TenantScope scope) throws SQLException {
    FileFixtures.Counted<List<ConversationRow>> counted = FileFixtures.counted(c,
        conn -> SharedSql.idleRows(conn, CUTOFF, scope, 100, "", Micros::column));
    return new Counted(counted.value(), counted.instructions());
  }

  @Test
  void findsEachTenantsIdleConversationsAndOnlyThose() throws SQLException {
    try (Connection c = storeWith("rows.db", 50)) {
      assertThat(idle(c, TenantScope.only("alice")).rows())
          .allSatisfy(r -> assertThat(r.key().tenant()).isEqualTo("alice")).hasSize(5);
      assertThat(idle(c, TenantScope.allExcept(Set.of("bob"))).rows())
          .extracting(r -> r.key().tenant()).containsOnly("alice", "carol").hasSize(10);
      assertThat(idle(c, TenantScope.ALL).rows()).hasSize(60);
    }
  }

  @Test
  void aTenantsKeptConversationsCostTheOthersSweepNothing() throws SQLException {
    try (Connection few = storeWith("few.db", 10); Connection many = storeWith("many.db", 20_000)) {
      for (TenantScope scope : List.of(TenantScope.only("alice"), TenantScope.allExcept(Set.of("bob")))) {
        Counted small = idle(few, scope);
        Counted large = idle(many, scope);
        assertThat(large.rows()).hasSameSizeAs(small.rows()).isNotEmpty();
        // The same rows found in both files: the same work within index depth, however many rows bob keeps (a
        // walk of a store-wide update_time index stepped over all 20,000 of them: thousands of times more).
        assertThat(large.instructions()).as("VM instructions for %s", scope).isLessThan(small.instructions() * 2);
      }
    }
  }
}

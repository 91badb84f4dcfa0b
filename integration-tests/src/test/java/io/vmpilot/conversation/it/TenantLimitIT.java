package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** [limits] max_conversations_per_tenant against the real server, on both backends. */
class TenantLimitIT {
  @TempDir
  Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "memory"})
  void creatingOneConversationTooManyIsResourceExhausted(String backend) throws Exception {
    List<String> args = new ArrayList<>(List.of("--max-conversations-per-tenant", "3", "--auth-enabled", "true"));
    if (backend.equals("memory")) {
      args.addAll(List.of("--database-enabled", "false"));
    } else {
      args.addAll(List.of("--database-path", dir.resolve("limit.db").toString()));
    }
    try (ServerProcess server = ServerProcess.start(args, null,
            Map.of("VMPILOT_AUTH_TOKENS", "alice=limit-alice,bob=limit-bob"));
        ConversationClient alice = ConversationClient.builder(server.target()).bearerToken("limit-alice").build();
        ConversationClient bob = ConversationClient.builder(server.target()).bearerToken("limit-bob").build()) {
      alice.save("c1", List.of("{}"));
      alice.append("c2", List.of("{}"));
      alice.save("c3", List.of());

      for (Runnable create : List.<Runnable>of(
          () -> alice.save("c4", List.of("{}")), () -> alice.append("c4", List.of("{}")))) {
        assertThatThrownBy(create::run).isInstanceOfSatisfying(ConversationStoreException.class, e -> {
          assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(e.reason()).isEqualTo("TENANT_CONVERSATION_LIMIT");
          assertThat(e.metadata()).containsEntry("limit", "3").containsEntry("tenant", "alice")
              .containsEntry("thread_id", "c4");
          assertThat(e.getMessage()).contains("3 conversations");
        });
      }
      assertThat(alice.get("c4")).isEmpty();

      // Existing conversations stay writable; the other tenant has its own count.
      assertThat(alice.append("c1", List.of("{\"more\":1}")).getMessageCount()).isEqualTo(2);
      assertThat(alice.updateCache("c3", Map.of("input_tokens", 5L)).getVersion()).isPositive();
      assertThat(bob.save("c4", List.of("{}")).getCreated()).isTrue();

      // Clearing one makes room for another.
      assertThat(alice.clear("c2")).isTrue();
      assertThat(alice.save("c4", List.of("{}")).getCreated()).isTrue();
    }
  }

  /**
   * A tenant with 50,000 conversations put straight into the file (the server stopped), then creations and Clears
   * racing around the limit: the count the limit reads is back-filled and kept exact, so filling up afterwards
   * stops at exactly the limit.
   */
  @Test
  void theLimitStaysExactWithFiftyThousandConversationsUnderRacingCreatesAndClears() throws Exception {
    Path db = dir.resolve("many.db");
    try (ServerProcess schema = ServerProcess.startSqlite(db)) {
      schema.stop();
    }
    int seeded = 50_000;
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
      c.setAutoCommit(false);
      try (PreparedStatement st = c.prepareStatement("INSERT INTO conversations (tenant, thread_id, version,"
          + " create_time, update_time, message_count, history_bytes) VALUES ('default', ?, 1, 0, 0, 0, 0)")) {
        for (int i = 0; i < seeded; i++) {
          st.setString(1, "bulk-" + i);
          st.addBatch();
        }
        st.executeBatch();
      }
      c.commit();
    }
    int limit = seeded + 10;
    try (ServerProcess server = ServerProcess.startSqlite(db, "--max-conversations-per-tenant",
        Integer.toString(limit))) {
      raceAroundTheLimit(List.of(server.target()), seeded, limit, () -> sqliteCount(db));
    }
  }

  /** The same over three servers on one PostgreSQL database: the tenant's row lock keeps the count exact. */
  @Test
  void theLimitStaysExactAcrossThreePostgresServers() throws Exception {
    int seeded = 200;
    int limit = seeded + 10;
    try (PostgresFleet fleet = PostgresFleet.start(3, "--max-conversations-per-tenant", Integer.toString(limit))) {
      fleet.psql("INSERT INTO conversations (tenant, thread_id, version, create_time, update_time, message_count,"
          + " history_bytes) SELECT 'default', 'bulk-' || i, 1, now(), now(), 0, 0 FROM generate_series(0, "
          + (seeded - 1) + ") AS i; INSERT INTO tenants (tenant, conversations) VALUES ('default', " + seeded
          + ") ON CONFLICT (tenant) DO UPDATE SET conversations = excluded.conversations");
      raceAroundTheLimit(List.of(fleet.server(0).target(), fleet.server(1).target(), fleet.server(2).target()),
          seeded, limit, () -> Long.parseLong(fleet.psql("SELECT count(*) FROM conversations").strip()));
    }
  }

  private static long sqliteCount(Path db) {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM conversations WHERE tenant = 'default'")) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Four clients create 15 new conversations each while four others clear 5 of the seeded ones each (spread over
   * {@code targets}); every creation either succeeds or is refused for the limit, the store never holds more than
   * {@code limit}, and creating one by one afterwards stops at exactly {@code limit}.
   */
  static void raceAroundTheLimit(List<String> targets, int seeded, int limit, LongSupplier storedCount)
      throws Exception {
    List<ConversationClient> clients = new ArrayList<>();
    for (String t : targets) {
      clients.add(ConversationClient.builder(t).build());
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      AtomicInteger created = new AtomicInteger();
      AtomicInteger refused = new AtomicInteger();
      AtomicInteger cleared = new AtomicInteger();
      List<Future<?>> work = new ArrayList<>();
      for (int w = 0; w < 8; w++) {
        int worker = w;
        ConversationClient client = clients.get(w % clients.size());
        work.add(pool.submit(() -> {
          for (int k = 0; k < (worker < 4 ? 15 : 5); k++) {
            if (worker < 4) {
              try {
                assertThat(client.save("race-" + worker + "-" + k, List.of("{}")).getCreated()).isTrue();
                created.incrementAndGet();
              } catch (ConversationStoreException e) {
                assertThat(e.reason()).isEqualTo("TENANT_CONVERSATION_LIMIT");
                refused.incrementAndGet();
              }
            } else if (client.clear("bulk-" + ((worker - 4) * 5 + k))) {
              cleared.incrementAndGet();
            }
          }
          return null;
        }));
      }
      for (Future<?> f : work) {
        f.get();
      }
      long afterRace = seeded - cleared.get() + created.get();
      assertThat(cleared.get()).isEqualTo(20);
      assertThat(afterRace).isLessThanOrEqualTo(limit);
      int filled = 0;
      while (true) {
        try {
          clients.get(filled % clients.size()).save("fill-" + filled, List.of());
          filled++;
        } catch (ConversationStoreException e) {
          assertThat(e.reason()).isEqualTo("TENANT_CONVERSATION_LIMIT");
          break;
        }
      }
      assertThat(afterRace + filled).isEqualTo(limit);
      assertThat(storedCount.getAsLong()).isEqualTo(limit);
      System.out.printf("TenantLimitIT: servers=%d seeded=%d created=%d refused=%d cleared=%d filled=%d limit=%d%n",
          targets.size(), seeded, created.get(), refused.get(), cleared.get(), filled, limit);
    } finally {
      pool.shutdownNow();
      for (ConversationClient c : clients) {
        c.close();
      }
    }
  }
}

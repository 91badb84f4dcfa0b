package io.vmpilot.conversation.bench;

import io.vmpilot.conversation.testing.postgres.ThrowawayPostgres;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.SaveRequest;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Puts W6's existing conversations (empty ones, of the tenant every unauthenticated call acts for) into a store.
 * A million Saves through the server would take minutes, so where the backend allows it they go straight into its
 * schema: SQLite's file with the server stopped (its triggers keep the tenant's count), PostgreSQL's tables in one
 * statement (its servers keep no state, so they may be running). Each returns how it seeded, for the row's note.
 */
final class ScaleSeeding {
  /** Parallel Saves when seeding through the server. */
  private static final int SAVERS = 16;
  private static final int SQLITE_BATCH = 10_000;
  /** The tenant every call acts for when the server's auth is off, as the benchmark runs it. */
  private static final String TENANT = "default";

  private ScaleSeeding() {}

  /** Inserts {@code n} conversations into the SQLite file {@code db}, which no server may have open. */
  static String sqlite(Path db, int n) throws SQLException {
    long start = System.nanoTime();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
      c.setAutoCommit(false);
      try (PreparedStatement st = c.prepareStatement("INSERT INTO conversations (tenant, thread_id, version,"
          + " create_time, update_time, message_count, history_bytes) VALUES (?, ?, ?, 0, 0, 0, 0)")) {
        for (int i = 0; i < n; i++) {
          st.setString(1, TENANT);
          st.setString(2, "seeded-" + i);
          st.setLong(3, i + 1);
          st.addBatch();
          if (i % SQLITE_BATCH == SQLITE_BATCH - 1) {
            st.executeBatch();
          }
        }
        st.executeBatch();
      }
      // The tenant's versions go on after the seeded ones (the insert trigger counted the rows).
      try (PreparedStatement st = c.prepareStatement("UPDATE tenants SET revision = ? WHERE tenant = ?")) {
        st.setLong(1, n);
        st.setString(2, TENANT);
        st.executeUpdate();
      }
      c.commit();
    }
    return took("JDBC into the file", start);
  }

  /** Inserts {@code n} conversations into {@code database}'s tables, with the tenant's count and version. */
  static String postgres(ThrowawayPostgres postgres, String database, int n) {
    long start = System.nanoTime();
    String tenant = "'" + TENANT + "'";
    postgres.psql(database, "BEGIN;"
        + " INSERT INTO conversations (tenant, thread_id, version, create_time, update_time, message_count,"
        + " history_bytes) SELECT " + tenant + ", 'seeded-' || g, g, now(), now(), 0, 0 FROM generate_series(1, "
        + n + ") g;"
        + " INSERT INTO tenants (tenant, conversations, revision) VALUES (" + tenant + ", " + n + ", " + n + ")"
        + " ON CONFLICT (tenant) DO UPDATE SET conversations = tenants.conversations + EXCLUDED.conversations,"
        + " revision = greatest(tenants.revision, EXCLUDED.revision);"
        + " COMMIT; ANALYZE conversations;");
    return took("generate_series into the tables", start);
  }

  /** Saves {@code n} empty conversations through the server, {@link #SAVERS} at a time. */
  static String throughServer(ConversationServiceBlockingStub stub, int n) {
    long start = System.nanoTime();
    ConversationServiceBlockingStub each = stub.withDeadline(null);
    ExecutorService pool = Executors.newFixedThreadPool(SAVERS);
    try {
      List<Future<?>> savers = new ArrayList<>();
      for (int s = 0; s < SAVERS; s++) {
        int saver = s;
        savers.add(pool.submit(() -> {
          for (int i = saver; i < n; i += SAVERS) {
            each.withDeadlineAfter(ClosedLoop.OP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .save(SaveRequest.newBuilder().setThreadId("seeded-" + i).build());
          }
          return null;
        }));
      }
      for (Future<?> f : savers) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("seeding interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("seeding through the server failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
    return took("Saves through the server", start);
  }

  private static String took(String how, long start) {
    String line = String.format(Locale.ROOT, "seeded by %s in %.1f s", how, (System.nanoTime() - start) / 1e9);
    System.out.println("  W6: " + line);
    return line;
  }
}

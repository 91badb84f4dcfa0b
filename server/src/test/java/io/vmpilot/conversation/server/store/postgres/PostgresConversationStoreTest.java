package io.vmpilot.conversation.server.store.postgres;

import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.Retention;
import io.vmpilot.conversation.server.store.ConversationStoreContract;
import io.vmpilot.conversation.testing.postgres.ThrowawayPostgres;
import io.vmpilot.conversation.testing.postgres.ThrowawayPostgresExtension;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The PostgreSQL backend against the shared store contract: one real cluster, each store in a database of its own. */
class PostgresConversationStoreTest extends ConversationStoreContract {
  @RegisterExtension
  static final ThrowawayPostgresExtension POSTGRES = PostgresTestCluster.quieting(Level.WARNING);
  private static final AtomicInteger databases = new AtomicInteger();

  /** A new empty database on the test's cluster, and settings for it. */
  static PostgresSettings newDatabase(ThrowawayPostgres cluster, long maxHistoryBytes, long maxConversationsPerTenant) {
    String name = "store_" + databases.incrementAndGet();
    cluster.createDatabase(name);
    return new PostgresSettings(cluster.url(name), Optional.empty(), Optional.empty(), 4, Duration.ofSeconds(5),
        Duration.ofSeconds(30), maxHistoryBytes, maxConversationsPerTenant);
  }

  @Override
  protected ConversationStore newStore(long maxHistoryBytes) {
    return PostgresConversationStore.open(newDatabase(POSTGRES.cluster(), maxHistoryBytes, Long.MAX_VALUE));
  }

  @Override
  protected ConversationStore newStoreWithConversationLimit(long maxConversationsPerTenant) {
    return PostgresConversationStore.open(newDatabase(POSTGRES.cluster(), DEFAULT_LIMIT, maxConversationsPerTenant));
  }

  @Override
  protected ConversationStore newStoreWithRetention(Retention retention) {
    return PostgresConversationStore.open(newDatabase(POSTGRES.cluster(), DEFAULT_LIMIT, Long.MAX_VALUE)
        .withRetention(retention));
  }

  @Override
  protected Optional<ConversationStore> reopen(ConversationStore store) {
    PostgresSettings settings = ((PostgresConversationStore) store).settings();
    store.close();
    return Optional.of(PostgresConversationStore.open(settings));
  }
}

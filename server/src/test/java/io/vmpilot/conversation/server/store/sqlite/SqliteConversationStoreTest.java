package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.Retention;
import io.vmpilot.conversation.server.store.ConversationStoreContract;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite backend against the shared store contract, each store in a file of its own. */
class SqliteConversationStoreTest extends ConversationStoreContract {
  @TempDir
  Path dir;

  private final AtomicInteger files = new AtomicInteger();

  static SqliteSettings settings(Path file, long maxHistoryBytes) {
    return new SqliteSettings(file, Durability.FULL, 5000, 4, 256, maxHistoryBytes);
  }

  @Override
  protected ConversationStore newStore(long maxHistoryBytes) {
    return SqliteConversationStore.open(settings(dir.resolve("store-" + files.incrementAndGet() + ".db"),
        maxHistoryBytes));
  }

  @Override
  protected ConversationStore newStoreWithConversationLimit(long maxConversationsPerTenant) {
    return SqliteConversationStore.open(new SqliteSettings(dir.resolve("store-" + files.incrementAndGet() + ".db"),
        Durability.FULL, 5000, 4, 256, DEFAULT_LIMIT, maxConversationsPerTenant));
  }

  @Override
  protected ConversationStore newStoreWithRetention(Retention retention) {
    return SqliteConversationStore.open(settings(dir.resolve("store-" + files.incrementAndGet() + ".db"),
        DEFAULT_LIMIT).withRetention(retention));
  }

  @Override
  protected Optional<ConversationStore> reopen(ConversationStore store) {
    SqliteSettings settings = ((SqliteConversationStore) store).settings();
    store.close();
    return Optional.of(SqliteConversationStore.open(settings));
  }
}

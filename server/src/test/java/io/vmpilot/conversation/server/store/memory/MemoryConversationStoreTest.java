package io.vmpilot.conversation.server.store.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.ConversationStoreContract;
import io.vmpilot.conversation.server.store.StoreStats;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The memory backend against the shared store contract. */
class MemoryConversationStoreTest extends ConversationStoreContract {

  @Override
  protected ConversationStore newStore(long maxHistoryBytes) {
    return new MemoryConversationStore(maxHistoryBytes);
  }

  @Override
  protected ConversationStore newStoreWithConversationLimit(long maxConversationsPerTenant) {
    return new MemoryConversationStore(DEFAULT_LIMIT, maxConversationsPerTenant);
  }

  @Test
  void memoryStoreNeverSyncs() {
    store.save(saveCmd(key("a"), List.of(msg("a"))));
    StoreStats stats = store.stats();
    assertThat(stats.committedWrites()).isEqualTo(1);
    assertThat(stats.syncs()).isZero();
  }
}

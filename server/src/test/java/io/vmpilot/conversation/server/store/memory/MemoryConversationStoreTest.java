package io.vmpilot.conversation.server.store.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.store.ChangeEvent;
import io.vmpilot.conversation.server.store.ChangeQuery;
import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.Retention;
import io.vmpilot.conversation.server.store.ConversationStoreContract;
import io.vmpilot.conversation.server.store.StoreStats;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.error.ChangeLogPrunedException;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryConversationStoreTest extends ConversationStoreContract {

  @Override
  protected ConversationStore newStore(long maxHistoryBytes) {
    return new MemoryConversationStore(maxHistoryBytes);
  }

  @Override
  protected ConversationStore newStoreWithConversationLimit(long maxConversationsPerTenant) {
    return new MemoryConversationStore(DEFAULT_LIMIT, maxConversationsPerTenant);
  }

  @Override
  protected ConversationStore newStoreWithRetention(Retention retention) {
    return new MemoryConversationStore(DEFAULT_LIMIT, Long.MAX_VALUE, retention);
  }

  @Test
  void memoryStoreNeverSyncs() {
    store.save(saveCmd(key("a"), List.of(msg("a"))));
    StoreStats stats = store.stats();
    assertThat(stats.committedWrites()).isEqualTo(1);
    assertThat(stats.syncs()).isZero();
  }

  @Test
  void theChangeLogKeepsAtMostItsBoundAndReportsWhatItDroppedAsPruned() {
    MemoryConversationStore small = new MemoryConversationStore(DEFAULT_LIMIT, Long.MAX_VALUE,
        java.time.Clock.systemUTC(), 3);
    List<Long> versions = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      versions.add(small.append(appendCmd(key("bounded"), msg("m" + i))).version());
    }
    assertThat(small.changeFeed().changes(new ChangeQuery(ThreadKey.DEFAULT_TENANT, "bounded", versions.get(1), 10)))
        .extracting(ChangeEvent::version).containsExactly(versions.get(2), versions.get(3), versions.get(4));
    assertThatThrownBy(() -> small.changeFeed().changes(new ChangeQuery(ThreadKey.DEFAULT_TENANT, "bounded", 0, 10)))
        .isInstanceOf(ChangeLogPrunedException.class);
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.write.ConversationRow;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The writer's memory of the conversation rows it wrote or read last, so that a mutation need not look its row up
 * again (an agent turn is two mutations of the same row). Exact because the writer is the only one that changes
 * rows: the {@link GroupCommitWriter} clears it whenever a write is rolled back or another connection committed.
 * Used on the writer thread only; holds at most {@code capacity} rows, dropping the least recently used.
 */
final class ConversationRows {
  private final Map<ThreadKey, ConversationRow> rows;

  ConversationRows(int capacity) {
    this.rows = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<ThreadKey, ConversationRow> eldest) {
        return size() > capacity;
      }
    };
  }

  /** The row as last written or read, or null if not remembered (not that it does not exist). */
  ConversationRow get(ThreadKey key) {
    return rows.get(key);
  }

  void put(ConversationRow row) {
    rows.put(row.key(), row);
  }

  void remove(ThreadKey key) {
    rows.remove(key);
  }

  void clear() {
    rows.clear();
  }
}

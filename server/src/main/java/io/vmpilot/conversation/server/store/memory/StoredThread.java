package io.vmpilot.conversation.server.store.memory;

import io.vmpilot.conversation.server.store.ConversationSummary;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.write.ConversationRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One conversation as the memory backend holds it, changed in place under the store's lock. Its version, update
 * time and expire time place it in {@link ConversationIndexes}: they change only through
 * {@link ConversationIndexes#move}, and its message count and history bytes only together with
 * {@link ConversationIndexes#messagesChanged}, so that the indexes and totals never disagree with it.
 */
final class StoredThread {
  final ThreadKey key;
  final Instant createTime;
  final List<StoredMessage> messages = new ArrayList<>();
  final Set<String> ids = new HashSet<>();
  final Map<String, Long> cacheInfo = new HashMap<>();
  final Map<String, String> metadata = new HashMap<>();
  long historyBytes;
  /** This conversation's share of the store's budget estimate. */
  long cost;
  /** The part of {@link #cost} that is its metadata, which each change-log entry of it holds a copy of. */
  long metadataCost;
  long version;
  Instant updateTime;
  /** The conversation's own expire time, or null. */
  Instant expireTime;

  StoredThread(ThreadKey key, Instant now) {
    this.key = key;
    this.createTime = now;
    this.updateTime = now;
  }

  ConversationRow row() {
    return new ConversationRow(0, key, version, messages.size(), historyBytes, updateTime, expireTime);
  }

  ConversationSummary summary() {
    return new ConversationSummary(
        key, messages.size(), historyBytes, cacheInfo, metadata, version, createTime, updateTime, expireTime);
  }
}

package io.vmpilot.conversation.server.store;

import java.time.Instant;
import java.util.Map;

/**
 * Everything about a conversation except its messages. Maps are immutable.
 *
 * @param expireTime the conversation's own expire time, set by a write or an import; null when it has none (it may
 *     still expire by {@code [retention] max_idle})
 */
public record ConversationSummary(
    ThreadKey key,
    long messageCount,
    long historyBytes,
    Map<String, Long> cacheInfo,
    Map<String, String> metadata,
    long version,
    Instant createTime,
    Instant updateTime,
    Instant expireTime) {

  public ConversationSummary {
    cacheInfo = Map.copyOf(cacheInfo);
    metadata = Map.copyOf(metadata);
  }
}

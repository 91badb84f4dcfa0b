package io.vmpilot.conversation.server.store;

import java.time.Instant;
import java.util.Map;

/** Everything about a conversation except its messages. Maps are immutable. */
public record ConversationSummary(
    ThreadKey key,
    long messageCount,
    long historyBytes,
    Map<String, Long> cacheInfo,
    Map<String, String> metadata,
    long version,
    Instant createTime,
    Instant updateTime) {

  public ConversationSummary {
    cacheInfo = Map.copyOf(cacheInfo);
    metadata = Map.copyOf(metadata);
  }
}

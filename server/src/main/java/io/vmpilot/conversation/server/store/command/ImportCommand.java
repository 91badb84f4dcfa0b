package io.vmpilot.conversation.server.store.command;

import io.vmpilot.conversation.server.store.ImportedMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Store a conversation exactly as a dump holds it: messages with their create times, counters, metadata and the
 * conversation's own times, its expire time among them (null: none; the version is the importing store's). Message ids that are set are unique (the service
 * layer checks).
 */
public record ImportCommand(
    ThreadKey key,
    List<ImportedMessage> messages,
    Map<String, Long> cacheInfo,
    Map<String, String> metadata,
    Instant createTime,
    Instant updateTime,
    Instant expireTime,
    ExistingPolicy onExisting) {

  public ImportCommand {
    messages = List.copyOf(messages);
    cacheInfo = Map.copyOf(cacheInfo);
    metadata = Map.copyOf(metadata);
  }
}

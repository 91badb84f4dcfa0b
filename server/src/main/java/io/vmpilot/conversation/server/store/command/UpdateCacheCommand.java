package io.vmpilot.conversation.server.store.command;

import io.vmpilot.conversation.server.store.ThreadKey;
import java.util.Map;
import java.util.OptionalLong;

/** Replace an existing conversation's cache counters with {@code cacheInfo} (all of them: unnamed ones go). */
public record UpdateCacheCommand(ThreadKey key, Map<String, Long> cacheInfo, OptionalLong expectedVersion) {
  public UpdateCacheCommand {
    cacheInfo = Map.copyOf(cacheInfo);
  }
}

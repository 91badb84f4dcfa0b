package io.vmpilot.conversation.server.store.command;

import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Add messages at the end of a conversation (creating it if needed), skipping ids already stored, and set the
 * {@code cacheInfo} counters given (the others kept, as a Save merges them), in the same transaction: an agent's
 * turn in one write.
 */
public record AppendCommand(ThreadKey key, List<NewMessage> messages, Map<String, Long> cacheInfo,
    OptionalLong expectedVersion) {
  public AppendCommand {
    messages = List.copyOf(messages);
    cacheInfo = Map.copyOf(cacheInfo);
  }

  /** An Append that leaves the counters as they are. */
  public AppendCommand(ThreadKey key, List<NewMessage> messages, OptionalLong expectedVersion) {
    this(key, messages, Map.of(), expectedVersion);
  }
}

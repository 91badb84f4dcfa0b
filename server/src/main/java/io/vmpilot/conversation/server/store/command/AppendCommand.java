package io.vmpilot.conversation.server.store.command;

import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Add messages at the end of a conversation (creating it if needed), skipping ids already stored, and set the
 * {@code cacheInfo} counters given (the others kept, as a Save merges them), in the same transaction: an agent's
 * turn in one write. Changes the conversation's expire time as {@code expiry} says (not on a replay, which changes
 * nothing).
 */
public record AppendCommand(ThreadKey key, List<NewMessage> messages, Map<String, Long> cacheInfo,
    OptionalLong expectedVersion, ExpiryChange expiry) {
  public AppendCommand {
    Objects.requireNonNull(expiry, "expiry");
    messages = List.copyOf(messages);
    cacheInfo = Map.copyOf(cacheInfo);
  }

  /** An Append that leaves the counters and the expire time as they are. */
  public AppendCommand(ThreadKey key, List<NewMessage> messages, OptionalLong expectedVersion) {
    this(key, messages, Map.of(), expectedVersion, ExpiryChange.KEEP);
  }

  /** An Append that leaves the expire time as it is. */
  public AppendCommand(ThreadKey key, List<NewMessage> messages, Map<String, Long> cacheInfo,
      OptionalLong expectedVersion) {
    this(key, messages, cacheInfo, expectedVersion, ExpiryChange.KEEP);
  }

  /** An Append that leaves the counters as they are. */
  public AppendCommand(ThreadKey key, List<NewMessage> messages, OptionalLong expectedVersion, ExpiryChange expiry) {
    this(key, messages, Map.of(), expectedVersion, expiry);
  }
}

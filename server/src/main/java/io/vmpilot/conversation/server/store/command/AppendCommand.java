package io.vmpilot.conversation.server.store.command;

import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Add messages at the end of a conversation (creating it if needed), skipping ids already stored; change its
 * expire time as {@code expiry} says (not on a replay, which changes nothing).
 */
public record AppendCommand(ThreadKey key, List<NewMessage> messages, OptionalLong expectedVersion,
    ExpiryChange expiry) {
  /** An Append that leaves the conversation's expire time as it is. */
  public AppendCommand(ThreadKey key, List<NewMessage> messages, OptionalLong expectedVersion) {
    this(key, messages, expectedVersion, ExpiryChange.KEEP);
  }

  public AppendCommand {
    Objects.requireNonNull(expiry, "expiry");
    messages = List.copyOf(messages);
  }
}

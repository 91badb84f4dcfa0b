package io.vmpilot.conversation.server.store;

import java.time.Instant;
import java.util.List;

/**
 * One entry of the change log: a committed mutation of a conversation.
 *
 * @param version the conversation's version after the change (for {@link ChangeKind#CLEARED}, the version the
 *     deletion took); within a tenant, entries are in commit order and their versions increase
 * @param firstPosition where {@code messages} start in the history (APPENDED, REPLACED); the history's length
 *     before the change for the other kinds
 * @param messageCount the history's length after the change (0 once cleared)
 * @param messages the messages written by the change, at {@code firstPosition} onward (empty for the other kinds)
 * @param commitTime when the change was made
 */
public record ChangeEvent(ThreadKey key, long version, ChangeKind kind, long firstPosition, long messageCount,
    List<StoredMessage> messages, Instant commitTime) {
  public ChangeEvent {
    messages = List.copyOf(messages);
  }
}

package io.vmpilot.conversation.server.store.write;

import io.vmpilot.conversation.server.store.ThreadKey;

/**
 * A conversation's row as the write rules need it: everything a mutation checks or changes except the messages,
 * metadata and counters themselves.
 *
 * @param id the backend's own key for the row (a row id; unused by backends that key by {@code key})
 * @param version 0 only for a row created in this transaction and not yet updated
 * @param historyBytes the UTF-8 bytes of all its messages, which the history limit counts
 */
public record ConversationRow(long id, ThreadKey key, long version, long messageCount, long historyBytes) {
  /** This row after a mutation that gave it {@code newVersion} and these sizes. */
  public ConversationRow next(long newVersion, long newMessageCount, long newHistoryBytes) {
    return new ConversationRow(id, key, newVersion, newMessageCount, newHistoryBytes);
  }
}

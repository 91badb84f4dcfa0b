package io.vmpilot.conversation.server.store.write;

import io.vmpilot.conversation.server.store.ThreadKey;
import java.time.Instant;

/**
 * A conversation's row as the write rules need it: everything a mutation checks or changes except the messages,
 * metadata and counters themselves.
 *
 * @param id the backend's own key for the row (a row id; unused by backends that key by {@code key})
 * @param version 0 only for a row created in this transaction and not yet updated
 * @param historyBytes the UTF-8 bytes of all its messages, which the history limit counts
 * @param updateTime when it was last updated: with {@code expireTime}, what says whether it has expired
 *     ({@link io.vmpilot.conversation.server.store.Retention}), in which case a write treats it as absent
 * @param expireTime when it expires whatever its updates, or null when it does not
 */
public record ConversationRow(long id, ThreadKey key, long version, long messageCount, long historyBytes,
    Instant updateTime, Instant expireTime) {
  /** This row after a mutation at {@code now} that gave it {@code newVersion} and these sizes. */
  public ConversationRow next(long newVersion, long newMessageCount, long newHistoryBytes, Instant now) {
    return new ConversationRow(id, key, newVersion, newMessageCount, newHistoryBytes, now, expireTime);
  }

  /** This row at another version. */
  public ConversationRow withVersion(long newVersion) {
    return new ConversationRow(id, key, newVersion, messageCount, historyBytes, updateTime, expireTime);
  }

  /** This row with another expire time (null: none). */
  public ConversationRow withExpireTime(Instant newExpireTime) {
    return new ConversationRow(id, key, version, messageCount, historyBytes, updateTime, newExpireTime);
  }
}

package io.vmpilot.conversation.server.store.write;

import io.vmpilot.conversation.server.store.ChangeKind;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A change-log entry as the write rules hand it to {@link StorageTransaction#logChange}; its fields mean what
 * those of {@link io.vmpilot.conversation.server.store.ChangeEvent} of the same names mean. The metadata after the
 * change is not here: the backend records the conversation's metadata as it is when the entry is logged.
 *
 * @param metadataBefore the metadata before a change that may have changed it, else null
 */
public record LoggedChange(ThreadKey key, long version, ChangeKind kind, long firstPosition, long messageCount,
    List<NewMessage> messages, Instant commitTime, Map<String, String> metadataBefore) {
  /** An entry of a change that left the metadata as it was. */
  public LoggedChange(ThreadKey key, long version, ChangeKind kind, long firstPosition, long messageCount,
      List<NewMessage> messages, Instant commitTime) {
    this(key, version, kind, firstPosition, messageCount, messages, commitTime, null);
  }

  /** This entry at another version. */
  public LoggedChange withVersion(long newVersion) {
    return new LoggedChange(key, newVersion, kind, firstPosition, messageCount, messages, commitTime, metadataBefore);
  }
}

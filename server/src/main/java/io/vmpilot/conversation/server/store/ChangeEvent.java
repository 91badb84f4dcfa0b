package io.vmpilot.conversation.server.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;

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
 * @param metadata the conversation's metadata right after the change (for CLEARED, what it had when deleted): what
 *     a watcher's metadata filter is matched against, as it was then, so that a resumed watch selects the same
 *     entries as the first one did
 * @param metadataBefore its metadata right before the change, for a change that may have changed it (a Save that
 *     set keys, an UpdateMetadata, an Import that replaced a conversation); null when the change left it as it was
 */
public record ChangeEvent(ThreadKey key, long version, ChangeKind kind, long firstPosition, long messageCount,
    List<StoredMessage> messages, Instant commitTime, Map<String, String> metadata,
    Map<String, String> metadataBefore) {
  public ChangeEvent {
    messages = List.copyOf(messages);
    metadata = Map.copyOf(metadata);
    metadataBefore = metadataBefore == null ? null : Map.copyOf(metadataBefore);
  }

  /**
   * Whether a watcher with this metadata filter gets the entry: the conversation matched it after the change, or
   * before it (the change by which a conversation stops matching is the last one such a watcher gets of it).
   */
  public boolean selectedBy(Map<String, String> filter) {
    return MetadataFilter.matches(filter, metadata)
        || (metadataBefore != null && MetadataFilter.matches(filter, metadataBefore));
  }

  /** Whether this change made the conversation stop matching {@code filter} (never for an empty filter). */
  public boolean leaves(Map<String, String> filter) {
    return metadataBefore != null && MetadataFilter.matches(filter, metadataBefore)
        && !MetadataFilter.matches(filter, metadata);
  }
}

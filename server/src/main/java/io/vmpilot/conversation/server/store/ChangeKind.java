package io.vmpilot.conversation.server.store;

/** What a change to a conversation did, as its change-log entry records it (see {@link ChangeEvent}). */
public enum ChangeKind {
  /** Messages were added at the end of the history (an Append, or a Save that only extended it or created it). */
  APPENDED,
  /** A Save rewrote the history from {@link ChangeEvent#firstPosition()} on (earlier messages are unchanged). */
  REPLACED,
  /** An UpdateCache replaced the cache info. */
  CACHE_UPDATED,
  /** No message changed; cache info or metadata entries may have (a Save, an UpdateMetadata). */
  METADATA_UPDATED,
  /** The conversation was deleted (Clear). */
  CLEARED,
  /**
   * The conversation was written whole at once, without its messages in the entry: a Fork's new copy (whose
   * messages the database copied without reading them out), an Import's created or replaced record.
   */
  REWRITTEN;

  /** The stable number stored in the change log for this kind (never reuse one). */
  public int code() {
    return ordinal() + 1;
  }

  public static ChangeKind ofCode(int code) {
    ChangeKind[] all = values();
    if (code < 1 || code > all.length) {
      throw new IllegalArgumentException("unknown change kind " + code);
    }
    return all[code - 1];
  }
}

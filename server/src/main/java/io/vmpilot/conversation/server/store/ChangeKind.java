package io.vmpilot.conversation.server.store;

/** What a change to a conversation did, as its change-log entry records it (see {@link ChangeEvent}). */
public enum ChangeKind {
  /** Messages were added at the end of the history (an Append, or a Save that only extended it or created it). */
  APPENDED,
  /** A Save rewrote the history from {@link ChangeEvent#firstPosition()} on (earlier messages are unchanged). */
  REPLACED,
  /** An UpdateCache replaced the cache info. */
  CACHE_UPDATED,
  /** A Save changed neither message but may have set cache info or metadata entries. */
  METADATA_UPDATED,
  /** The conversation was deleted (Clear). */
  CLEARED;

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

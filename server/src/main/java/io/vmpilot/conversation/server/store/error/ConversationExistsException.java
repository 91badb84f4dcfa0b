package io.vmpilot.conversation.server.store.error;

import io.vmpilot.conversation.server.store.ThreadKey;

/**
 * A write that must not overwrite met a stored conversation: a Fork's target exists, or an import's record differs
 * from the stored conversation and its policy said fail.
 */
public final class ConversationExistsException extends StoreException {
  private final ThreadKey key;

  /** {@code why} ends the message: "conversation already exists: THREAD (WHY)". */
  public ConversationExistsException(ThreadKey key, String why) {
    super("conversation already exists: " + key.threadId() + " (" + why + ")", null);
    this.key = key;
  }

  public ThreadKey key() {
    return key;
  }
}

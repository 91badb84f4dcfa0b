package io.vmpilot.conversation.server.store.error;

import io.vmpilot.conversation.server.store.ThreadKey;

/** A Fork's target already exists (a fork never overwrites a conversation). */
public final class ConversationExistsException extends StoreException {
  private final ThreadKey key;

  public ConversationExistsException(ThreadKey key) {
    super("conversation already exists: " + key.threadId(), null);
    this.key = key;
  }

  public ThreadKey key() {
    return key;
  }
}

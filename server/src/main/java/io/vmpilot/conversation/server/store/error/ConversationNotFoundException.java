package io.vmpilot.conversation.server.store.error;

import io.vmpilot.conversation.server.store.ThreadKey;
/** The operation needs an existing conversation and there is none. */
public final class ConversationNotFoundException extends StoreException {
  private final ThreadKey key;

  public ConversationNotFoundException(ThreadKey key) {
    super("conversation not found: " + key.threadId(), null);
    this.key = key;
  }

  public ThreadKey key() {
    return key;
  }
}

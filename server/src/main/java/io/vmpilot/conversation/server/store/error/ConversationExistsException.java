package io.vmpilot.conversation.server.store.error;

import io.vmpilot.conversation.server.store.ThreadKey;

/** An import met a stored conversation that differs from its record, and its policy said fail. */
public final class ConversationExistsException extends StoreException {
  private final ThreadKey key;

  public ConversationExistsException(ThreadKey key) {
    super("conversation exists and differs from the record: " + key.threadId(), null);
    this.key = key;
  }

  public ThreadKey key() {
    return key;
  }
}

package io.vmpilot.conversation.server.store;

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

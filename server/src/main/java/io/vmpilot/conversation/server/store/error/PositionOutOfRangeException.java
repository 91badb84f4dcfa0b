package io.vmpilot.conversation.server.store.error;

import io.vmpilot.conversation.server.store.ThreadKey;

/** A position beyond the end of the conversation's history (a Fork's end_position). */
public final class PositionOutOfRangeException extends StoreException {
  private final ThreadKey key;
  private final long position;
  private final long messageCount;

  public PositionOutOfRangeException(ThreadKey key, long position, long messageCount) {
    super("position " + position + " is beyond the end of " + key.threadId() + ", which has " + messageCount
        + " messages", null);
    this.key = key;
    this.position = position;
    this.messageCount = messageCount;
  }

  public ThreadKey key() {
    return key;
  }

  public long position() {
    return position;
  }

  public long messageCount() {
    return messageCount;
  }
}

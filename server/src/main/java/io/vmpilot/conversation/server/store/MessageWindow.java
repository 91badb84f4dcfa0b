package io.vmpilot.conversation.server.store;

/**
 * Which messages a read returns: those at or after {@code startPosition}, and of those only the newest
 * {@code maxMessages} when it is positive.
 */
public record MessageWindow(long startPosition, int maxMessages) {
  public static final MessageWindow ALL = new MessageWindow(0, 0);
  public static final MessageWindow NONE = new MessageWindow(Long.MAX_VALUE, 0);

  public MessageWindow {
    if (startPosition < 0 || maxMessages < 0) {
      throw new IllegalArgumentException("negative window: " + startPosition + ", " + maxMessages);
    }
  }

  /** The first position to read in a history of {@code messageCount} messages. */
  public long firstPosition(long messageCount) {
    long first = startPosition;
    if (maxMessages > 0) {
      first = Math.max(first, messageCount - maxMessages);
    }
    return Math.min(first, messageCount);
  }
}

package io.vmpilot.conversation.server.grpc;

/**
 * A stored message whose bytes are not UTF-8, so that it cannot be sent as the string the contract promises. The
 * server only ever stores valid UTF-8; such bytes come from a database file changed outside it. Answered with
 * DATA_LOSS rather than with the text altered (replacement characters), which would break "byte for byte" silently.
 */
final class CorruptStoredMessageException extends RuntimeException {
  private final long position;

  CorruptStoredMessageException(String threadId, long position, Throwable cause) {
    super("stored message " + position + " of thread " + threadId
        + " is not valid UTF-8 (the database file was changed outside the server)", cause);
    this.position = position;
  }

  long position() {
    return position;
  }
}

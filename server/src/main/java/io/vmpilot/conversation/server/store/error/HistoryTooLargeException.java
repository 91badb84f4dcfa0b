package io.vmpilot.conversation.server.store.error;

import io.vmpilot.conversation.server.store.ThreadKey;
/** The write would make the conversation's history bigger than the configured limit. */
public final class HistoryTooLargeException extends StoreException {
  private final long limitBytes;
  private final long resultingBytes;

  public HistoryTooLargeException(ThreadKey key, long limitBytes, long resultingBytes) {
    super("history of " + key.threadId() + " would be " + resultingBytes + " bytes, over the limit of "
        + limitBytes, null);
    this.limitBytes = limitBytes;
    this.resultingBytes = resultingBytes;
  }

  public long limitBytes() {
    return limitBytes;
  }

  public long resultingBytes() {
    return resultingBytes;
  }
}

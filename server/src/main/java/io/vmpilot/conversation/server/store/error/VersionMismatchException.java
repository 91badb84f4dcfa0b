package io.vmpilot.conversation.server.store.error;

import io.vmpilot.conversation.server.store.ThreadKey;
/** An expected version was given and the conversation is at another one (0 when it does not exist). */
public final class VersionMismatchException extends StoreException {
  private final long expectedVersion;
  private final long currentVersion;

  public VersionMismatchException(ThreadKey key, long expectedVersion, long currentVersion) {
    super("conversation " + key.threadId() + " is at version " + currentVersion + ", not " + expectedVersion, null);
    this.expectedVersion = expectedVersion;
    this.currentVersion = currentVersion;
  }

  public long expectedVersion() {
    return expectedVersion;
  }

  public long currentVersion() {
    return currentVersion;
  }
}

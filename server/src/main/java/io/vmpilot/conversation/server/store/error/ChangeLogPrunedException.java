package io.vmpilot.conversation.server.store.error;

/**
 * Changes after the version a reader asked for are no longer all in the change log: entries up to
 * {@code prunedThroughVersion} were deleted when they left the retention window. The reader must read the
 * current state again (Get, List) and watch from there.
 */
public final class ChangeLogPrunedException extends StoreException {
  private final long afterVersion;
  private final long prunedThroughVersion;

  public ChangeLogPrunedException(long afterVersion, long prunedThroughVersion) {
    super("the change log no longer holds every change after version " + afterVersion
        + " (pruned through version " + prunedThroughVersion + "); read the conversations again and watch from"
        + " the version read", null);
    this.afterVersion = afterVersion;
    this.prunedThroughVersion = prunedThroughVersion;
  }

  public long afterVersion() {
    return afterVersion;
  }

  public long prunedThroughVersion() {
    return prunedThroughVersion;
  }
}

package io.vmpilot.conversation.server.grpc;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * What the metrics endpoint tells of Watch: streams open, events sent, and streams the server ended, by why. A
 * stream the client cancels is not cut off. Writers never touch these; only the watchers' sending threads do.
 */
public final class WatchStats {
  /** Why the server ended a Watch stream; the names are the ErrorInfo reasons sent, except {@link #ERROR}. */
  public enum CutOff {
    /** The watcher fell more than [watch] max_lag_events behind (RESOURCE_EXHAUSTED). */
    WATCHER_TOO_SLOW,
    /** The server is stopping (UNAVAILABLE). */
    SERVER_SHUTTING_DOWN,
    /** The changes after its start_version have left the change log (OUT_OF_RANGE). */
    CHANGE_LOG_PRUNED,
    /** Any other status: the store failed or could not be reached, the executor refused the work. */
    ERROR
  }

  private final IntSupplier open;
  private final LongAdder eventsSent = new LongAdder();
  private final Map<CutOff, LongAdder> cutOffs = new EnumMap<>(CutOff.class);

  WatchStats(IntSupplier open) {
    this.open = open;
    for (CutOff reason : CutOff.values()) {
      cutOffs.put(reason, new LongAdder());
    }
  }

  /** Watch streams open now. */
  public int open() {
    return open.getAsInt();
  }

  /** Events sent since the server started, on every stream. */
  public long eventsSent() {
    return eventsSent.sum();
  }

  /** Streams the server ended for {@code reason} since it started. */
  public long cutOff(CutOff reason) {
    return cutOffs.get(reason).sum();
  }

  void sent() {
    eventsSent.increment();
  }

  void cutOffFor(CutOff reason) {
    cutOffs.get(reason).increment();
  }
}

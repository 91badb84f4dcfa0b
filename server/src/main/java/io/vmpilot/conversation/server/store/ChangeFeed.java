package io.vmpilot.conversation.server.store;

import io.vmpilot.conversation.server.store.error.ChangeLogPrunedException;
import java.time.Instant;
import java.util.List;

/**
 * A store's change log, written in the same transaction as each mutation, and the signal that new entries were
 * committed: what Watch streams from. Entries older than the retention window are pruned; a reader asking for
 * changes after a version whose successors may have been pruned gets {@link ChangeLogPrunedException} rather than
 * a gap.
 */
public interface ChangeFeed {
  /**
   * The entries {@code query} asks for, oldest first.
   *
   * @throws ChangeLogPrunedException when entries of the tenant with versions above {@code query.afterVersion()}
   *     have been pruned
   */
  List<ChangeEvent> changes(ChangeQuery query);

  /**
   * Calls {@code listener} after each commit that logged a change of one of {@code tenant}'s conversations (made
   * by this server, or on a shared database by any server), from a thread of the store's, which the listener must not hold up. A signal
   * may come more than once or for a change the caller already read: it only says "read the log again".
   */
  Subscription subscribe(String tenant, ChangeListener listener);

  /**
   * Deletes up to {@code maxEntries} of the oldest entries committed before {@code olderThan}, in one short
   * transaction; returns how many it deleted (fewer than {@code maxEntries}: nothing older is left).
   */
  int prune(Instant olderThan, int maxEntries);

  /** Receives the commit signals. */
  @FunctionalInterface
  interface ChangeListener {
    void changed(ThreadKey key);
  }

  /** Stops the signals to one listener. */
  interface Subscription extends AutoCloseable {
    @Override
    void close();
  }
}

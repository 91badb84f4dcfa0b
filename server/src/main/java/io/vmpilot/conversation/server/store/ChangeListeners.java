package io.vmpilot.conversation.server.store;

import java.util.concurrent.CopyOnWriteArrayList;

/** The listeners of a {@link ChangeFeed} and the signal to all of them; thread-safe. */
public final class ChangeListeners {
  private record Entry(String tenant, ChangeFeed.ChangeListener listener) {}

  private final CopyOnWriteArrayList<Entry> listeners = new CopyOnWriteArrayList<>();

  /** Signals {@code listener} of the changes of {@code tenant}'s conversations. */
  public ChangeFeed.Subscription add(String tenant, ChangeFeed.ChangeListener listener) {
    Entry e = new Entry(tenant, listener);
    listeners.add(e);
    return () -> listeners.remove(e);
  }

  /** Signals every listener of the key's tenant; one that throws does not keep the signal from the others. */
  public void changed(ThreadKey key) {
    for (Entry e : listeners) {
      if (!e.tenant().equals(key.tenant())) {
        continue;
      }
      try {
        e.listener().changed(key);
      } catch (RuntimeException fault) {
        // A listener's fault is its own (a watcher's call already gone); the commit it reports stands.
      }
    }
  }

  public boolean isEmpty() {
    return listeners.isEmpty();
  }
}

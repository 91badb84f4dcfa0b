package io.vmpilot.conversation.server.store.postgres;

import io.vmpilot.conversation.server.store.ChangeFeed;
import io.vmpilot.conversation.server.store.ChangeListeners;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.threads.DaemonThreads;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Signals the changes that any server on the database commits, by polling the change log every
 * {@link #POLL_MILLIS} for the tenants someone on this server watches: one indexed query per poll for all of them,
 * and none while nobody watches. A change is signalled at most one poll interval (plus the query) after its commit.
 * Polling rather than LISTEN/NOTIFY: a NOTIFY in a write's transaction would make every commit of the database take
 * one global lock.
 */
final class PostgresChangePoller implements AutoCloseable {
  static final long POLL_MILLIS = 100;
  /** Entries signalled per tenant and poll; the rest come with the next poll. */
  private static final int PER_POLL = 1000;
  private static final Logger LOG = Logger.getLogger(PostgresChangePoller.class.getName());

  private final PostgresTransactions transactions;
  private final ChangeListeners listeners = new ChangeListeners();
  /** Per watched tenant, the newest version signalled, and how many subscriptions want it. */
  private final Map<String, long[]> tenants = new HashMap<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      DaemonThreads.named("postgres-change-poller"));

  PostgresChangePoller(PostgresTransactions transactions) {
    this.transactions = transactions;
    timer.scheduleWithFixedDelay(this::pollQuietly, POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** Starts at the tenant's newest entry now, so that every later commit is signalled. */
  ChangeFeed.Subscription subscribe(String tenant, ChangeFeed.ChangeListener listener) {
    long newest = transactions.read(c -> PostgresChangeLog.newestVersion(c, tenant));
    synchronized (tenants) {
      long[] state = tenants.get(tenant);
      if (state == null) {
        tenants.put(tenant, new long[] {newest, 1});
      } else {
        state[0] = Math.min(state[0], newest);
        state[1]++;
      }
    }
    ChangeFeed.Subscription inner = listeners.add(tenant, listener);
    return () -> {
      inner.close();
      synchronized (tenants) {
        long[] state = tenants.get(tenant);
        if (state != null && --state[1] == 0) {
          tenants.remove(tenant);
        }
      }
    };
  }

  private void pollQuietly() {
    try {
      poll();
    } catch (RuntimeException e) {
      // The next poll tries again; a watcher meanwhile waits, and misses nothing (it reads the log itself).
      LOG.log(Level.FINE, "polling the change log failed", e);
    }
  }

  void poll() {
    List<String> names = new ArrayList<>();
    List<Long> after = new ArrayList<>();
    synchronized (tenants) {
      for (Map.Entry<String, long[]> e : tenants.entrySet()) {
        names.add(e.getKey());
        after.add(e.getValue()[0]);
      }
    }
    if (names.isEmpty()) {
      return;
    }
    Map<String, Long> newest = new HashMap<>();
    List<ThreadKey> changed = transactions.read(c -> {
      Array tenantArray = c.createArrayOf("text", names.toArray());
      Array afterArray = c.createArrayOf("bigint", after.toArray());
      try (PreparedStatement st = c.prepareStatement(
          "SELECT w.tenant, l.thread_id, l.version FROM unnest(?::text[], ?::bigint[]) AS w (tenant, after)"
              + " CROSS JOIN LATERAL (SELECT thread_id, version FROM change_log"
              + " WHERE tenant = w.tenant AND version > w.after ORDER BY version LIMIT ?) AS l")) {
        st.setArray(1, tenantArray);
        st.setArray(2, afterArray);
        st.setInt(3, PER_POLL);
        List<ThreadKey> keys = new ArrayList<>();
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            keys.add(new ThreadKey(rs.getString(1), rs.getString(2)));
            newest.merge(rs.getString(1), rs.getLong(3), Math::max);
          }
        }
        return keys;
      } finally {
        tenantArray.free();
        afterArray.free();
      }
    });
    synchronized (tenants) {
      for (Map.Entry<String, Long> e : newest.entrySet()) {
        long[] state = tenants.get(e.getKey());
        if (state != null) {
          state[0] = Math.max(state[0], e.getValue());
        }
      }
    }
    for (ThreadKey key : changed) {
      listeners.changed(key);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}

package io.vmpilot.conversation.server.store.memory;

import io.vmpilot.conversation.server.store.ExportQuery;
import io.vmpilot.conversation.server.store.TenantScope;
import io.vmpilot.conversation.server.store.ThreadKey;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What the SQL backends' indexes and {@code tenants} rows give them, for the memory backend: its conversations in
 * the orders that List, the retention sweeps and GetServerStatus read them in, and running totals per tenant and
 * for the store. With them those calls cost what they return, not what the store holds: each runs under the
 * store's one lock, so a scan of every conversation there stalled every write for as long as it took.
 *
 * <p>Kept by the store's primitives under that lock ({@link #add}, {@link #remove}, {@link #move},
 * {@link #messagesChanged}); not thread-safe by itself.
 */
final class ConversationIndexes {
  /** Tenant, then thread id by code point: the export order, and the tie-break of every other order. */
  static final Comparator<ThreadKey> KEY_ORDER =
      Comparator.comparing(ThreadKey::tenant).thenComparing(ThreadKey::threadId, ExportQuery::compareThreadIds);

  /** A conversation's place in an order by time. */
  private record Timed(Instant time, ThreadKey key) {}

  /** A conversation's place in a tenant's order by version. */
  private record Versioned(long version, ThreadKey key) {}

  private static final Comparator<Timed> BY_TIME =
      Comparator.comparing(Timed::time).thenComparing(Timed::key, KEY_ORDER);
  private static final Comparator<Versioned> NEWEST_FIRST =
      Comparator.comparingLong(Versioned::version).reversed()
          .thenComparing(Versioned::key, Comparator.nullsFirst(KEY_ORDER));

  /** One tenant's totals and orders; gone with its last conversation. */
  private static final class Tenant {
    long conversations;
    long messages;
    final NavigableSet<Versioned> newestFirst = new TreeSet<>(NEWEST_FIRST);
    final NavigableSet<Timed> byUpdateTime = new TreeSet<>(BY_TIME);
  }

  private final Map<String, Tenant> tenants = new HashMap<>();
  private final NavigableSet<ThreadKey> byKey = new TreeSet<>(KEY_ORDER);
  /** Every tenant's conversations by update time, for the idle sweep of every tenant but some. */
  private final NavigableSet<Timed> byUpdateTime = new TreeSet<>(BY_TIME);
  /** The conversations that have an expire time of their own, by it. */
  private final NavigableSet<Timed> byExpireTime = new TreeSet<>(BY_TIME);
  private long conversations;
  private long messages;
  private long historyBytes;

  /** {@code t} joins the store, with the messages it holds. */
  void add(StoredThread t) {
    Tenant tenant = tenants.computeIfAbsent(t.key.tenant(), k -> new Tenant());
    tenant.conversations++;
    conversations++;
    place(tenant, t);
    byKey.add(t.key);
    totalsChanged(tenant, t.messages.size(), t.historyBytes);
  }

  /** {@code t} leaves the store, with the messages it holds. */
  void remove(StoredThread t) {
    Tenant tenant = tenants.get(t.key.tenant());
    totalsChanged(tenant, -t.messages.size(), -t.historyBytes);
    unplace(tenant, t);
    byKey.remove(t.key);
    conversations--;
    if (--tenant.conversations == 0) {
      tenants.remove(t.key.tenant());
    }
  }

  /** Gives {@code t}, which is in the store, a new version, update time and expire time (null: none). */
  void move(StoredThread t, long version, Instant updateTime, Instant expireTime) {
    Tenant tenant = tenants.get(t.key.tenant());
    unplace(tenant, t);
    t.version = version;
    t.updateTime = updateTime;
    t.expireTime = expireTime;
    place(tenant, t);
  }

  /**
   * {@code t}'s messages changed by {@code count} messages of {@code bytes} in all (negative: fewer): its own byte
   * total and the tenant's and store's totals follow.
   */
  void messagesChanged(StoredThread t, long count, long bytes) {
    t.historyBytes += bytes;
    totalsChanged(tenants.get(t.key.tenant()), count, bytes);
  }

  private void totalsChanged(Tenant tenant, long count, long bytes) {
    tenant.messages += count;
    messages += count;
    historyBytes += bytes;
  }

  private void place(Tenant tenant, StoredThread t) {
    orders(tenant, t, true);
  }

  private void unplace(Tenant tenant, StoredThread t) {
    orders(tenant, t, false);
  }

  /** Adds {@code t}'s entries to the orders, or takes them out, as its fields are now. */
  private void orders(Tenant tenant, StoredThread t, boolean add) {
    Timed updated = new Timed(t.updateTime, t.key);
    edit(tenant.byUpdateTime, updated, add);
    edit(byUpdateTime, updated, add);
    edit(tenant.newestFirst, new Versioned(t.version, t.key), add);
    if (t.expireTime != null) {
      edit(byExpireTime, new Timed(t.expireTime, t.key), add);
    }
  }

  private static <E> void edit(NavigableSet<E> order, E entry, boolean add) {
    if (add) {
      order.add(entry);
    } else {
      order.remove(entry);
    }
  }

  long conversations(String tenant) {
    Tenant t = tenants.get(tenant);
    return t == null ? 0 : t.conversations;
  }

  long messages(String tenant) {
    Tenant t = tenants.get(tenant);
    return t == null ? 0 : t.messages;
  }

  long conversations() {
    return conversations;
  }

  long messages() {
    return messages;
  }

  long historyBytes() {
    return historyBytes;
  }

  /** The tenant's conversations from those at versions below {@code beforeVersion}, newest first. */
  Stream<ThreadKey> newestFirst(String tenant, long beforeVersion) {
    Tenant t = tenants.get(tenant);
    if (t == null || beforeVersion == Long.MIN_VALUE) {
      return Stream.empty();
    }
    // A null key sorts before every key of its version: the tail from it is every version below beforeVersion.
    return t.newestFirst.tailSet(new Versioned(beforeVersion - 1, null), true).stream().map(Versioned::key);
  }

  /** Conversations of the tenants in {@code scope} last updated before {@code cutoff}, oldest first. */
  Stream<ThreadKey> updatedBefore(Instant cutoff, TenantScope scope) {
    NavigableSet<Timed> order;
    if (scope.only() != null) {
      Tenant t = tenants.get(scope.only());
      if (t == null) {
        return Stream.empty();
      }
      order = t.byUpdateTime;
    } else {
      order = byUpdateTime;
    }
    return order.stream()
        .takeWhile(e -> e.time().isBefore(cutoff))
        .map(Timed::key)
        .filter(k -> scope.includes(k.tenant()));
  }

  /** Conversations whose own expire time is {@code now} or earlier, soonest first. */
  Stream<ThreadKey> expiredAt(Instant now) {
    return byExpireTime.stream().takeWhile(e -> !e.time().isAfter(now)).map(Timed::key);
  }

  /** Every key in export order from {@code from} ({@code inclusive} or not). */
  NavigableSet<ThreadKey> keysFrom(ThreadKey from, boolean inclusive) {
    return byKey.tailSet(from, inclusive);
  }
}

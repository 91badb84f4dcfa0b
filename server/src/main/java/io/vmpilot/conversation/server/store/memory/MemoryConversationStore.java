package io.vmpilot.conversation.server.store.memory;

import io.vmpilot.conversation.server.store.TenantScope;
import io.vmpilot.conversation.server.store.AppendResult;
import io.vmpilot.conversation.server.store.Conversation;
import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.ConversationSummary;
import io.vmpilot.conversation.server.store.HistorySize;
import io.vmpilot.conversation.server.store.ForkResult;
import io.vmpilot.conversation.server.store.ExportQuery;
import io.vmpilot.conversation.server.store.ImportOutcome;
import io.vmpilot.conversation.server.store.JsonText;
import io.vmpilot.conversation.server.store.ListQuery;
import io.vmpilot.conversation.server.store.MetadataFilter;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.SaveResult;
import io.vmpilot.conversation.server.store.Retention;
import io.vmpilot.conversation.server.store.SearchHit;
import io.vmpilot.conversation.server.store.SearchQuery;
import io.vmpilot.conversation.server.store.SearchText;
import io.vmpilot.conversation.server.store.StoreStats;
import io.vmpilot.conversation.server.store.StoreStatus;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.ForkCommand;
import io.vmpilot.conversation.server.store.command.ImportCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import io.vmpilot.conversation.server.store.command.UpdateMetadataCommand;
import io.vmpilot.conversation.server.store.error.StorageFullException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.write.ConversationRow;
import io.vmpilot.conversation.server.store.write.CountersChange;
import io.vmpilot.conversation.server.store.write.StorageTransaction;
import io.vmpilot.conversation.server.store.write.StoreLimits;
import io.vmpilot.conversation.server.store.write.WriteRules;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import io.vmpilot.conversation.server.store.ChangeEvent;
import io.vmpilot.conversation.server.store.ChangeKind;
import io.vmpilot.conversation.server.store.ChangeFeed;
import io.vmpilot.conversation.server.store.ChangeListeners;
import io.vmpilot.conversation.server.store.ChangeQuery;
import io.vmpilot.conversation.server.store.error.ChangeLogPrunedException;
import io.vmpilot.conversation.server.store.write.LoggedChange;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Keeps conversations in this process's memory: fast, and gone on restart. One lock guards everything and is the
 * transaction the {@link WriteRules} run in, which keeps each operation atomic and the version counter simple;
 * operations are short, so it is not a bottleneck next to the network.
 *
 * <p>What it holds is counted against a budget ({@code [memory] max_bytes}), so that stored data cannot fill the
 * heap: once the heap is full the JVM fails anywhere (the network threads, the health check) and may not recover,
 * whereas a write refused for the budget is a {@link StorageFullException} like a full disk's, and a Clear makes
 * room. The count is an estimate of the heap each thing takes: a string's characters (1 byte each, 2 when one of
 * them is beyond Latin-1, as the JVM keeps strings) plus a fixed overhead per message, map entry, conversation and
 * change-log entry. The change log counts the messages and metadata it holds apart from the conversations: after a
 * Clear, or once a value is rewritten, it still holds them, until it prunes them.
 */
public final class MemoryConversationStore implements ConversationStore {
  private final WriteRules rules;
  private final Clock clock;
  private final Retention retention;
  private final Map<ThreadKey, StoredThread> threads = new HashMap<>();
  private final ConversationIndexes indexes = new ConversationIndexes();
  /** Each tenant's last version; an entry stays when the tenant's last conversation goes. */
  private final Map<String, Long> versionPerTenant = new HashMap<>();
  private final Storage storage = new Storage();
  /**
   * The most change-log entries kept in memory; older ones are pruned as the retention window would prune them (a
   * watcher resuming before them gets CHANGE_LOG_PRUNED). Without a bound the log, which holds the messages each
   * change wrote, grew by every write for the whole window (24 h by default) and the heap with it: under a steady
   * load the memory backend spent most of its CPU in the garbage collector (docs/benchmark.md).
   */
  public static final int DEFAULT_MAX_LOGGED_CHANGES = 100_000;

  /** The change log, oldest first (versions increase along it: one lock orders every write). */
  private final ArrayDeque<ChangeEvent> changeLog = new ArrayDeque<>();
  /**
   * The same entries by tenant and version, so that a watcher reads its tenant's entries after its version
   * without walking every tenant's log (up to {@link #DEFAULT_MAX_LOGGED_CHANGES} entries, under the lock).
   */
  private final Map<String, NavigableMap<Long, ChangeEvent>> changesPerTenant = new HashMap<>();
  private final int maxLoggedChanges;
  /** Per tenant, the highest version pruned from the change log. */
  private final Map<String, Long> prunedThrough = new HashMap<>();
  /** What each change-log entry costs, in the log's order. */
  private final ArrayDeque<Long> changeCosts = new ArrayDeque<>();
  private long changeLogBytes;
  private final ChangeListeners listeners = new ChangeListeners();

  /** Estimated heap per message beside its id's and JSON's characters (records, list slot, id index). */
  static final long MESSAGE_OVERHEAD = 200;
  /** Per metadata entry or cache counter, beside the characters of its key and value (hash-map node, boxes). */
  static final long ENTRY_OVERHEAD = 100;
  /**
   * Per conversation, beside its thread id's and tenant's characters (its record, maps, the entries of
   * {@link ConversationIndexes}): an empty conversation takes about 630 bytes of heap with its indexes.
   */
  static final long CONVERSATION_OVERHEAD = 800;
  /** Per change-log entry, beside the messages it holds (its record, its slots in the log and its tenant's). */
  static final long CHANGE_OVERHEAD = 220;

  private final long maxBytes;
  /** The estimate of what is held, conversations and change log together; see the class comment. */
  private long usedBytes;
  private final Feed feed = new Feed();
  /** The conversation the mutation under way logged a change of, to signal once it is done. */
  private ThreadKey changed;
  private final byte[] tokenKey = new byte[32];
  private long committedWrites;
  private long conversationsRead;
  private long changeEntriesRead;
  private static final NavigableMap<Long, ChangeEvent> EMPTY_LOG = Collections.emptyNavigableMap();
  private boolean closed;

  public MemoryConversationStore(long maxHistoryBytes) {
    this(maxHistoryBytes, Long.MAX_VALUE);
  }

  /** A store that refuses to create more than {@code maxConversationsPerTenant} conversations per tenant. */
  public MemoryConversationStore(long maxHistoryBytes, long maxConversationsPerTenant) {
    this(maxHistoryBytes, maxConversationsPerTenant, Clock.systemUTC());
  }

  MemoryConversationStore(long maxHistoryBytes, long maxConversationsPerTenant, Clock clock) {
    this(maxHistoryBytes, maxConversationsPerTenant, clock, DEFAULT_MAX_LOGGED_CHANGES);
  }

  MemoryConversationStore(long maxHistoryBytes, long maxConversationsPerTenant, Clock clock, int maxLoggedChanges) {
    this(maxHistoryBytes, maxConversationsPerTenant, Retention.NONE, clock, maxLoggedChanges);
  }

  /** A store whose writes treat a conversation expired by {@code retention} as absent. */
  public MemoryConversationStore(long maxHistoryBytes, long maxConversationsPerTenant, Retention retention) {
    this(maxHistoryBytes, maxConversationsPerTenant, retention, Clock.systemUTC(), DEFAULT_MAX_LOGGED_CHANGES);
  }

  /**
   * A store holding at most about {@code maxBytes} of conversations and change log ({@code [memory] max_bytes}); a
   * write that would hold more is refused with {@link StorageFullException}.
   */
  public MemoryConversationStore(long maxHistoryBytes, long maxConversationsPerTenant, Retention retention,
      long maxBytes) {
    this(maxHistoryBytes, maxConversationsPerTenant, retention, maxBytes, DEFAULT_MAX_LOGGED_CHANGES);
  }

  MemoryConversationStore(long maxHistoryBytes, long maxConversationsPerTenant, Retention retention, long maxBytes,
      int maxLoggedChanges) {
    this(maxHistoryBytes, maxConversationsPerTenant, retention, Clock.systemUTC(), maxLoggedChanges, maxBytes);
  }

  MemoryConversationStore(long maxHistoryBytes, long maxConversationsPerTenant, Retention retention, Clock clock,
      int maxLoggedChanges) {
    this(maxHistoryBytes, maxConversationsPerTenant, retention, clock, maxLoggedChanges, Long.MAX_VALUE);
  }

  private MemoryConversationStore(long maxHistoryBytes, long maxConversationsPerTenant, Retention retention,
      Clock clock, int maxLoggedChanges, long maxBytes) {
    if (maxLoggedChanges < 1) {
      throw new IllegalArgumentException("maxLoggedChanges must be at least 1");
    }
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("maxBytes must be positive, not " + maxBytes);
    }
    this.maxBytes = maxBytes;
    this.clock = clock;
    this.retention = retention;
    this.rules = new WriteRules(new StoreLimits(maxHistoryBytes, maxConversationsPerTenant), retention, clock);
    this.maxLoggedChanges = maxLoggedChanges;
    new SecureRandom().nextBytes(tokenKey);
  }

  /**
   * The conversation under {@code key}, or null: every read of one goes through here, so that tests can count how
   * many a call looks at ({@link #conversationsRead}).
   */
  private StoredThread conversation(ThreadKey key) {
    conversationsRead++;
    return threads.get(key);
  }

  /** How many conversations the calls so far have looked at: what a call costs, for tests to check it is flat. */
  synchronized long conversationsRead() {
    return conversationsRead;
  }

  /** How many change-log entries the change feed's reads so far have looked at, likewise. */
  synchronized long changeEntriesRead() {
    return changeEntriesRead;
  }

  /** The budget used when none is configured: half the heap the JVM may grow to ({@code -Xmx}). */
  public static long defaultMaxBytes() {
    return Runtime.getRuntime().maxMemory() / 2;
  }

  /** The estimate of what the store holds now, against {@link #maxBytes()}. */
  public synchronized long usedBytes() {
    return usedBytes;
  }

  public long maxBytes() {
    return maxBytes;
  }

  /** Heap bytes of a string's characters, as the JVM's compact strings keep them. */
  static long chars(String s) {
    if (s == null) {
      return 0;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) > 0xFF) {
        return 2L * s.length();
      }
    }
    return s.length();
  }

  static long messageCost(String id, String json) {
    return MESSAGE_OVERHEAD + chars(id) + chars(json);
  }

  private static long messageCost(StoredMessage m) {
    return messageCost(m.id(), m.json().text());
  }

  private static long entryCost(String key, String value) {
    return ENTRY_OVERHEAD + chars(key) + chars(value);
  }

  private static long counterCost(String key) {
    return ENTRY_OVERHEAD + chars(key);
  }

  private static long conversationCost(ThreadKey key) {
    return CONVERSATION_OVERHEAD + chars(key.tenant()) + chars(key.threadId());
  }

  /**
   * What a change-log entry of {@code c} holds: its messages, and copies of the conversation's metadata
   * ({@code t}'s, none when it is gone) and of the metadata before. The copies share their strings with the
   * conversation, but are counted whole: once a value is replaced, only the log still holds the old one.
   */
  private static long changeCost(LoggedChange c, StoredThread t) {
    long cost = CHANGE_OVERHEAD + (t == null ? 0 : t.metadataCost);
    for (NewMessage m : c.messages()) {
      cost += messageCost(m.id(), m.json());
    }
    if (c.metadataBefore() != null) {
      for (Map.Entry<String, String> e : c.metadataBefore().entrySet()) {
        cost += entryCost(e.getKey(), e.getValue());
      }
    }
    return cost;
  }

  private static boolean hasId(StoredMessage m) {
    return m.id() != null && !m.id().isEmpty();
  }

  /**
   * The primitives over the maps; every call comes from a method holding the store's lock. A mutation's primitives
   * before its {@link #updateAndLog} are journalled, so that a write refused there for the budget is undone: the
   * lock is this backend's transaction, and it has no rollback of its own.
   */
  private final class Storage implements StorageTransaction<RuntimeException> {
    /** How to undo the mutation under way, newest first. */
    private final ArrayDeque<Runnable> undo = new ArrayDeque<>();
    private long usedAtStart;
    /** The conversation a Clear (or sweep) just logged: its deletion is part of that logged change, not undone. */
    private ThreadKey retiring;
    /** The cost of the entry {@link #updateAndLog} is about to log, found by its check; -1 when none. */
    private long pendingChangeCost = -1;

    void begin() {
      undo.clear();
      usedAtStart = usedBytes;
      retiring = null;
    }

    /** Undoes the mutation's journalled primitives, newest first. */
    void rollBack() {
      while (!undo.isEmpty()) {
        undo.pop().run();
      }
    }

    private void grow(StoredThread t, long bytes) {
      t.cost += bytes;
      usedBytes += bytes;
    }

    private StoredThread thread(ConversationRow row) {
      return conversation(row.key());
    }

    @Override
    public ConversationRow find(ThreadKey key) {
      StoredThread t = conversation(key);
      return t == null ? null : t.row();
    }

    @Override
    public long countConversations(String tenant, long upTo) {
      return indexes.conversations(tenant);
    }

    @Override
    public ConversationRow create(ThreadKey key, Instant now) {
      StoredThread t = new StoredThread(key, now);
      put(t);
      grow(t, conversationCost(key));
      undo.push(() -> {
        grow(t, -conversationCost(key));
        remove(t);
      });
      return t.row();
    }

    private void put(StoredThread t) {
      threads.put(t.key, t);
      indexes.add(t);
      usedBytes += t.cost;
    }

    private void remove(StoredThread t) {
      threads.remove(t.key);
      indexes.remove(t);
      usedBytes -= t.cost;
    }

    @Override
    public List<StoredMessage> messages(ConversationRow row) {
      return thread(row).messages;
    }

    @Override
    public Map<String, Long> counters(ConversationRow row) {
      return Map.copyOf(thread(row).cacheInfo);
    }

    @Override
    public Map<String, String> metadata(ConversationRow row) {
      return Map.copyOf(thread(row).metadata);
    }

    @Override
    public Set<String> storedIds(ConversationRow row, List<NewMessage> among) {
      return thread(row).ids;
    }

    @Override
    public void truncate(ConversationRow row, long keep) {
      StoredThread t = thread(row);
      List<StoredMessage> removed = new ArrayList<>();
      while (t.messages.size() > keep) {
        StoredMessage m = t.messages.remove(t.messages.size() - 1);
        removed.add(m);
        t.ids.remove(m.id());
        indexes.messagesChanged(t, -1, -m.json().utf8Length());
        grow(t, -messageCost(m));
      }
      undo.push(() -> {
        for (int i = removed.size() - 1; i >= 0; i--) {
          StoredMessage m = removed.get(i);
          t.messages.add(m);
          if (hasId(m)) {
            t.ids.add(m.id());
          }
          indexes.messagesChanged(t, 1, m.json().utf8Length());
          grow(t, messageCost(m));
        }
      });
    }

    @Override
    public void insert(ConversationRow row, long firstPosition, List<NewMessage> messages, Instant now) {
      StoredThread t = thread(row);
      int sizeBefore = t.messages.size();
      List<String> newIds = new ArrayList<>();
      long bytes = 0;
      long cost = 0;
      for (NewMessage m : messages) {
        t.messages.add(new StoredMessage(m.id(), JsonText.of(m.json()), t.messages.size(), now));
        if (m.hasId() && t.ids.add(m.id())) {
          newIds.add(m.id());
        }
        bytes += m.utf8Bytes();
        cost += messageCost(m.id(), m.json());
      }
      grow(t, cost);
      indexes.messagesChanged(t, messages.size(), bytes);
      long added = cost;
      long addedBytes = bytes;
      undo.push(() -> {
        indexes.messagesChanged(t, -messages.size(), -addedBytes);
        t.messages.subList(sizeBefore, t.messages.size()).clear();
        t.ids.removeAll(newIds);
        grow(t, -added);
      });
    }

    @Override
    public void mergeMetadata(ConversationRow row, Map<String, String> entries) {
      StoredThread t = thread(row);
      Map<String, String> before = new HashMap<>();
      long cost = 0;
      for (Map.Entry<String, String> e : entries.entrySet()) {
        String previous = t.metadata.put(e.getKey(), e.getValue());
        before.put(e.getKey(), previous);
        cost += entryCost(e.getKey(), e.getValue()) - (previous == null ? 0 : entryCost(e.getKey(), previous));
      }
      grow(t, cost);
      t.metadataCost += cost;
      long added = cost;
      undo.push(() -> {
        t.metadataCost -= added;
        before.forEach((k, v) -> {
          if (v == null) {
            t.metadata.remove(k);
          } else {
            t.metadata.put(k, v);
          }
        });
        grow(t, -added);
      });
    }

    @Override
    public void removeEntries(ConversationRow row, Set<String> metadataKeys, Set<String> counterKeys) {
      StoredThread t = thread(row);
      Map<String, String> removedMetadata = new HashMap<>();
      Map<String, Long> removedCounters = new HashMap<>();
      long freed = 0;
      for (String k : metadataKeys) {
        String v = t.metadata.remove(k);
        if (v != null) {
          removedMetadata.put(k, v);
          freed += entryCost(k, v);
        }
      }
      long metadataFreed = freed;
      t.metadataCost -= metadataFreed;
      for (String k : counterKeys) {
        Long v = t.cacheInfo.remove(k);
        if (v != null) {
          removedCounters.put(k, v);
          freed += counterCost(k);
        }
      }
      grow(t, -freed);
      long restored = freed;
      undo.push(() -> {
        t.metadataCost += metadataFreed;
        t.metadata.putAll(removedMetadata);
        t.cacheInfo.putAll(removedCounters);
        grow(t, restored);
      });
    }

    @Override
    public long copy(ConversationRow from, ConversationRow to, long endPosition) {
      StoredThread source = thread(from);
      StoredThread target = thread(to);
      long bytes = 0;
      long cost = 0;
      for (StoredMessage m : source.messages.subList(0, (int) endPosition)) {
        target.messages.add(m);
        if (hasId(m)) {
          target.ids.add(m.id());
        }
        bytes += m.json().utf8Length();
        // Shared with the source, but counted whole: the source may be cleared while the copy lives on.
        cost += messageCost(m);
      }
      indexes.messagesChanged(target, endPosition, bytes);
      target.metadata.putAll(source.metadata);
      target.metadataCost = source.metadataCost;
      cost += source.metadataCost;
      grow(target, cost);
      long added = cost;
      // The target was created empty by this mutation.
      undo.push(() -> {
        indexes.messagesChanged(target, -target.messages.size(), -target.historyBytes);
        target.messages.clear();
        target.ids.clear();
        target.metadata.clear();
        target.metadataCost = 0;
        grow(target, -added);
      });
      return bytes;
    }

    @Override
    public long nextVersion(String tenant) {
      committedWrites++;
      return versionPerTenant.merge(tenant, 1L, Long::sum);
    }

    @Override
    public void update(ConversationRow row, Instant now, CountersChange change, Map<String, Long> counters) {
      StoredThread t = thread(row);
      grow(t, countersGrowth(t, change, counters));
      indexes.move(t, row.version(), now, row.expireTime());
      if (change == CountersChange.REPLACE) {
        t.cacheInfo.clear();
      }
      if (change != CountersChange.KEEP) {
        t.cacheInfo.putAll(counters);
      }
    }

    private long countersGrowth(StoredThread t, CountersChange change, Map<String, Long> counters) {
      long growth = 0;
      if (change == CountersChange.REPLACE) {
        for (String k : t.cacheInfo.keySet()) {
          growth -= counterCost(k);
        }
      }
      if (change != CountersChange.KEEP) {
        for (String k : counters.keySet()) {
          if (change == CountersChange.REPLACE || !t.cacheInfo.containsKey(k)) {
            growth += counterCost(k);
          }
        }
      }
      return growth;
    }

    /**
     * The budget's check, once for every write: the last primitive of each mutation that stores anything, where
     * all it adds is known. A mutation that holds no more than before (a Save to a shorter history, metadata
     * removed) passes even over the budget, so that a full store can be emptied; Clear and the sweeps only delete.
     */
    @Override
    public long updateAndLog(ConversationRow row, Instant now, CountersChange change, Map<String, Long> counters,
        LoggedChange entry) {
      long entryCost = changeCost(entry, thread(row));
      long more = countersGrowth(thread(row), change, counters) + entryCost;
      long growth = usedBytes - usedAtStart + more;
      if (growth > 0 && usedBytes + more > maxBytes) {
        if (usedBytes + more - changeLogBytes <= maxBytes) {
          // The change log gives way first: a watcher resuming before what it drops gets CHANGE_LOG_PRUNED.
          while (usedBytes + more > maxBytes) {
            pruneOldest();
          }
        } else {
          // signalled() undoes the journalled primitives.
          throw new StorageFullException("the memory backend's budget is full: it holds about " + usedAtStart
              + " bytes of [memory] max_bytes = " + maxBytes + ", and this write needs about " + growth
              + " more; nothing was written (Clear conversations to make room)", null);
        }
      }
      // Nothing between here and logChange changes the metadata or the messages the entry's cost depends on.
      pendingChangeCost = entryCost;
      try {
        return StorageTransaction.super.updateAndLog(row, now, change, counters, entry);
      } finally {
        pendingChangeCost = -1;
      }
    }

    @Override
    public void logChange(LoggedChange c) {
      List<StoredMessage> messages = new ArrayList<>(c.messages().size());
      long position = c.firstPosition();
      for (NewMessage m : c.messages()) {
        messages.add(new StoredMessage(m.id(), JsonText.of(m.json()), position++, c.commitTime()));
      }
      StoredThread t = conversation(c.key());
      ChangeEvent event = new ChangeEvent(c.key(), c.version(), c.kind(), c.firstPosition(), c.messageCount(),
          messages, c.commitTime(), t == null ? Map.of() : t.metadata, c.metadataBefore());
      changeLog.addLast(event);
      changesPerTenant.computeIfAbsent(c.key().tenant(), k -> new TreeMap<>()).put(event.version(), event);
      long cost = pendingChangeCost >= 0 ? pendingChangeCost : changeCost(c, t);
      changeCosts.addLast(cost);
      changeLogBytes += cost;
      usedBytes += cost;
      while (changeLog.size() > maxLoggedChanges) {
        pruneOldest();
      }
      changed = c.key();
      // What came before a logged change is part of it (an expired conversation a write replaces was retired).
      undo.clear();
      retiring = c.kind() == ChangeKind.CLEARED ? c.key() : null;
    }

    @Override
    public List<ConversationRow> idle(Instant updatedBefore, TenantScope scope, int limit) {
      return indexes.updatedBefore(updatedBefore, scope).limit(limit).map(k -> conversation(k).row()).toList();
    }

    @Override
    public List<ConversationRow> expired(Instant now, int limit) {
      return indexes.expiredAt(now).limit(limit).map(k -> conversation(k).row()).toList();
    }

    @Override
    public void delete(ConversationRow row) {
      StoredThread t = conversation(row.key());
      remove(t);
      if (!row.key().equals(retiring)) {
        undo.push(() -> put(t));
      }
      retiring = null;
    }
  }

  /**
   * Runs {@code mutation} under the lock, then signals the change it logged, outside the lock (a listener may read
   * the log from another thread at once).
   */
  private <T> T signalled(Supplier<T> mutation) {
    ThreadKey key;
    T result;
    synchronized (this) {
      changed = null;
      storage.begin();
      try {
        result = mutation.get();
      } catch (RuntimeException e) {
        // A write refused for the budget has changed the maps before updateAndLog found it too big (as would a
        // rule that threw after a primitive): undone, so that it leaves no trace.
        storage.rollBack();
        throw e;
      }
      key = changed;
      changed = null;
    }
    if (key != null) {
      listeners.changed(key);
    }
    return result;
  }

  @Override
  public ChangeFeed changeFeed() {
    return feed;
  }

  /** The change log in memory: gone on restart, like everything else here. */
  private final class Feed implements ChangeFeed {
    @Override
    public List<ChangeEvent> changes(ChangeQuery q) {
      synchronized (MemoryConversationStore.this) {
        ensureOpen();
        long pruned = prunedThrough.getOrDefault(q.tenant(), 0L);
        if (q.afterVersion() < pruned) {
          throw new ChangeLogPrunedException(q.afterVersion(), pruned);
        }
        List<ChangeEvent> found = new ArrayList<>();
        NavigableMap<Long, ChangeEvent> tenantLog = changesPerTenant.getOrDefault(q.tenant(), EMPTY_LOG);
        for (ChangeEvent e : tenantLog.tailMap(q.afterVersion(), false).values()) {
          changeEntriesRead++;
          if (q.covers(e.key())) {
            found.add(e);
            if (found.size() == q.limit()) {
              break;
            }
          }
        }
        return found;
      }
    }

    @Override
    public Subscription subscribe(String tenant, ChangeListener listener) {
      return listeners.add(tenant, listener);
    }

    @Override
    public int prune(Instant olderThan, int maxEntries) {
      synchronized (MemoryConversationStore.this) {
        int deleted = 0;
        while (deleted < maxEntries && !changeLog.isEmpty() && changeLog.peekFirst().commitTime().isBefore(olderThan)) {
          pruneOldest();
          deleted++;
        }
        return deleted;
      }
    }
  }

  /** Drops the oldest change-log entry and raises its tenant's pruning mark. Under the store's lock. */
  private void pruneOldest() {
    ChangeEvent e = changeLog.removeFirst();
    NavigableMap<Long, ChangeEvent> tenantLog = changesPerTenant.get(e.key().tenant());
    tenantLog.remove(e.version());
    if (tenantLog.isEmpty()) {
      changesPerTenant.remove(e.key().tenant());
    }
    long cost = changeCosts.removeFirst();
    changeLogBytes -= cost;
    usedBytes -= cost;
    prunedThrough.merge(e.key().tenant(), e.version(), Math::max);
  }

  private void ensureOpen() {
    if (closed) {
      throw new StoreUnavailableException("the store is closed", null);
    }
  }

  @Override
  public SaveResult save(SaveCommand command) {
    return signalled(() -> {
      ensureOpen();
      return rules.save(storage, command, null);
    });
  }

  @Override
  public AppendResult append(AppendCommand command) {
    return signalled(() -> {
      ensureOpen();
      return rules.append(storage, command);
    });
  }

  @Override
  public long updateCache(UpdateCacheCommand command) {
    return signalled(() -> {
      ensureOpen();
      return rules.updateCache(storage, command);
    });
  }

  @Override
  public List<ThreadKey> sweepIdle(Instant updatedBefore, TenantScope scope, int limit) {
    List<ThreadKey> deleted;
    synchronized (this) {
      ensureOpen();
      storage.begin();
      deleted = rules.sweepIdle(storage, updatedBefore, scope, limit);
      changed = null;
    }
    deleted.forEach(listeners::changed);
    return deleted;
  }

  @Override
  public List<ThreadKey> sweepExpired(int limit) {
    List<ThreadKey> deleted;
    synchronized (this) {
      ensureOpen();
      storage.begin();
      deleted = rules.sweepExpired(storage, limit);
      changed = null;
    }
    deleted.forEach(listeners::changed);
    return deleted;
  }

  @Override
  public boolean clear(ClearCommand command) {
    return signalled(() -> {
      ensureOpen();
      return rules.clear(storage, command);
    });
  }

  @Override
  public long updateMetadata(UpdateMetadataCommand command) {
    return signalled(() -> {
      ensureOpen();
      return rules.updateMetadata(storage, command);
    });
  }

  @Override
  public ForkResult fork(ForkCommand command) {
    return signalled(() -> {
      ensureOpen();
      return rules.fork(storage, command);
    });
  }

  @Override
  public ImportOutcome importConversation(ImportCommand command) {
    return signalled(() -> {
      ensureOpen();
      return rules.importConversation(storage, command);
    });
  }

  @Override
  public synchronized List<ConversationSummary> listByThreadId(ExportQuery q) {
    ensureOpen();
    List<ConversationSummary> page = new ArrayList<>(q.limit());
    for (ThreadKey key : indexes.keysFrom(new ThreadKey(q.tenant(), q.afterThreadId()), q.afterThreadId().isEmpty())) {
      if (!key.tenant().equals(q.tenant()) || page.size() == q.limit()) {
        break;
      }
      StoredThread t = conversation(key);
      ConversationSummary s = t.summary();
      if (live(t) && q.matches(s)) {
        page.add(s);
      }
    }
    return page;
  }

  /** Not past its own expire time: one that is, is gone for every reader before the sweep deletes it. */
  private boolean live(StoredThread t) {
    return t.expireTime == null || t.expireTime.isAfter(clock.instant());
  }

  @Override
  public synchronized StoreStatus status(String tenant) {
    ensureOpen();
    // Expired ones the sweep has not deleted yet are not counted, as on the SQL backends: found, as there, through
    // the orders by expire and update time, so that this costs what the sweep has yet to do.
    Instant now = clock.instant();
    Set<ThreadKey> expired = new HashSet<>();
    indexes.expiredAt(now).filter(k -> k.tenant().equals(tenant)).forEach(expired::add);
    retention.idleCutoff(tenant, now)
        .ifPresent(cutoff -> indexes.updatedBefore(cutoff, TenantScope.only(tenant)).forEach(expired::add));
    long messages = indexes.messages(tenant);
    for (ThreadKey k : expired) {
      messages -= conversation(k).messages.size();
    }
    return new StoreStatus("memory", "", "", 0, "none", indexes.conversations(tenant) - expired.size(), messages);
  }

  @Override
  public synchronized Optional<Conversation> get(ThreadKey key, MessageWindow window) {
    ensureOpen();
    StoredThread t = conversation(key);
    if (t == null || !live(t)) {
      return Optional.empty();
    }
    int first = (int) window.firstPosition(t.messages.size());
    return Optional.of(new Conversation(t.summary(), t.messages.subList(first, t.messages.size())));
  }

  @Override
  public synchronized Optional<HistorySize> historySize(ThreadKey key) {
    ensureOpen();
    StoredThread t = conversation(key);
    if (t == null || !live(t)) {
      return Optional.empty();
    }
    ConversationSummary s = t.summary();
    return Optional.of(new HistorySize(s.messageCount(), s.historyBytes()));
  }

  @Override
  public synchronized List<ConversationSummary> list(ListQuery q) {
    ensureOpen();
    return indexes.newestFirst(q.tenant(), q.beforeVersion())
        .map(this::conversation)
        .filter(t -> q.admits(t.updateTime) && live(t))
        .filter(t -> MetadataFilter.matches(q.metadataFilter(), t.metadata))
        .limit(q.limit())
        .map(StoredThread::summary)
        .toList();
  }

  /**
   * A scan of every message of the tenant: its words are cut on each search (memory stores are small; the scan is
   * what the index of the SQL backends must agree with).
   */
  @Override
  public synchronized List<SearchHit> search(SearchQuery q) {
    ensureOpen();
    List<SearchHit> hits = new ArrayList<>();
    List<StoredThread> order = indexes.newestFirst(q.tenant(), Long.MAX_VALUE)
        .map(this::conversation)
        .filter(t -> q.admits(t.updateTime) && live(t))
        .filter(t -> MetadataFilter.matches(q.metadataFilter(), t.metadata))
        .toList();
    for (StoredThread t : order) {
      for (StoredMessage m : t.messages) {
        String json = m.json().text();
        int n = SearchText.occurrences(SearchText.words(SearchText.of(json)), q.phrases());
        if (n > 0) {
          hits.add(new SearchHit(t.key.threadId(), m.position(), SearchText.snippet(json, q.phrases()), n));
        }
      }
    }
    // Stable: equal scores stay in conversation (newest first), then position order.
    hits.sort(Comparator.comparingDouble(SearchHit::score).reversed());
    return hits.stream().skip(q.offset()).limit(q.limit()).toList();
  }

  /** New with each store: tokens live as long as what they point into. */
  @Override
  public byte[] tokenKey() {
    return tokenKey.clone();
  }

  @Override
  public synchronized void checkHealth() {
    ensureOpen();
  }

  @Override
  public synchronized StoreStats stats() {
    return new StoreStats(
        indexes.conversations(), indexes.messages(), indexes.historyBytes(), committedWrites, 0, 0, 0);
  }

  @Override
  public synchronized void close() {
    closed = true;
  }
}

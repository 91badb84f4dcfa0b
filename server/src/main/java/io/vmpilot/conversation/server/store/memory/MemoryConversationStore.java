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
import io.vmpilot.conversation.server.store.ChangeFeed;
import io.vmpilot.conversation.server.store.ChangeListeners;
import io.vmpilot.conversation.server.store.ChangeQuery;
import io.vmpilot.conversation.server.store.error.ChangeLogPrunedException;
import io.vmpilot.conversation.server.store.write.LoggedChange;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Keeps conversations in this process's memory: fast, and gone on restart. One lock guards everything and is the
 * transaction the {@link WriteRules} run in, which keeps each operation atomic and the version counter simple;
 * operations are short, so it is not a bottleneck next to the network.
 */
public final class MemoryConversationStore implements ConversationStore {
  private final WriteRules rules;
  private final Clock clock;
  private final Retention retention;
  private final Map<ThreadKey, StoredThread> threads = new HashMap<>();
  // The keys in export order (tenant, then thread id by code point), so that an export pages through them by key.
  private final NavigableSet<ThreadKey> keyOrder = new TreeSet<>(Comparator.comparing(ThreadKey::tenant)
      .thenComparing(ThreadKey::threadId, ExportQuery::compareThreadIds));
  private final Map<String, Long> conversationsPerTenant = new HashMap<>();
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
  private final int maxLoggedChanges;
  /** Per tenant, the highest version pruned from the change log. */
  private final Map<String, Long> prunedThrough = new HashMap<>();
  private final ChangeListeners listeners = new ChangeListeners();
  private final Feed feed = new Feed();
  /** The conversation the mutation under way logged a change of, to signal once it is done. */
  private ThreadKey changed;
  private final byte[] tokenKey = new byte[32];
  private long committedWrites;
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

  MemoryConversationStore(long maxHistoryBytes, long maxConversationsPerTenant, Retention retention, Clock clock,
      int maxLoggedChanges) {
    if (maxLoggedChanges < 1) {
      throw new IllegalArgumentException("maxLoggedChanges must be at least 1");
    }
    this.clock = clock;
    this.retention = retention;
    this.rules = new WriteRules(new StoreLimits(maxHistoryBytes, maxConversationsPerTenant), retention, clock);
    this.maxLoggedChanges = maxLoggedChanges;
    new SecureRandom().nextBytes(tokenKey);
  }

  /** One conversation's mutable state, only ever touched under the store's lock. */
  private static final class StoredThread {
    final ThreadKey key;
    final Instant createTime;
    final List<StoredMessage> messages = new ArrayList<>();
    final Set<String> ids = new HashSet<>();
    final Map<String, Long> cacheInfo = new HashMap<>();
    final Map<String, String> metadata = new HashMap<>();
    long historyBytes;
    long version;
    Instant updateTime;
    /** The conversation's own expire time, or null. */
    Instant expireTime;

    StoredThread(ThreadKey key, Instant now) {
      this.key = key;
      this.createTime = now;
      this.updateTime = now;
    }

    ConversationRow row() {
      return new ConversationRow(0, key, version, messages.size(), historyBytes, updateTime, expireTime);
    }

    ConversationSummary summary() {
      return new ConversationSummary(
          key, messages.size(), historyBytes, cacheInfo, metadata, version, createTime, updateTime, expireTime);
    }
  }

  /** The primitives over the maps; every call comes from a method holding the store's lock. */
  private final class Storage implements StorageTransaction<RuntimeException> {
    private StoredThread thread(ConversationRow row) {
      return threads.get(row.key());
    }

    @Override
    public ConversationRow find(ThreadKey key) {
      StoredThread t = threads.get(key);
      return t == null ? null : t.row();
    }

    @Override
    public long countConversations(String tenant, long upTo) {
      return conversationsPerTenant.getOrDefault(tenant, 0L);
    }

    @Override
    public ConversationRow create(ThreadKey key, Instant now) {
      StoredThread t = new StoredThread(key, now);
      threads.put(key, t);
      keyOrder.add(key);
      conversationsPerTenant.merge(key.tenant(), 1L, Long::sum);
      return t.row();
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
      while (t.messages.size() > keep) {
        StoredMessage removed = t.messages.remove(t.messages.size() - 1);
        t.ids.remove(removed.id());
        t.historyBytes -= removed.json().utf8Length();
      }
    }

    @Override
    public void insert(ConversationRow row, long firstPosition, List<NewMessage> messages, Instant now) {
      StoredThread t = thread(row);
      for (NewMessage m : messages) {
        t.messages.add(new StoredMessage(m.id(), JsonText.of(m.json()), t.messages.size(), now));
        if (m.hasId()) {
          t.ids.add(m.id());
        }
        t.historyBytes += m.utf8Bytes();
      }
    }

    @Override
    public void mergeMetadata(ConversationRow row, Map<String, String> entries) {
      thread(row).metadata.putAll(entries);
    }

    @Override
    public void removeEntries(ConversationRow row, Set<String> metadataKeys, Set<String> counterKeys) {
      StoredThread t = thread(row);
      t.metadata.keySet().removeAll(metadataKeys);
      t.cacheInfo.keySet().removeAll(counterKeys);
    }

    @Override
    public long copy(ConversationRow from, ConversationRow to, long endPosition) {
      StoredThread source = thread(from);
      StoredThread target = thread(to);
      long bytes = 0;
      for (StoredMessage m : source.messages.subList(0, (int) endPosition)) {
        target.messages.add(m);
        if (m.id() != null && !m.id().isEmpty()) {
          target.ids.add(m.id());
        }
        bytes += m.json().utf8Length();
      }
      target.historyBytes += bytes;
      target.metadata.putAll(source.metadata);
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
      t.version = row.version();
      t.updateTime = now;
      t.expireTime = row.expireTime();
      if (change == CountersChange.REPLACE) {
        t.cacheInfo.clear();
      }
      if (change != CountersChange.KEEP) {
        t.cacheInfo.putAll(counters);
      }
    }

    @Override
    public void logChange(LoggedChange c) {
      List<StoredMessage> messages = new ArrayList<>(c.messages().size());
      long position = c.firstPosition();
      for (NewMessage m : c.messages()) {
        messages.add(new StoredMessage(m.id(), JsonText.of(m.json()), position++, c.commitTime()));
      }
      StoredThread t = threads.get(c.key());
      changeLog.addLast(new ChangeEvent(c.key(), c.version(), c.kind(), c.firstPosition(), c.messageCount(),
          messages, c.commitTime(), t == null ? Map.of() : t.metadata, c.metadataBefore()));
      while (changeLog.size() > maxLoggedChanges) {
        pruneOldest();
      }
      changed = c.key();
    }

    @Override
    public List<ConversationRow> idle(Instant updatedBefore, TenantScope scope, int limit) {
      return threads.values().stream()
          .filter(t -> t.updateTime.isBefore(updatedBefore) && scope.includes(t.key.tenant()))
          .sorted(Comparator.comparing((StoredThread t) -> t.updateTime))
          .limit(limit)
          .map(StoredThread::row)
          .toList();
    }

    /** A scan, like {@link #idle}: the memory backend holds few enough conversations for one. */
    @Override
    public List<ConversationRow> expired(Instant now, int limit) {
      return threads.values().stream()
          .filter(t -> t.expireTime != null && !t.expireTime.isAfter(now))
          .sorted(Comparator.comparing((StoredThread t) -> t.expireTime))
          .limit(limit)
          .map(StoredThread::row)
          .toList();
    }

    @Override
    public void delete(ConversationRow row) {
      threads.remove(row.key());
      keyOrder.remove(row.key());
      conversationsPerTenant.computeIfPresent(row.key().tenant(), (tenant, n) -> n > 1 ? n - 1 : null);
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
      result = mutation.get();
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
        for (ChangeEvent e : changeLog) {
          if (e.version() > q.afterVersion() && q.covers(e.key())) {
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
    for (ThreadKey key : keyOrder.tailSet(new ThreadKey(q.tenant(), q.afterThreadId()), q.afterThreadId().isEmpty())) {
      if (!key.tenant().equals(q.tenant()) || page.size() == q.limit()) {
        break;
      }
      StoredThread t = threads.get(key);
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
    long conversations = 0;
    long messages = 0;
    Instant now = clock.instant();
    for (StoredThread t : threads.values()) {
      // Expired ones the sweep has not deleted yet are not counted, as on the SQL backends.
      if (t.key.tenant().equals(tenant) && !retention.expired(tenant, t.updateTime, t.expireTime, now)) {
        conversations++;
        messages += t.messages.size();
      }
    }
    return new StoreStatus("memory", "", "", 0, "none", conversations, messages);
  }

  @Override
  public synchronized Optional<Conversation> get(ThreadKey key, MessageWindow window) {
    ensureOpen();
    StoredThread t = threads.get(key);
    if (t == null || !live(t)) {
      return Optional.empty();
    }
    int first = (int) window.firstPosition(t.messages.size());
    return Optional.of(new Conversation(t.summary(), t.messages.subList(first, t.messages.size())));
  }

  @Override
  public synchronized Optional<HistorySize> historySize(ThreadKey key) {
    ensureOpen();
    StoredThread t = threads.get(key);
    if (t == null || !live(t)) {
      return Optional.empty();
    }
    ConversationSummary s = t.summary();
    return Optional.of(new HistorySize(s.messageCount(), s.historyBytes()));
  }

  @Override
  public synchronized List<ConversationSummary> list(ListQuery q) {
    ensureOpen();
    return threads.values().stream()
        .filter(t -> t.key.tenant().equals(q.tenant()))
        .filter(t -> t.version < q.beforeVersion())
        .filter(t -> q.admits(t.updateTime) && live(t))
        .filter(t -> MetadataFilter.matches(q.metadataFilter(), t.metadata))
        .sorted(Comparator.comparingLong((StoredThread t) -> t.version).reversed())
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
    List<StoredThread> order = threads.values().stream()
        .filter(t -> t.key.tenant().equals(q.tenant()))
        .filter(t -> q.admits(t.updateTime) && live(t))
        .filter(t -> MetadataFilter.matches(q.metadataFilter(), t.metadata))
        .sorted(Comparator.comparingLong((StoredThread t) -> t.version).reversed())
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
    long messages = 0;
    long bytes = 0;
    for (StoredThread t : threads.values()) {
      messages += t.messages.size();
      bytes += t.historyBytes;
    }
    return new StoreStats(threads.size(), messages, bytes, committedWrites, 0, 0);
  }

  @Override
  public synchronized void close() {
    closed = true;
  }
}

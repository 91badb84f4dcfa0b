package io.vmpilot.conversation.server.store.memory;

import io.vmpilot.conversation.server.store.AppendCommand;
import io.vmpilot.conversation.server.store.AppendResult;
import io.vmpilot.conversation.server.store.Conversation;
import io.vmpilot.conversation.server.store.ConversationNotFoundException;
import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.ConversationSummary;
import io.vmpilot.conversation.server.store.JsonText;
import io.vmpilot.conversation.server.store.ListQuery;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.MutationRules;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.SaveCommand;
import io.vmpilot.conversation.server.store.SaveResult;
import io.vmpilot.conversation.server.store.StoreStats;
import io.vmpilot.conversation.server.store.StoreUnavailableException;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Keeps conversations in this process's memory: fast, and gone on restart. One lock guards everything, which
 * keeps each operation atomic and the version counter simple; operations are short, so it is not a bottleneck
 * next to the network.
 */
public final class MemoryConversationStore implements ConversationStore {
  private final long maxHistoryBytes;
  private final long maxConversationsPerTenant;
  private final Clock clock;
  private final Map<ThreadKey, StoredThread> threads = new HashMap<>();
  private final Map<String, Long> conversationsPerTenant = new HashMap<>();
  private long revision;
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
    this.maxHistoryBytes = maxHistoryBytes;
    this.maxConversationsPerTenant = maxConversationsPerTenant;
    this.clock = clock;
  }

  /** Checks the tenant's limit, then adds the new conversation (called only under the lock). */
  private StoredThread create(ThreadKey key, Instant now) {
    long existing = conversationsPerTenant.getOrDefault(key.tenant(), 0L);
    MutationRules.checkConversationLimit(key, maxConversationsPerTenant, existing);
    StoredThread t = new StoredThread(key, now);
    threads.put(key, t);
    conversationsPerTenant.put(key.tenant(), existing + 1);
    return t;
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

    StoredThread(ThreadKey key, Instant now) {
      this.key = key;
      this.createTime = now;
      this.updateTime = now;
    }

    void add(NewMessage m, Instant now) {
      messages.add(new StoredMessage(m.id(), JsonText.of(m.json()), messages.size(), now));
      if (m.hasId()) {
        ids.add(m.id());
      }
      historyBytes += m.utf8Bytes();
    }

    void truncate(int size) {
      while (messages.size() > size) {
        StoredMessage removed = messages.remove(messages.size() - 1);
        ids.remove(removed.id());
        historyBytes -= removed.json().utf8Length();
      }
    }

    ConversationSummary summary() {
      return new ConversationSummary(
          key, messages.size(), historyBytes, cacheInfo, metadata, version, createTime, updateTime);
    }
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  private long currentVersion(StoredThread t) {
    return t == null ? 0 : t.version;
  }

  private void commit(StoredThread t, Instant now) {
    t.version = ++revision;
    t.updateTime = now;
    committedWrites++;
  }

  private void ensureOpen() {
    if (closed) {
      throw new StoreUnavailableException("the store is closed", null);
    }
  }

  @Override
  public synchronized SaveResult save(SaveCommand c) {
    ensureOpen();
    StoredThread t = threads.get(c.key());
    MutationRules.checkVersion(c.key(), c.expectedVersion(), currentVersion(t));
    MutationRules.checkHistorySize(c.key(), maxHistoryBytes, MutationRules.totalBytes(c.messages()));
    Instant now = now();
    boolean created = t == null;
    if (created) {
      t = create(c.key(), now);
    }
    int keep = MutationRules.commonPrefix(t.messages, c.messages());
    t.truncate(keep);
    for (NewMessage m : c.messages().subList(keep, c.messages().size())) {
      t.add(m, now);
    }
    t.cacheInfo.putAll(c.cacheInfo());
    t.metadata.putAll(c.metadata());
    commit(t, now);
    return new SaveResult(t.version, t.messages.size(), created, c.messages().size() - keep);
  }

  @Override
  public synchronized Optional<Conversation> get(ThreadKey key, MessageWindow window) {
    ensureOpen();
    StoredThread t = threads.get(key);
    if (t == null) {
      return Optional.empty();
    }
    int first = (int) window.firstPosition(t.messages.size());
    return Optional.of(new Conversation(t.summary(), t.messages.subList(first, t.messages.size())));
  }

  @Override
  public synchronized long updateCache(ThreadKey key, Map<String, Long> cacheInfo, OptionalLong expectedVersion) {
    ensureOpen();
    StoredThread t = threads.get(key);
    if (t == null) {
      throw new ConversationNotFoundException(key);
    }
    MutationRules.checkVersion(key, expectedVersion, t.version);
    t.cacheInfo.clear();
    t.cacheInfo.putAll(cacheInfo);
    commit(t, now());
    return t.version;
  }

  @Override
  public synchronized boolean clear(ThreadKey key, OptionalLong expectedVersion) {
    ensureOpen();
    StoredThread t = threads.get(key);
    MutationRules.checkVersion(key, expectedVersion, currentVersion(t));
    if (t == null) {
      return false;
    }
    threads.remove(key);
    conversationsPerTenant.computeIfPresent(key.tenant(), (tenant, n) -> n > 1 ? n - 1 : null);
    revision++;
    committedWrites++;
    return true;
  }

  @Override
  public synchronized AppendResult append(AppendCommand c) {
    ensureOpen();
    StoredThread t = threads.get(c.key());
    Set<String> storedIds = t == null ? Set.of() : t.ids;
    if (t != null && MutationRules.isReplay(c.messages(), storedIds)) {
      return new AppendResult(t.version, t.messages.size(), 0, false);
    }
    MutationRules.checkVersion(c.key(), c.expectedVersion(), currentVersion(t));
    List<NewMessage> fresh = MutationRules.newMessagesOfAppend(c.messages(), storedIds);
    long before = t == null ? 0 : t.historyBytes;
    MutationRules.checkHistorySize(c.key(), maxHistoryBytes, before + MutationRules.totalBytes(fresh));
    Instant now = now();
    boolean created = t == null;
    if (created) {
      t = create(c.key(), now);
    }
    for (NewMessage m : fresh) {
      t.add(m, now);
    }
    commit(t, now);
    return new AppendResult(t.version, t.messages.size(), fresh.size(), created);
  }

  @Override
  public synchronized List<ConversationSummary> list(ListQuery q) {
    ensureOpen();
    return threads.values().stream()
        .filter(t -> t.key.tenant().equals(q.tenant()))
        .filter(t -> t.version < q.beforeVersion())
        .filter(t -> t.metadata.entrySet().containsAll(q.metadataFilter().entrySet()))
        .sorted(Comparator.comparingLong((StoredThread t) -> t.version).reversed())
        .limit(q.limit())
        .map(StoredThread::summary)
        .toList();
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

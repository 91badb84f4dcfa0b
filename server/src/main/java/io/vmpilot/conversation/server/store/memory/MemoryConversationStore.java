package io.vmpilot.conversation.server.store.memory;

import io.vmpilot.conversation.server.store.AppendResult;
import io.vmpilot.conversation.server.store.Conversation;
import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.ConversationSummary;
import io.vmpilot.conversation.server.store.JsonText;
import io.vmpilot.conversation.server.store.ListQuery;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.SaveResult;
import io.vmpilot.conversation.server.store.StoreStats;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.write.ConversationRow;
import io.vmpilot.conversation.server.store.write.CountersChange;
import io.vmpilot.conversation.server.store.write.StorageTransaction;
import io.vmpilot.conversation.server.store.write.StoreLimits;
import io.vmpilot.conversation.server.store.write.WriteRules;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Keeps conversations in this process's memory: fast, and gone on restart. One lock guards everything and is the
 * transaction the {@link WriteRules} run in, which keeps each operation atomic and the version counter simple;
 * operations are short, so it is not a bottleneck next to the network.
 */
public final class MemoryConversationStore implements ConversationStore {
  private final WriteRules rules;
  private final Map<ThreadKey, StoredThread> threads = new HashMap<>();
  private final Map<String, Long> conversationsPerTenant = new HashMap<>();
  /** Each tenant's last version; an entry stays when the tenant's last conversation goes. */
  private final Map<String, Long> versionPerTenant = new HashMap<>();
  private final Storage storage = new Storage();
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
    this.rules = new WriteRules(new StoreLimits(maxHistoryBytes, maxConversationsPerTenant), clock);
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

    StoredThread(ThreadKey key, Instant now) {
      this.key = key;
      this.createTime = now;
      this.updateTime = now;
    }

    ConversationRow row() {
      return new ConversationRow(0, key, version, messages.size(), historyBytes);
    }

    ConversationSummary summary() {
      return new ConversationSummary(
          key, messages.size(), historyBytes, cacheInfo, metadata, version, createTime, updateTime);
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
      conversationsPerTenant.merge(key.tenant(), 1L, Long::sum);
      return t.row();
    }

    @Override
    public List<StoredMessage> messages(ConversationRow row) {
      return thread(row).messages;
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
    public long nextVersion(String tenant) {
      committedWrites++;
      return versionPerTenant.merge(tenant, 1L, Long::sum);
    }

    @Override
    public void update(ConversationRow row, Instant now, CountersChange change, Map<String, Long> counters) {
      StoredThread t = thread(row);
      t.version = row.version();
      t.updateTime = now;
      if (change == CountersChange.REPLACE) {
        t.cacheInfo.clear();
      }
      if (change != CountersChange.KEEP) {
        t.cacheInfo.putAll(counters);
      }
    }

    @Override
    public void delete(ConversationRow row) {
      threads.remove(row.key());
      conversationsPerTenant.computeIfPresent(row.key().tenant(), (tenant, n) -> n > 1 ? n - 1 : null);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new StoreUnavailableException("the store is closed", null);
    }
  }

  @Override
  public synchronized SaveResult save(SaveCommand command) {
    ensureOpen();
    return rules.save(storage, command, null);
  }

  @Override
  public synchronized AppendResult append(AppendCommand command) {
    ensureOpen();
    return rules.append(storage, command);
  }

  @Override
  public synchronized long updateCache(UpdateCacheCommand command) {
    ensureOpen();
    return rules.updateCache(storage, command);
  }

  @Override
  public synchronized boolean clear(ClearCommand command) {
    ensureOpen();
    return rules.clear(storage, command);
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

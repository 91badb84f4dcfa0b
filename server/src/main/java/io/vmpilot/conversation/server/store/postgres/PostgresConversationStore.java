package io.vmpilot.conversation.server.store.postgres;

import io.vmpilot.conversation.server.store.TenantScope;
import io.vmpilot.conversation.server.store.AppendResult;
import io.vmpilot.conversation.server.store.ChangeEvent;
import io.vmpilot.conversation.server.store.ChangeFeed;
import io.vmpilot.conversation.server.store.ChangeQuery;
import io.vmpilot.conversation.server.store.Conversation;
import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.ConversationSummary;
import io.vmpilot.conversation.server.store.HistorySize;
import io.vmpilot.conversation.server.store.ForkResult;
import io.vmpilot.conversation.server.store.ExportQuery;
import io.vmpilot.conversation.server.store.ImportOutcome;
import io.vmpilot.conversation.server.store.ListQuery;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.SaveResult;
import io.vmpilot.conversation.server.store.SearchHit;
import io.vmpilot.conversation.server.store.SearchQuery;
import io.vmpilot.conversation.server.store.StoreStats;
import io.vmpilot.conversation.server.store.StoreStatus;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.ForkCommand;
import io.vmpilot.conversation.server.store.command.ImportCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import io.vmpilot.conversation.server.store.command.UpdateMetadataCommand;
import io.vmpilot.conversation.server.store.error.SearchIndexOffException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.sql.SharedSql;
import io.vmpilot.conversation.server.store.write.WriteRules;
import io.vmpilot.conversation.server.store.write.StoreLimits;
import io.vmpilot.conversation.server.threads.DaemonThreads;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * Conversations in a PostgreSQL database that any number of servers share, with nothing but the database between
 * them: each mutation is {@link WriteRules} over a {@link PostgresStorageTransaction}, one database transaction
 * holding the conversation's row lock, committed before the call returns; nothing is cached between calls.
 *
 * <p>Durable means committed with the database's own {@code synchronous_commit}: PostgreSQL flushes the WAL of
 * concurrent commits together, so requests share syncs without being batched here. The {@code *Async} mutations,
 * which the gRPC service calls from its network threads, run on a pool of this store's own, as many threads as
 * write connections, so that no network thread waits for the database.
 */
public final class PostgresConversationStore implements ConversationStore {
  /** Writes waiting for a connection beyond this many are refused with UNAVAILABLE rather than queued. */
  private static final int MAX_QUEUED_WRITES = 10_000;

  private final PostgresSettings settings;
  private final PostgresDataSource dataSource;
  private final PostgresTransactions transactions;
  private final PostgresReads reads;
  private final WriteRules rules;
  private final ThreadPoolExecutor writeThreads;
  private final byte[] tokenKey;
  private final PostgresChangePoller poller;
  private final Feed feed = new Feed();

  private PostgresConversationStore(PostgresSettings settings, PostgresDataSource dataSource, byte[] tokenKey) {
    this.settings = settings;
    this.tokenKey = tokenKey;
    this.dataSource = dataSource;
    this.transactions = new PostgresTransactions(dataSource.writers, dataSource.readers, settings.searchIndex());
    this.reads = new PostgresReads(transactions);
    this.poller = new PostgresChangePoller(transactions);
    this.rules = new WriteRules(new StoreLimits(settings.maxHistoryBytes(), settings.maxConversationsPerTenant()),
        settings.retention(), Clock.systemUTC());
    this.writeThreads = new ThreadPoolExecutor(settings.poolSize(), settings.poolSize(), 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(MAX_QUEUED_WRITES), DaemonThreads.numbered("postgres-write"));
  }

  /**
   * Connects, checks that the database is UTF8 and migrates its schema. Fails (with the reason, never the
   * password) when the database cannot be reached within the connect timeout.
   */
  public static PostgresConversationStore open(PostgresSettings settings) {
    PostgresDataSource dataSource;
    try {
      dataSource = PostgresDataSource.open(settings);
    } catch (RuntimeException e) {
      throw new StoreUnavailableException(e.getMessage(), e);
    }
    byte[] tokenKey;
    try {
      tokenKey = TokenKey.loadOrCreate(dataSource.writers);
    } catch (SQLException | RuntimeException e) {
      dataSource.close();
      throw new StoreUnavailableException("cannot read the token key from " + settings.displayUrl() + ": "
          + e.getMessage(), e);
    }
    try {
      if (settings.searchIndex()) {
        SearchBackfill.run(dataSource.writers, settings.displayUrl());
      }
    } catch (SQLException | RuntimeException e) {
      dataSource.close();
      throw new StoreUnavailableException("cannot fill in the search index of " + settings.displayUrl() + ": "
          + e.getMessage(), e);
    }
    return new PostgresConversationStore(settings, dataSource, tokenKey);
  }

  public PostgresSettings settings() {
    return settings;
  }

  private <T> T write(String operation, PostgresTransactions.Mutation<T> mutation) {
    return transactions.write(operation, mutation);
  }

  private <T> CompletableFuture<T> async(Supplier<T> mutation) {
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      writeThreads.execute(() -> {
        try {
          result.complete(mutation.get());
        } catch (Throwable e) {
          result.completeExceptionally(e);
        }
      });
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(new StoreUnavailableException(writeThreads.isShutdown()
          ? "the store is closed" : "too many writes are waiting for the database; nothing was written, retry", e));
    }
    return result;
  }

  @Override
  public SaveResult save(SaveCommand cmd) {
    return write("Save", tx -> rules.save(tx, cmd, null));
  }

  @Override
  public CompletableFuture<SaveResult> saveAsync(SaveCommand cmd) {
    return async(() -> save(cmd));
  }

  @Override
  public AppendResult append(AppendCommand cmd) {
    return write("Append", tx -> rules.append(tx, cmd));
  }

  @Override
  public CompletableFuture<AppendResult> appendAsync(AppendCommand cmd) {
    return async(() -> append(cmd));
  }

  @Override
  public long updateCache(UpdateCacheCommand cmd) {
    return write("UpdateCache", tx -> rules.updateCache(tx, cmd));
  }

  @Override
  public CompletableFuture<Long> updateCacheAsync(UpdateCacheCommand cmd) {
    return async(() -> updateCache(cmd));
  }

  /** Watchers learn of the deletions through the change log, as of every write ({@code PostgresChangePoller}). */
  @Override
  public List<ThreadKey> sweepIdle(Instant updatedBefore, TenantScope scope, int limit) {
    return write("retention sweep", tx -> rules.sweepIdle(tx, updatedBefore, scope, limit));
  }

  @Override
  public List<ThreadKey> sweepExpired(int limit) {
    return write("retention sweep", tx -> rules.sweepExpired(tx, limit));
  }

  @Override
  public boolean clear(ClearCommand cmd) {
    return write("Clear", tx -> rules.clear(tx, cmd));
  }

  @Override
  public CompletableFuture<Boolean> clearAsync(ClearCommand cmd) {
    return async(() -> clear(cmd));
  }

  @Override
  public long updateMetadata(UpdateMetadataCommand cmd) {
    return write("UpdateMetadata", tx -> rules.updateMetadata(tx, cmd));
  }

  @Override
  public CompletableFuture<Long> updateMetadataAsync(UpdateMetadataCommand cmd) {
    return async(() -> updateMetadata(cmd));
  }

  /** One INSERT ... SELECT in the database: the messages never come to this process. */
  @Override
  public ForkResult fork(ForkCommand cmd) {
    return write("Fork", tx -> rules.fork(tx, cmd));
  }

  @Override
  public List<SearchHit> search(SearchQuery q) {
    if (!settings.searchIndex()) {
      throw new SearchIndexOffException();
    }
    return reads.search(q);
  }

  @Override
  public ImportOutcome importConversation(ImportCommand cmd) {
    return write("Import", tx -> rules.importConversation(tx, cmd));
  }

  @Override
  public List<ConversationSummary> listByThreadId(ExportQuery q) {
    return reads.listByThreadId(q);
  }

  @Override
  public StoreStatus status(String tenant) {
    SharedSql.TenantCounts counts = reads.tenantCounts(tenant, settings.retention());
    String[] schema = reads.schemaVersionAndSize();
    return new StoreStatus("postgres", schema[0], schema[1], Long.parseLong(schema[2]),
        "synchronous_commit=" + schema[3], counts.conversations(), counts.messages());
  }

  @Override
  public ChangeFeed changeFeed() {
    return feed;
  }

  /**
   * The change log in the database, which every server writes. Commits are signalled by the
   * {@link PostgresChangePoller} alone, this server's as well as the others', so that each is signalled once.
   */
  private final class Feed implements ChangeFeed {
    @Override
    public List<ChangeEvent> changes(ChangeQuery query) {
      return transactions.read(c -> PostgresChangeLog.read(c, query));
    }

    @Override
    public Subscription subscribe(String tenant, ChangeListener listener) {
      return poller.subscribe(tenant, listener);
    }

    @Override
    public int prune(Instant olderThan, int maxEntries) {
      return write("prune change log", tx -> tx.pruneChangeLog(olderThan, maxEntries));
    }
  }

  /** The page-token key kept in the database, the same for every server on it. */
  @Override
  public byte[] tokenKey() {
    return tokenKey.clone();
  }

  @Override
  public Optional<Conversation> get(ThreadKey key, MessageWindow window) {
    return reads.get(key, window);
  }

  @Override
  public Optional<HistorySize> historySize(ThreadKey key) {
    return reads.historySize(key);
  }

  /** The readers' pool (writes have a pool of their own, the same size). */
  @Override
  public int readConnections() {
    return settings.poolSize();
  }

  @Override
  public List<ConversationSummary> list(ListQuery q) {
    return reads.list(q);
  }

  /**
   * Healthy when the database answers on a write connection that can write (not a standby, not read-only), and
   * no write failed for a full disk in the last few seconds.
   */
  @Override
  public void checkHealth() {
    if (writeThreads.isShutdown()) {
      throw new StoreUnavailableException("the store is closed", null);
    }
    if (transactions.recentStorageFailure() != null) {
      throw new StoreUnavailableException("writes are failing: " + transactions.recentStorageFailure().getMessage(),
          null);
    }
    boolean readOnly = transactions.probeWriter(c -> {
      try (var st = c.prepareStatement("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'");
          var rs = st.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    });
    if (readOnly) {
      throw new StoreUnavailableException("the database takes no writes (a standby, or read-only)", null);
    }
  }

  /**
   * The whole database's size (every server's writes) and this server's own write counts; each commit counts as a
   * sync, since PostgreSQL flushes its WAL at commit (sharing flushes between concurrent commits).
   */
  @Override
  public StoreStats stats() {
    long[] totals = reads.totals();
    return new StoreStats(totals[0], totals[1], totals[2], transactions.commits(), transactions.commits(),
        transactions.bytesWritten(), 0);
  }

  @Override
  public List<DataSource> connectionPools() {
    return List.of(dataSource.writers, dataSource.readers);
  }

  /** Finishes the writes already accepted, then closes the connections. */
  @Override
  public void close() {
    poller.close();
    writeThreads.shutdown();
    try {
      writeThreads.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    dataSource.close();
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.TenantScope;
import io.vmpilot.conversation.server.store.AppendResult;
import io.vmpilot.conversation.server.store.ChangeEvent;
import io.vmpilot.conversation.server.store.ChangeFeed;
import io.vmpilot.conversation.server.store.ChangeListeners;
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
import io.vmpilot.conversation.server.store.NewMessage;
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
import io.vmpilot.conversation.server.store.error.SearchIndexOffException;
import io.vmpilot.conversation.server.store.error.BackupOutsideDirectoryException;
import io.vmpilot.conversation.server.store.error.BackupTargetExistsException;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import io.vmpilot.conversation.server.store.command.UpdateMetadataCommand;
import io.vmpilot.conversation.server.store.error.StorageFullException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.sql.SharedSql;
import io.vmpilot.conversation.server.store.write.KeptPrefix;
import io.vmpilot.conversation.server.store.write.StoreLimits;
import io.vmpilot.conversation.server.store.write.WriteRules;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Locale;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;
import java.util.concurrent.CompletionException;

/**
 * Conversations in one SQLite file: one row per conversation and one per message, so an append or a read of the
 * newest messages touches only those rows. Writes are {@link WriteRules} over {@link SqliteStorageTransaction},
 * run by the {@link GroupCommitWriter}; reads ({@link SqliteReads}) use a pool of their own connections.
 */
public final class SqliteConversationStore implements ConversationStore {
  /** Conversation rows the writer remembers; a few MB at most. */
  private static final int REMEMBERED_ROWS = 16_384;
  /** Memory for the client ids the writer keeps (~24-64 bytes per id): ~1-2 million ids. */
  private static final long CLIENT_ID_BYTES = 64L << 20;

  /**
   * Saves with more message bytes than this look for their kept prefix before they reach the writer; below it the
   * writer compares (~2 ms at 1 MiB). Looking first for every Save over 64 KiB cost W2 (Saves of ~165 KB) a
   * quarter of its Saves a second, its batches falling from ~22 to ~5 writes per sync. Such a Save's
   * {@link #saveAsync} waits for that read, which the interface allows above this size.
   */
  static final long FIND_KEPT_PREFIX_ABOVE_BYTES = ASYNC_NEVER_WAITS_UP_TO_BYTES;

  private final SqliteSettings settings;
  private final SqliteDataSources dataSources;
  private final ConversationRows rows;
  private final ClientIds clientIds;
  private final GroupCommitWriter writer;
  /** With durability=normal, what bounds a power loss; null with full, where every acknowledgement waits for a sync. */
  private final PeriodicLogSync periodicLogSync;
  private final WriteRules rules;
  private final SqliteReads reads;
  private final SqliteHealth health;
  private final DiskReserve reserve;
  private final byte[] tokenKey;
  private final ChangeListeners listeners = new ChangeListeners();
  private final Feed feed = new Feed();

  private SqliteConversationStore(SqliteSettings settings, SqliteDataSources dataSources, ConversationRows rows,
      ClientIds clientIds, GroupCommitWriter writer, PeriodicLogSync periodicLogSync, byte[] tokenKey) {
    this.settings = settings;
    this.dataSources = dataSources;
    this.rows = rows;
    this.clientIds = clientIds;
    this.writer = writer;
    this.periodicLogSync = periodicLogSync;
    this.rules = new WriteRules(
        new StoreLimits(settings.maxHistoryBytes(), settings.maxConversationsPerTenant()), settings.retention(),
        Clock.systemUTC());
    this.reads = new SqliteReads(dataSources.readers,
        settings.durability() == Durability.FULL ? writer::awaitDurable : null);
    this.reserve = new DiskReserve(settings.path(), settings.diskReserveBytes());
    reserve.ensure(); // on a disk too full for it, health says so (and the server still starts, to serve reads)
    this.health = new SqliteHealth(writer, reads, reserve, periodicLogSync);
    this.tokenKey = tokenKey;
  }

  /** Opens (creating or migrating as needed) the database described by {@code settings}. */
  public static SqliteConversationStore open(SqliteSettings settings) {
    return open(settings, null);
  }

  /**
   * With a sync of the write-ahead log of the test's ({@code null}: the real one): the acknowledger's with
   * durability=full, the periodic one's with normal.
   */
  static SqliteConversationStore open(SqliteSettings settings, LogSync givenSync) {
    SqliteDataSources dataSources = SqliteDataSources.open(settings);
    try {
      byte[] tokenKey = TokenKeyRow.loadOrCreate(dataSources.writer);
      SqliteSearchIndex.apply(dataSources.writer, settings.searchIndex(), settings.path().toString());
      // With full the acknowledger syncs the log before it answers; with normal a thread of its own, every 200 ms.
      LogSync logSync = givenSync != null ? givenSync : LogSync.writeAheadLogOf(settings.path());
      boolean full = settings.durability() == Durability.FULL;
      ConversationRows rows = new ConversationRows(REMEMBERED_ROWS);
      ClientIds clientIds = new ClientIds(CLIENT_ID_BYTES);
      GroupCommitWriter writer = new GroupCommitWriter(dataSources.writer, settings.maxBatch(),
          full ? logSync : LogSync.NONE, () -> {
        rows.clear();
        clientIds.clear();
      }, settings.searchIndex());
      PeriodicLogSync periodicLogSync = full ? null
          : PeriodicLogSync.start(logSync, writer::committedWrites, PeriodicLogSync.INTERVAL_MILLIS);
      return new SqliteConversationStore(settings, dataSources, rows, clientIds, writer, periodicLogSync, tokenKey);
    } catch (SQLException | IOException | RuntimeException e) {
      dataSources.close();
      throw new StoreUnavailableException("cannot open " + settings.path() + ": " + e.getMessage(), e);
    }
  }

  public SqliteSettings settings() {
    return settings;
  }

  private SqliteStorageTransaction storage(WriteTransaction tx) {
    return new SqliteStorageTransaction(tx, rows, clientIds, settings.searchIndex());
  }

  @Override
  public SaveResult save(SaveCommand cmd) {
    return save(cmd, keptPrefix(cmd));
  }

  /** Save with a kept prefix found before ({@code known}, may be null), which the rules use only if current. */
  SaveResult save(SaveCommand cmd, KeptPrefix known) {
    prepareWords(cmd, known);
    return await(signalled(cmd.key(), writer.submitAsync(tx -> rules.save(storage(tx), cmd, known))));
  }

  @Override
  public CompletableFuture<SaveResult> saveAsync(SaveCommand cmd) {
    KeptPrefix known = keptPrefix(cmd);
    prepareWords(cmd, known);
    return signalled(cmd.key(), writer.submitAsync(tx -> rules.save(storage(tx), cmd, known)));
  }

  /**
   * The kept prefix of a Save of more than {@link #FIND_KEPT_PREFIX_ABOVE_BYTES}, found on a reader connection so
   * that the one writer, which every write waits for, need not read and compare a long history itself (a Save
   * extending 10,000 messages held it ~20 ms); null for smaller Saves and new conversations.
   */
  private KeptPrefix keptPrefix(SaveCommand cmd) {
    if (WriteRules.totalBytes(cmd.messages()) <= FIND_KEPT_PREFIX_ABOVE_BYTES) {
      return null;
    }
    return get(cmd.key(), MessageWindow.ALL).map(stored -> WriteRules.keptPrefix(stored, cmd)).orElse(null);
  }

  /**
   * Works out the search text of messages about to be written here, on the request's thread: indexing on the one
   * writer (which every write waits for) is then only FTS5's own work ({@link SqliteStorageTransaction#insert}).
   */
  private void prepareWords(List<NewMessage> messages) {
    if (settings.searchIndex()) {
      messages.forEach(NewMessage::searchText);
    }
  }

  /** Of a Save, the messages after a known kept prefix; a small Save's are worked out by the writer if it writes them. */
  private void prepareWords(SaveCommand cmd, KeptPrefix known) {
    if (known != null && known.keep() < cmd.messages().size()) {
      prepareWords(cmd.messages().subList(known.keep(), cmd.messages().size()));
    }
  }

  @Override
  public AppendResult append(AppendCommand cmd) {
    prepareWords(cmd.messages());
    return await(signalled(cmd.key(), writer.submitAsync(tx -> rules.append(storage(tx), cmd))));
  }

  @Override
  public CompletableFuture<AppendResult> appendAsync(AppendCommand cmd) {
    prepareWords(cmd.messages());
    return signalled(cmd.key(), writer.submitAsync(tx -> rules.append(storage(tx), cmd)));
  }

  @Override
  public long updateCache(UpdateCacheCommand cmd) {
    return await(signalled(cmd.key(), writer.submitAsync(tx -> rules.updateCache(storage(tx), cmd))));
  }

  @Override
  public CompletableFuture<Long> updateCacheAsync(UpdateCacheCommand cmd) {
    return signalled(cmd.key(), writer.submitAsync(tx -> rules.updateCache(storage(tx), cmd)));
  }

  /**
   * On a full disk a Clear fails too (deleting rows writes to the write-ahead log): then the disk reserve is
   * given up and the Clear runs once more, so that deleting can free space.
   */
  /** One writer task per batch, so the sweep holds the writer no longer than a batch of ordinary writes does. */
  @Override
  public List<ThreadKey> sweepIdle(Instant updatedBefore, TenantScope scope, int limit) {
    return swept(tx -> rules.sweepIdle(storage(tx), updatedBefore, scope, limit));
  }

  @Override
  public List<ThreadKey> sweepExpired(int limit) {
    return swept(tx -> rules.sweepExpired(storage(tx), limit));
  }

  /**
   * Runs one sweep batch as a writer task, then gives the pages it freed back to the file system in steps, each
   * its own writer task ({@link SpaceReturn}), so that the file stops growing under a steady create/expire load.
   */
  /** At most this many steps of {@link SpaceReturn} after one batch (256 MiB at 4 KiB pages). */
  private static final int MAX_VACUUM_STEPS = 64;

  private List<ThreadKey> swept(GroupCommitWriter.Task<List<ThreadKey>> batch) {
    List<ThreadKey> deleted = await(writer.submitAsync(batch));
    deleted.forEach(listeners::changed);
    if (!deleted.isEmpty()) {
      long left;
      int steps = 0;
      do {
        left = await(writer.submitAsync(tx -> {
          if (!SpaceReturn.incremental(tx.connection())) {
            return 0L;
          }
          tx.wroteWithoutVersion();
          return SpaceReturn.step(tx.connection(), SpaceReturn.PAGES_PER_STEP);
        }));
        // Bounded, in case other deletions keep the free list from emptying: the next sweep goes on.
      } while (left > 0 && ++steps < MAX_VACUUM_STEPS);
      // The vacuum's pages went through the log: without this it is the log file that keeps growing.
      if (dataSources.logPages() > LogTruncation.ABOVE_PAGES) {
        writer.truncateLogAfterNextBatch();
      }
    }
    return deleted;
  }

  @Override
  public boolean clear(ClearCommand cmd) {
    try {
      return await(signalled(cmd.key(), writer.submitAsync(tx -> rules.clear(storage(tx), cmd))));
    } catch (StorageFullException full) {
      if (!reserve.release()) {
        throw full;
      }
      return await(signalled(cmd.key(), writer.submitAsync(tx -> rules.clear(storage(tx), cmd))));
    }
  }

  @Override
  public CompletableFuture<Boolean> clearAsync(ClearCommand cmd) {
    return signalled(cmd.key(), writer.submitAsync(tx -> rules.clear(storage(tx), cmd)).exceptionallyCompose(e -> {
      Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
      if (cause instanceof StorageFullException && reserve.release()) {
        return writer.submitAsync(tx -> rules.clear(storage(tx), cmd));
      }
      return CompletableFuture.failedFuture(cause);
    }));
  }

  /** Signals the change once the write is durable (on the acknowledger's thread, which listeners never hold). */
  private <T> CompletableFuture<T> signalled(ThreadKey key, CompletableFuture<T> write) {
    return write.thenApply(result -> {
      listeners.changed(key);
      return result;
    });
  }

  private static <T> T await(CompletableFuture<T> write) {
    try {
      return write.join();
    } catch (CompletionException e) {
      throw (RuntimeException) e.getCause();
    }
  }

  @Override
  public ChangeFeed changeFeed() {
    return feed;
  }

  /** The change log in the file (table change_log): read on the reader pool, pruned by the writer. */
  private final class Feed implements ChangeFeed {
    @Override
    public List<ChangeEvent> changes(ChangeQuery query) {
      return reads.readDurable(c -> SqliteChangeLog.read(c, query));
    }

    @Override
    public Subscription subscribe(String tenant, ChangeListener listener) {
      return listeners.add(tenant, listener);
    }

    @Override
    public int prune(Instant olderThan, int maxEntries) {
      return await(writer.submitAsync(tx -> {
        int deleted = SqliteChangeLog.prune(tx.connection(), olderThan, maxEntries);
        if (deleted > 0) {
          tx.wroteWithoutVersion();
        }
        return deleted;
      }));
    }
  }

  @Override
  public long updateMetadata(UpdateMetadataCommand cmd) {
    return await(signalled(cmd.key(), writer.submitAsync(tx -> rules.updateMetadata(storage(tx), cmd))));
  }

  @Override
  public CompletableFuture<Long> updateMetadataAsync(UpdateMetadataCommand cmd) {
    return signalled(cmd.key(), writer.submitAsync(tx -> rules.updateMetadata(storage(tx), cmd)));
  }

  /** One INSERT ... SELECT on the writer: a 10,000-message fork holds it for milliseconds, not a read of each. */
  @Override
  public ForkResult fork(ForkCommand cmd) {
    return await(signalled(cmd.target(), writer.submitAsync(tx -> rules.fork(storage(tx), cmd))));
  }

  @Override
  public ImportOutcome importConversation(ImportCommand cmd) {
    if (settings.searchIndex()) {
      cmd.messages().forEach(m -> m.message().searchText());
    }
    return await(signalled(cmd.key(), writer.submitAsync(tx -> rules.importConversation(storage(tx), cmd))));
  }

  @Override
  public List<ConversationSummary> listByThreadId(ExportQuery q) {
    return reads.listByThreadId(q);
  }

  @Override
  public StoreStatus status(String tenant) {
    SharedSql.TenantCounts counts = reads.tenantCounts(tenant, settings.retention());
    String[] schema = reads.schemaVersionAndSize();
    return new StoreStatus("sqlite", schema[0], settings.path().toAbsolutePath().toString(), Long.parseLong(schema[1]),
        settings.durability().name().toLowerCase(Locale.ROOT), counts.conversations(), counts.messages());
  }

  /**
   * {@code VACUUM INTO} on a connection of its own: it reads one snapshot (every commit before it began) while the
   * writer goes on, and writes a compact copy; VACUUM refuses to run inside a transaction, so not on a pooled
   * reader. The copy is synced before this returns, so a backup that was reported exists.
   */
  @Override
  public long backup(Path target) {
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new BackupTargetExistsException(target);
    }
    requireInsideBackupDirectory(target);
    try (Connection c = DriverManager.getConnection(settings.jdbcUrl(), SqliteDataSources.pragmas(settings, "DEFERRED"));
        PreparedStatement st = c.prepareStatement("VACUUM INTO ?")) {
      st.setString(1, target.toString());
      st.execute();
    } catch (SQLException e) {
      if (Files.exists(target) && e.getMessage() != null && e.getMessage().contains("output file already exists")) {
        throw new BackupTargetExistsException(target);
      }
      throw new StoreUnavailableException("backup to " + target + " failed: " + e.getMessage(), e);
    }
    try (FileChannel file = FileChannel.open(target, StandardOpenOption.WRITE)) {
      file.force(true);
      return file.size();
    } catch (IOException e) {
      throw new StoreUnavailableException("backup to " + target + " could not be synced: " + e.getMessage(), e);
    }
  }

  /**
   * Refuses a target whose directory, with every symbolic link and ".." resolved, is not the backup directory or
   * under it: a link planted inside cannot lead the copy elsewhere. (The target itself must not exist, not even as
   * a dangling link, which VACUUM INTO would follow.)
   */
  private void requireInsideBackupDirectory(Path target) {
    Path allowed = settings.effectiveBackupDirectory().toAbsolutePath().normalize();
    Path parent = target.toAbsolutePath().normalize().getParent();
    // Lexically first, so that a caller learns nothing about directories outside (whether they exist).
    if (parent == null || !parent.startsWith(allowed)) {
      throw new BackupOutsideDirectoryException(target, allowed);
    }
    Path realParent;
    Path realAllowed;
    try {
      realAllowed = allowed.toRealPath();
      realParent = parent.toRealPath();
    } catch (IOException e) {
      throw new StoreUnavailableException("backup to " + target + " failed: its directory cannot be used: " + e, e);
    }
    if (!realParent.startsWith(realAllowed)) {
      throw new BackupOutsideDirectoryException(target, allowed);
    }
  }

  @Override
  public Optional<Conversation> get(ThreadKey key, MessageWindow window) {
    return reads.get(key, window);
  }

  @Override
  public Optional<HistorySize> historySize(ThreadKey key) {
    return reads.historySize(key);
  }

  /** The readers' pool ({@code --database-read-connections}); the writer has its own connection. */
  @Override
  public int readConnections() {
    return settings.readPoolSize();
  }

  @Override
  public List<ConversationSummary> list(ListQuery q) {
    return reads.list(q);
  }

  @Override
  public List<SearchHit> search(SearchQuery q) {
    if (!settings.searchIndex()) {
      throw new SearchIndexOffException();
    }
    return reads.search(q);
  }

  /** Kept in the file (table token_key), so tokens stay valid across restarts. */
  @Override
  public byte[] tokenKey() {
    return tokenKey.clone();
  }

  @Override
  public void checkHealth() {
    health.check();
  }

  @Override
  public StoreStats stats() {
    return health.stats();
  }

  /**
   * The readers' pool. Not the writer's: its one connection stays with the writer thread from batch to batch, so
   * its pool's figures would say nothing.
   */
  @Override
  public List<DataSource> connectionPools() {
    return List.of(dataSources.readers);
  }

  @Override
  public void close() {
    writer.close();
    if (periodicLogSync != null) {
      periodicLogSync.close();
    }
    dataSources.close();
  }
}

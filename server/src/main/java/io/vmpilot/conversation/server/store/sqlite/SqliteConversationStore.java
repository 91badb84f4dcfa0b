package io.vmpilot.conversation.server.store.sqlite;

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
import io.vmpilot.conversation.server.store.sqlite.ConversationRows.Row;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.sqlite.SQLiteConnection;

/**
 * Conversations in one SQLite file: one row per conversation and one per message, so an append or a read of the
 * newest messages touches only those rows. Writes go through the {@link GroupCommitWriter}; reads use a pool of
 * their own connections, each read in one transaction so that it sees a consistent snapshot (WAL mode lets
 * them run while the writer commits).
 */
public final class SqliteConversationStore implements ConversationStore {
  private final SqliteSettings settings;
  private final SqliteDataSources dataSources;
  private final ConversationRows rows;
  private final ClientIds clientIds;
  private final GroupCommitWriter writer;
  private final Clock clock;
  // Used by one reader at a time each: the pool lends a connection to one thread.
  private final Map<SQLiteConnection, StatementCache> readerStatements = new ConcurrentHashMap<>();

  private SqliteConversationStore(SqliteSettings settings, SqliteDataSources dataSources, ConversationRows rows,
      ClientIds clientIds, GroupCommitWriter writer, Clock clock) {
    this.settings = settings;
    this.dataSources = dataSources;
    this.rows = rows;
    this.clientIds = clientIds;
    this.writer = writer;
    this.clock = clock;
  }

  /** Conversation rows the writer remembers; a few MB at most. */
  private static final int REMEMBERED_ROWS = 16_384;
  /** Memory for the client ids the writer keeps (~24-64 bytes per id): ~1-2 million ids. */
  private static final long CLIENT_ID_BYTES = 64L << 20;

  /** Opens (creating or migrating as needed) the database described by {@code settings}. */
  public static SqliteConversationStore open(SqliteSettings settings) {
    SqliteDataSources dataSources = SqliteDataSources.open(settings);
    try {
      LogSync logSync = settings.durability() == Durability.FULL
          ? LogSync.writeAheadLogOf(settings.path()) : LogSync.NONE;
      ConversationRows rows = new ConversationRows(REMEMBERED_ROWS);
      ClientIds clientIds = new ClientIds(CLIENT_ID_BYTES);
      GroupCommitWriter writer = new GroupCommitWriter(dataSources.writer, settings.maxBatch(), logSync, () -> {
        rows.clear();
        clientIds.clear();
      });
      return new SqliteConversationStore(settings, dataSources, rows, clientIds, writer, Clock.systemUTC());
    } catch (SQLException | IOException | RuntimeException e) {
      dataSources.close();
      throw new StoreUnavailableException("cannot open " + settings.path() + ": " + e.getMessage(), e);
    }
  }

  public SqliteSettings settings() {
    return settings;
  }

  private long nowMicros() {
    Instant now = clock.instant();
    return ChronoUnit.MICROS.between(Instant.EPOCH, now);
  }

  private static Instant fromMicros(long micros) {
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }

  // ---- writes -------------------------------------------------------------------------------------------

  @Override
  public SaveResult save(SaveCommand cmd) {
    return save(cmd, keptPrefix(cmd));
  }

  /** Save with a kept prefix found before ({@code known}, may be null), which the writer uses only if current. */
  SaveResult save(SaveCommand cmd, KeptPrefix known) {
    return writer.submit(saveTask(cmd, known));
  }

  @Override
  public CompletableFuture<SaveResult> saveAsync(SaveCommand cmd) {
    return writer.submitAsync(saveTask(cmd, keptPrefix(cmd)));
  }

  /**
   * How much of the stored history a Save keeps, as of the conversation's version: found by comparing the stored
   * messages with the Save's on a reader connection, so that the one writer, which every write waits for, need
   * not read and compare a long history itself (a Save extending 10,000 messages held it ~20 ms).
   *
   * @param version the conversation's version when the prefix was found; versions never repeat, so a row still
   *     at this version holds exactly the messages compared
   */
  record KeptPrefix(long version, int keep) {}

  /**
   * Saves with more message bytes than this look for their kept prefix before they reach the writer; below it the
   * writer compares (~2 ms at 1 MiB). Looking first for every Save over 64 KiB cost W2 (Saves of ~165 KB) a
   * quarter of its Saves a second, its batches falling from ~22 to ~5 writes per sync. The limit is far above
   * {@link #NETWORK_THREAD_WRITE_BYTES}, so such a Save never comes from a network thread and may wait for the
   * read.
   */
  static final long FIND_KEPT_PREFIX_ABOVE_BYTES = 1 << 20;

  /**
   * The kept prefix of a Save of more than {@link #FIND_KEPT_PREFIX_ABOVE_BYTES}; null for smaller Saves, whose
   * histories the writer compares itself, and for new conversations.
   */
  private KeptPrefix keptPrefix(SaveCommand cmd) {
    if (MutationRules.totalBytes(cmd.messages()) <= FIND_KEPT_PREFIX_ABOVE_BYTES) {
      return null;
    }
    return get(cmd.key(), MessageWindow.ALL)
        .map(stored -> new KeptPrefix(stored.summary().version(),
            MutationRules.commonPrefix(stored.messages(), cmd.messages())))
        .orElse(null);
  }

  @Override
  public AppendResult append(AppendCommand cmd) {
    return writer.submit(appendTask(cmd));
  }

  @Override
  public CompletableFuture<AppendResult> appendAsync(AppendCommand cmd) {
    return writer.submitAsync(appendTask(cmd));
  }

  @Override
  public long updateCache(ThreadKey key, Map<String, Long> cacheInfo, OptionalLong expectedVersion) {
    return writer.submit(updateCacheTask(key, cacheInfo, expectedVersion));
  }

  @Override
  public CompletableFuture<Long> updateCacheAsync(ThreadKey key, Map<String, Long> cacheInfo,
      OptionalLong expectedVersion) {
    return writer.submitAsync(updateCacheTask(key, cacheInfo, expectedVersion));
  }

  @Override
  public boolean clear(ThreadKey key, OptionalLong expectedVersion) {
    return writer.submit(clearTask(key, expectedVersion));
  }

  @Override
  public CompletableFuture<Boolean> clearAsync(ThreadKey key, OptionalLong expectedVersion) {
    return writer.submitAsync(clearTask(key, expectedVersion));
  }

  /** {@code known}: the prefix found before, used if the conversation is still at its version; may be null. */
  private GroupCommitWriter.Task<SaveResult> saveTask(SaveCommand cmd, KeptPrefix known) {
    return tx -> {
      Connection c = tx.connection();
      Row row = findRow(c, cmd.key());
      MutationRules.checkVersion(cmd.key(), cmd.expectedVersion(), row == null ? 0 : row.version());
      long historyBytes = MutationRules.totalBytes(cmd.messages());
      MutationRules.checkHistorySize(cmd.key(), settings.maxHistoryBytes(), historyBytes);
      long now = nowMicros();
      long id;
      int keep = 0;
      if (row == null) {
        id = createRow(c, cmd.key(), now);
      } else {
        id = row.id();
        keep = known != null && known.version() == row.version()
            ? known.keep()
            : MutationRules.commonPrefix(readMessages(c, id, 0), cmd.messages());
        if (keep < row.messageCount()) {
          try (PreparedStatement st = c.prepareStatement(
              "DELETE FROM messages WHERE conversation_id = ? AND position >= ?")) {
            st.setLong(1, id);
            st.setLong(2, keep);
            st.executeUpdate();
          }
        }
      }
      List<NewMessage> tail = cmd.messages().subList(keep, cmd.messages().size());
      insertMessages(tx, id, keep, tail, now);
      clientIds.replaced(id, cmd.messages());
      upsertMetadata(c, id, cmd.metadata());
      long version = tx.nextVersion();
      // Save sets the counters it names and keeps the others (VMPilot's merge).
      updateRow(c, cmd.key(), new Row(id, version, cmd.messages().size(), historyBytes), now,
          CountersChange.MERGE, JsonColumns.counters(cmd.cacheInfo()));
      return new SaveResult(version, cmd.messages().size(), row == null, tail.size());
    };
  }

  private GroupCommitWriter.Task<AppendResult> appendTask(AppendCommand cmd) {
    return tx -> {
      Connection c = tx.connection();
      Row row = findRow(c, cmd.key());
      Set<String> storedIds = row == null ? Set.of() : clientIds.storedAmong(c, row.id(), cmd.messages());
      if (row != null && MutationRules.isReplay(cmd.messages(), storedIds)) {
        return new AppendResult(row.version(), row.messageCount(), 0, false);
      }
      MutationRules.checkVersion(cmd.key(), cmd.expectedVersion(), row == null ? 0 : row.version());
      List<NewMessage> fresh = MutationRules.newMessagesOfAppend(cmd.messages(), storedIds);
      long before = row == null ? 0 : row.historyBytes();
      long historyBytes = before + MutationRules.totalBytes(fresh);
      MutationRules.checkHistorySize(cmd.key(), settings.maxHistoryBytes(), historyBytes);
      long now = nowMicros();
      long id;
      if (row == null) {
        id = createRow(c, cmd.key(), now);
        clientIds.created(id);
      } else {
        id = row.id();
      }
      long count = row == null ? 0 : row.messageCount();
      insertMessages(tx, id, count, fresh, now);
      clientIds.added(id, count, fresh);
      long version = tx.nextVersion();
      updateRow(c, cmd.key(), new Row(id, version, count + fresh.size(), historyBytes), now, CountersChange.KEEP,
          null);
      return new AppendResult(version, count + fresh.size(), fresh.size(), row == null);
    };
  }

  private GroupCommitWriter.Task<Long> updateCacheTask(ThreadKey key, Map<String, Long> cacheInfo,
      OptionalLong expectedVersion) {
    return tx -> {
      Connection c = tx.connection();
      Row row = findRow(c, key);
      if (row == null) {
        throw new ConversationNotFoundException(key);
      }
      MutationRules.checkVersion(key, expectedVersion, row.version());
      long version = tx.nextVersion();
      updateRow(c, key, new Row(row.id(), version, row.messageCount(), row.historyBytes()), nowMicros(),
          CountersChange.REPLACE, JsonColumns.counters(cacheInfo));
      return version;
    };
  }

  private GroupCommitWriter.Task<Boolean> clearTask(ThreadKey key, OptionalLong expectedVersion) {
    return tx -> {
      Connection c = tx.connection();
      Row row = findRow(c, key);
      MutationRules.checkVersion(key, expectedVersion, row == null ? 0 : row.version());
      if (row == null) {
        return false;
      }
      try (PreparedStatement st = c.prepareStatement("DELETE FROM conversations WHERE conversation_id = ?")) {
        st.setLong(1, row.id());
        st.executeUpdate();
      }
      rows.remove(key);
      clientIds.removed(row.id());
      tx.nextVersion();
      return true;
    };
  }

  /** The conversation's row (as the writer remembers it, or read), or null if there is none. */
  private Row findRow(Connection c, ThreadKey key) throws SQLException {
    Row remembered = rows.get(key);
    if (remembered != null) {
      return remembered;
    }
    try (PreparedStatement st = c.prepareStatement(
        "SELECT conversation_id, version, message_count, history_bytes FROM conversations"
            + " WHERE tenant = ? AND thread_id = ?")) {
      st.setString(1, key.tenant());
      st.setString(2, key.threadId());
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        Row row = new Row(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
        rows.put(key, row);
        return row;
      }
    }
  }

  /**
   * Inserts a new conversation after checking its tenant's limit, in the same transaction (and by the one
   * writer), so no two creations can both take the last free place.
   */
  private long createRow(Connection c, ThreadKey key, long now) throws SQLException {
    long limit = settings.maxConversationsPerTenant();
    if (limit != Long.MAX_VALUE) {
      // Counting stops at the limit; the (tenant, version) index covers the scan.
      try (PreparedStatement st = c.prepareStatement(
          "SELECT count(*) FROM (SELECT 1 FROM conversations WHERE tenant = ? LIMIT ?)")) {
        st.setString(1, key.tenant());
        st.setLong(2, limit);
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          MutationRules.checkConversationLimit(key, limit, rs.getLong(1));
        }
      }
    }
    return insertRow(c, key, now);
  }

  private static long insertRow(Connection c, ThreadKey key, long now) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO conversations (tenant, thread_id, version, create_time, update_time, message_count,"
            + " history_bytes) VALUES (?, ?, 0, ?, ?, 0, 0) RETURNING conversation_id")) {
      st.setString(1, key.tenant());
      st.setString(2, key.threadId());
      st.setLong(3, now);
      st.setLong(4, now);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * What a mutation does to the row's cache counters. Each is its own statement (compiled once): parsing and
   * rewriting the counters' JSON when nothing changes them (every Append) cost the writer ~1% of its time.
   */
  private enum CountersChange {
    /** Append: the counters stay as they are. */
    KEEP(""),
    /** UpdateCache: the given counters (a JSON object this store wrote) replace all. */
    REPLACE(", cache_info = ?"),
    /** Save: the given counters are set and the others kept (VMPilot's merge), in SQL, without reading them. */
    MERGE(", cache_info = json_patch(cache_info, ?)");

    final String sql;

    CountersChange(String assignment) {
      this.sql = "UPDATE conversations SET version = ?, update_time = ?, message_count = ?, history_bytes = ?"
          + assignment + " WHERE conversation_id = ?";
    }
  }

  /** Sets the row's version and sizes, and changes its cache counters as {@code change} says. */
  private void updateRow(Connection c, ThreadKey key, Row row, long now, CountersChange change, String counters)
      throws SQLException {
    try (PreparedStatement st = c.prepareStatement(change.sql)) {
      int i = 0;
      st.setLong(++i, row.version());
      st.setLong(++i, now);
      st.setLong(++i, row.messageCount());
      st.setLong(++i, row.historyBytes());
      if (change != CountersChange.KEEP) {
        st.setString(++i, counters);
      }
      st.setLong(++i, row.id());
      st.executeUpdate();
    }
    rows.put(key, row);
  }

  private static void insertMessages(WriteTransaction tx, long id, long firstPosition, List<NewMessage> messages,
      long now) throws SQLException {
    if (messages.isEmpty()) {
      return;
    }
    try (PreparedStatement st = tx.connection().prepareStatement(
        "INSERT INTO messages (conversation_id, position, message_id, json, create_time) VALUES (?, ?, ?, ?, ?)")) {
      long position = firstPosition;
      for (NewMessage m : messages) {
        st.setLong(1, id);
        st.setLong(2, position++);
        st.setString(3, m.hasId() ? m.id() : null);
        st.setString(4, m.json());
        st.setLong(5, now);
        st.addBatch();
        tx.countBytesWritten(m.utf8Bytes());
      }
      st.executeBatch();
    }
  }

  private static void upsertMetadata(Connection c, long id, Map<String, String> entries) throws SQLException {
    if (entries.isEmpty()) {
      return;
    }
    try (PreparedStatement st = c.prepareStatement("INSERT INTO metadata (conversation_id, name, value)"
        + " VALUES (?, ?, ?) ON CONFLICT (conversation_id, name) DO UPDATE SET value = excluded.value")) {
      for (Map.Entry<String, String> e : entries.entrySet()) {
        st.setLong(1, id);
        st.setString(2, e.getKey());
        st.setString(3, e.getValue());
        st.addBatch();
      }
      st.executeBatch();
    }
  }

  // ---- reads --------------------------------------------------------------------------------------------

  /** A read in one transaction over a pooled reader connection. */
  private interface Read<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T read(Read<T> read) {
    try (Connection c = dataSources.readers.getConnection()) {
      try {
        return read.run(statementsOf(c).connection());
      } finally {
        c.rollback();
      }
    } catch (SQLException e) {
      throw SqliteFailures.translate("read", e);
    }
  }

  /**
   * The compiled statements of a pooled reader connection: sqlite-jdbc compiles every {@code prepareStatement}
   * anew, and compiling was about half of what a Get cost.
   */
  private StatementCache statementsOf(Connection pooled) throws SQLException {
    SQLiteConnection physical = pooled.unwrap(SQLiteConnection.class);
    StatementCache cached = readerStatements.get(physical);
    if (cached == null) {
      // The pool retires connections now and then; their statements went with them.
      for (SQLiteConnection known : readerStatements.keySet()) {
        if (known.isClosed()) {
          readerStatements.remove(known);
        }
      }
      cached = new StatementCache(physical);
      readerStatements.put(physical, cached);
    }
    return cached;
  }

  @Override
  public Optional<Conversation> get(ThreadKey key, MessageWindow window) {
    return read(c -> {
      List<Found> found = summaries(c,
          "SELECT " + SUMMARY_COLUMNS + " FROM conversations WHERE tenant = ? AND thread_id = ?",
          List.of(key.tenant(), key.threadId()));
      if (found.isEmpty()) {
        return Optional.empty();
      }
      Found f = found.get(0);
      long first = window.firstPosition(f.summary().messageCount());
      return Optional.of(new Conversation(f.summary(), readMessages(c, f.id(), first)));
    });
  }

  private static List<StoredMessage> readMessages(Connection c, long id, long firstPosition) throws SQLException {
    List<StoredMessage> messages = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(
        "SELECT message_id, json, position, create_time FROM messages"
            + " WHERE conversation_id = ? AND position >= ? ORDER BY position")) {
      st.setLong(1, id);
      st.setLong(2, firstPosition);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          String messageId = rs.getString(1);
          // The column's UTF-8 bytes as SQLite has them: the service sends them on without a String between.
          messages.add(new StoredMessage(messageId == null ? "" : messageId, JsonText.ofUtf8(rs.getBytes(2)),
              rs.getLong(3), fromMicros(rs.getLong(4))));
        }
      }
    }
    return messages;
  }

  @Override
  public List<ConversationSummary> list(ListQuery q) {
    StringBuilder sql = new StringBuilder(
        "SELECT " + SUMMARY_COLUMNS + " FROM conversations c WHERE tenant = ? AND version < ?");
    List<Object> params = new ArrayList<>(List.of(q.tenant(), q.beforeVersion()));
    q.metadataFilter().forEach((name, value) -> {
      sql.append(" AND EXISTS (SELECT 1 FROM metadata m WHERE m.conversation_id = c.conversation_id"
          + " AND m.name = ? AND m.value = ?)");
      params.add(name);
      params.add(value);
    });
    sql.append(" ORDER BY version DESC LIMIT ?");
    params.add(q.limit());
    return read(c -> summaries(c, sql.toString(), params)).stream().map(Found::summary).toList();
  }

  /** A conversation found by a query, with its row id. */
  private record Found(long id, ConversationSummary summary) {}

  /** What {@link #summaries} reads, in this order. */
  private static final String SUMMARY_COLUMNS = "conversation_id, tenant, thread_id, version, create_time,"
      + " update_time, message_count, history_bytes, cache_info";

  /** Runs a query over conversations ({@link #SUMMARY_COLUMNS}), then fetches the metadata of the rows found. */
  private static List<Found> summaries(Connection c, String sql, List<?> params) throws SQLException {
    record Columns(long id, ThreadKey key, long version, long createTime, long updateTime, long messageCount,
        long historyBytes, String cacheInfo) {}
    List<Columns> rows = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < params.size(); i++) {
        st.setObject(i + 1, params.get(i));
      }
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          rows.add(new Columns(rs.getLong(1), new ThreadKey(rs.getString(2), rs.getString(3)), rs.getLong(4),
              rs.getLong(5), rs.getLong(6), rs.getLong(7), rs.getLong(8), rs.getString(9)));
        }
      }
    }
    Map<Long, Map<String, String>> metadata = new HashMap<>();
    if (!rows.isEmpty()) {
      StringBuilder ids = new StringBuilder("[");
      for (Columns r : rows) {
        ids.append(ids.length() == 1 ? "" : ",").append(r.id());
      }
      // The ids as one JSON array parameter, so that the statement's text is always the same (and compiled once).
      readEntries(c, "SELECT conversation_id, name, value FROM metadata"
              + " WHERE conversation_id IN (SELECT value FROM json_each(?))", ids.append(']').toString(),
          (id, name, rs) -> metadata.computeIfAbsent(id, k -> new HashMap<>()).put(name, rs.getString(3)));
    }
    List<Found> result = new ArrayList<>(rows.size());
    for (Columns r : rows) {
      result.add(new Found(r.id(), new ConversationSummary(r.key(), r.messageCount(), r.historyBytes(),
          JsonColumns.parseCounters(r.cacheInfo()), metadata.getOrDefault(r.id(), Map.of()), r.version(),
          fromMicros(r.createTime()), fromMicros(r.updateTime()))));
    }
    return result;
  }

  private interface EntrySink {
    void accept(long conversationId, String name, ResultSet rs) throws SQLException;
  }

  private static void readEntries(Connection c, String sql, String parameter, EntrySink sink) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, parameter);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          sink.accept(rs.getLong(1), rs.getString(2), rs);
        }
      }
    }
  }

  /** After a storage failure, how long health waits before trying a write of its own to see if it passed. */
  private static final long PROBE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(5);

  /**
   * Healthy when the database can be read and the last write did not fail for a storage reason (disk full, I/O
   * error). After such a failure the store is unhealthy until a write commits again: a client's, or an empty
   * probe write that this check makes once no write has failed for a few seconds.
   */
  @Override
  public void checkHealth() {
    if (!writer.isRunning()) {
      throw new StoreUnavailableException("the database writer has stopped", null);
    }
    if (writer.storageFailure() != null) {
      if (System.nanoTime() - writer.storageFailureNanos() < PROBE_AFTER_NANOS) {
        throw new StoreUnavailableException("writes are failing: " + writer.storageFailure().getMessage(), null);
      }
      // A write of the revision counter: commits (and clears the failure) only if the storage takes writes again.
      writer.submit(WriteTransaction::nextVersion);
    }
    read(c -> {
      try (PreparedStatement st = c.prepareStatement("SELECT revision FROM store_revision");
          ResultSet rs = st.executeQuery()) {
        return rs.next();
      }
    });
  }

  @Override
  public StoreStats stats() {
    return read(c -> {
      try (PreparedStatement st = c.prepareStatement(
              "SELECT count(*), coalesce(sum(message_count), 0), coalesce(sum(history_bytes), 0) FROM conversations");
          ResultSet rs = st.executeQuery()) {
        rs.next();
        return new StoreStats(rs.getLong(1), rs.getLong(2), rs.getLong(3), writer.committedWrites(),
            writer.syncs(), writer.bytesWritten());
      }
    });
  }

  @Override
  public void close() {
    writer.close();
    dataSources.close();
  }
}

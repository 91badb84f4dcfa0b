package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.Conversation;
import io.vmpilot.conversation.server.store.ConversationSummary;
import io.vmpilot.conversation.server.store.HistorySize;
import io.vmpilot.conversation.server.store.ExportQuery;
import io.vmpilot.conversation.server.store.JsonText;
import io.vmpilot.conversation.server.store.ListQuery;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.SearchHit;
import io.vmpilot.conversation.server.store.SearchQuery;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.sql.SharedSql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import io.vmpilot.conversation.server.store.Retention;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.sqlite.SQLiteConnection;

/**
 * The reads, each in one transaction over a pooled reader connection so that it sees a consistent snapshot (WAL
 * mode lets them run while the writer commits).
 *
 * <p>A commit is visible to readers as soon as the writer commits, before the acknowledger has synced the log.
 * With {@code durability=full} a read of conversations therefore notes the newest revision its snapshot holds and
 * answers only once that revision is durable, so that no client is shown what a power loss could still take back
 * (a wait of at most one sync, and only for a read that sees a write still being synced).
 */
final class SqliteReads {
  /** How long a read waits for the sync of what it saw before it gives up with UNAVAILABLE. */
  private static final long DURABLE_WAIT_MILLIS = 10_000;

  /** Waits until a revision is durable; {@code null} when every commit is as durable as the store promises. */
  interface DurableWait {
    void awaitDurable(long revision, long timeoutMillis);
  }

  private final DataSource readers;
  private final DurableWait durability;
  // Used by one reader at a time each: the pool lends a connection to one thread.
  private final Map<SQLiteConnection, StatementCache> readerStatements = new ConcurrentHashMap<>();

  SqliteReads(DataSource readers, DurableWait durability) {
    this.readers = readers;
    this.durability = durability;
  }

  /** A read in one transaction over a pooled reader connection. */
  interface Read<T> {
    T run(Connection c) throws SQLException;
  }

  <T> T read(Read<T> read) {
    try (Connection c = readers.getConnection()) {
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

  /** A read of conversations: answers once what its snapshot holds is durable (see the class comment). */
  <T> T readDurable(Read<T> read) {
    if (durability == null) {
      return read(read);
    }
    long[] seen = new long[1];
    T result = read(c -> {
      T value = read.run(c);
      try (PreparedStatement st = c.prepareStatement("SELECT revision FROM store_revision WHERE id = 1");
          ResultSet rs = st.executeQuery()) {
        seen[0] = rs.next() ? rs.getLong(1) : 0;
      }
      return value;
    });
    durability.awaitDurable(seen[0], DURABLE_WAIT_MILLIS);
    return result;
  }

  /** One query, not made durable first: a hint (see ConversationStore#historySize). */
  Optional<HistorySize> historySize(ThreadKey key) {
    return read(c -> SharedSql.historySize(c, key, liveAt()));
  }

  Optional<Conversation> get(ThreadKey key, MessageWindow window) {
    return readDurable(c -> {
      List<Found> found = summaries(c,
          "SELECT " + SUMMARY_COLUMNS + " FROM conversations WHERE tenant = ? AND thread_id = ?" + LIVE,
          List.of(key.tenant(), key.threadId(), liveAt()));
      if (found.isEmpty()) {
        return Optional.empty();
      }
      Found f = found.get(0);
      long first = window.firstPosition(f.summary().messageCount());
      return Optional.of(new Conversation(f.summary(), messages(c, f.id(), first)));
    });
  }

  /** The conversation's messages from {@code firstPosition} on, oldest first. */
  static List<StoredMessage> messages(Connection c, long id, long firstPosition) throws SQLException {
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
              rs.getLong(3), Micros.toInstant(rs.getLong(4))));
        }
      }
    }
    return messages;
  }

  List<ConversationSummary> list(ListQuery q) {
    StringBuilder sql = new StringBuilder(
        "SELECT " + SUMMARY_COLUMNS + " FROM conversations c WHERE tenant = ? AND version < ?" + LIVE);
    List<Object> params = new ArrayList<>(List.of(q.tenant(), q.beforeVersion(), liveAt()));
    if (q.updatedSince() != null) {
      sql.append(" AND update_time >= ?");
      params.add(Micros.of(q.updatedSince()));
    }
    q.metadataFilter().forEach((name, value) -> {
      sql.append(" AND EXISTS (SELECT 1 FROM metadata m WHERE m.conversation_id = c.conversation_id"
          + " AND m.name = ? AND m.value = ?)");
      params.add(name);
      params.add(value);
    });
    sql.append(" ORDER BY version DESC LIMIT ?");
    params.add(q.limit());
    return readDurable(c -> summaries(c, sql.toString(), params)).stream().map(Found::summary).toList();
  }

  /**
   * Through the FTS5 index ({@code message_text}, kept in the messages' transaction, see {@link SqliteSearchIndex}): the phrases as
   * FTS5 strings (their words hold only letters and digits, so nothing in them is FTS5 syntax), ranked by bm25.
   */
  List<SearchHit> search(SearchQuery q) {
    StringBuilder match = new StringBuilder();
    for (List<String> phrase : q.phrases()) {
      match.append(match.isEmpty() ? "" : " AND ").append('"').append(String.join(" ", phrase)).append('"');
    }
    StringBuilder sql = new StringBuilder("SELECT c.thread_id, m.position, m.json, t.score"
        + " FROM (SELECT rowid AS id, -bm25(message_text) AS score FROM message_text WHERE message_text MATCH ?) t"
        + " JOIN messages m ON m.rowid = t.id JOIN conversations c ON c.conversation_id = m.conversation_id"
        + " WHERE c.tenant = ? AND (c.expire_time IS NULL OR c.expire_time > ?)");
    List<Object> params = new ArrayList<>(List.of(match.toString(), q.tenant(), liveAt()));
    if (q.updatedSince() != null) {
      sql.append(" AND c.update_time >= ?");
      params.add(Micros.of(q.updatedSince()));
    }
    q.metadataFilter().forEach((name, value) -> {
      sql.append(" AND EXISTS (SELECT 1 FROM metadata f WHERE f.conversation_id = c.conversation_id"
          + " AND f.name = ? AND f.value = ?)");
      params.add(name);
      params.add(value);
    });
    sql.append(" ORDER BY t.score DESC, c.version DESC, m.position LIMIT ? OFFSET ?");
    params.add(q.limit());
    params.add(q.offset());
    return readDurable(c -> SharedSql.searchHits(c, sql.toString(), params, q.phrases()));
  }

  /**
   * A page in thread id order. SQLite compares TEXT by its UTF-8 bytes (BINARY), which is code point order, and the
   * (tenant, thread_id) key serves both the cursor and the order.
   */
  List<ConversationSummary> listByThreadId(ExportQuery q) {
    StringBuilder sql = new StringBuilder(
        "SELECT " + SUMMARY_COLUMNS + " FROM conversations c WHERE tenant = ? AND thread_id > ?" + LIVE);
    List<Object> params = new ArrayList<>(List.of(q.tenant(), q.afterThreadId(), liveAt()));
    q.updatedAfter().ifPresent(t -> {
      sql.append(" AND update_time >= ?");
      params.add(Micros.of(t));
    });
    q.updatedBefore().ifPresent(t -> {
      sql.append(" AND update_time < ?");
      params.add(Micros.of(t));
    });
    if (!q.threadIds().isEmpty()) {
      sql.append(" AND thread_id IN (SELECT value FROM json_each(?))");
      params.add(JsonColumns.strings(q.threadIds()));
    }
    q.metadataFilter().forEach((name, value) -> {
      sql.append(" AND EXISTS (SELECT 1 FROM metadata m WHERE m.conversation_id = c.conversation_id"
          + " AND m.name = ? AND m.value = ?)");
      params.add(name);
      params.add(value);
    });
    sql.append(" ORDER BY thread_id LIMIT ?");
    params.add(q.limit());
    return readDurable(c -> summaries(c, sql.toString(), params)).stream().map(Found::summary).toList();
  }

  /** The tenant's conversations and messages. */
  SharedSql.TenantCounts tenantCounts(String tenant, Retention retention) {
    Instant now = Instant.now();
    Long idleCutoff = retention.idleCutoff(tenant, now).map(Micros::of).orElse(null);
    return read(c -> SharedSql.tenantCounts(c, tenant, Micros.of(now), idleCutoff));
  }

  /** The last migration applied, and the database's size in bytes (pages in use and free). */
  String[] schemaVersionAndSize() {
    return read(c -> {
      String version = SharedSql.schemaVersion(c);
      try (PreparedStatement st = c.prepareStatement(
          "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
          ResultSet rs = st.executeQuery()) {
        rs.next();
        return new String[] {version, Long.toString(rs.getLong(1))};
      }
    });
  }

  /**
   * Leaves out conversations past their own expire time (V15), which are gone for every reader from that moment,
   * before the sweep deletes them; its parameter is {@link #liveAt}.
   */
  private static final String LIVE = " AND (expire_time IS NULL OR expire_time > ?)";

  /** The present as {@link #LIVE} compares it. */
  private static long liveAt() {
    return Micros.of(Instant.now());
  }

  /** A conversation found by a query, with its row id. */
  private record Found(long id, ConversationSummary summary) {}

  /** What {@link #summaries} reads, in this order. */
  private static final String SUMMARY_COLUMNS = "conversation_id, tenant, thread_id, version, create_time,"
      + " update_time, message_count, history_bytes, cache_info, expire_time";

  /** Runs a query over conversations ({@link #SUMMARY_COLUMNS}), then fetches the metadata of the rows found. */
  private static List<Found> summaries(Connection c, String sql, List<?> params) throws SQLException {
    record Columns(long id, ThreadKey key, long version, long createTime, long updateTime, long messageCount,
        long historyBytes, String cacheInfo, Long expireTime) {}
    List<Columns> rows = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < params.size(); i++) {
        st.setObject(i + 1, params.get(i));
      }
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          rows.add(new Columns(rs.getLong(1), new ThreadKey(rs.getString(2), rs.getString(3)), rs.getLong(4),
              rs.getLong(5), rs.getLong(6), rs.getLong(7), rs.getLong(8), rs.getString(9),
              rs.getObject(10) == null ? null : rs.getLong(10)));
        }
      }
    }
    Map<Long, Map<String, String>> metadata = rows.isEmpty() ? Map.of() : metadataOf(c, rows.stream()
        .mapToLong(Columns::id).toArray());
    List<Found> result = new ArrayList<>(rows.size());
    for (Columns r : rows) {
      result.add(new Found(r.id(), new ConversationSummary(r.key(), r.messageCount(), r.historyBytes(),
          JsonColumns.parseCounters(r.cacheInfo()), metadata.getOrDefault(r.id(), Map.of()), r.version(),
          Micros.toInstant(r.createTime()), Micros.toInstant(r.updateTime()),
          r.expireTime() == null ? null : Micros.toInstant(r.expireTime()))));
    }
    return result;
  }

  /** The metadata of the given conversations, by row id. */
  private static Map<Long, Map<String, String>> metadataOf(Connection c, long[] ids) throws SQLException {
    StringBuilder idArray = new StringBuilder("[");
    for (long id : ids) {
      idArray.append(idArray.length() == 1 ? "" : ",").append(id);
    }
    Map<Long, Map<String, String>> metadata = new HashMap<>();
    // The ids as one JSON array parameter, so that the statement's text is always the same (and compiled once).
    try (PreparedStatement st = c.prepareStatement("SELECT conversation_id, name, value FROM metadata"
        + " WHERE conversation_id IN (SELECT value FROM json_each(?))")) {
      st.setString(1, idArray.append(']').toString());
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          metadata.computeIfAbsent(rs.getLong(1), k -> new HashMap<>()).put(rs.getString(2), rs.getString(3));
        }
      }
    }
    return metadata;
  }
}

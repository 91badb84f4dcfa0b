package io.vmpilot.conversation.server.store.postgres;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
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
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import io.vmpilot.conversation.server.store.Retention;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The reads, each on a read-only REPEATABLE READ connection: a Get's row and messages come from one snapshot even
 * while other servers write. A conversation's summary and its metadata come in one statement.
 */
final class PostgresReads {
  private final PostgresTransactions transactions;

  PostgresReads(PostgresTransactions transactions) {
    this.transactions = transactions;
  }

  /**
   * Leaves out conversations past their own expire time (V15), which are gone for every reader from that moment,
   * before the sweep deletes them; its parameter is {@link #liveAt}.
   */
  private static final String LIVE = " AND (c.expire_time IS NULL OR c.expire_time > ?)";

  /** The present as {@link #LIVE} compares it. */
  private static OffsetDateTime liveAt() {
    return Timestamps.of(Instant.now());
  }

  /** What {@link #summaries} reads: the row, and its metadata as two arrays of the same order. */
  private static final String SUMMARY = "SELECT c.conversation_id, c.tenant, c.thread_id, c.version, c.create_time,"
      + " c.update_time, c.message_count, c.history_bytes, c.cache_info::text, m.names, m.vals, c.expire_time"
      + " FROM conversations c LEFT JOIN LATERAL (SELECT array_agg(name) AS names, array_agg(value) AS vals"
      + " FROM metadata WHERE metadata.conversation_id = c.conversation_id) m ON true";

  /** One query: a hint (see ConversationStore#historySize). */
  Optional<HistorySize> historySize(ThreadKey key) {
    return transactions.read(c -> SharedSql.historySize(c, key, liveAt()));
  }

  Optional<Conversation> get(ThreadKey key, MessageWindow window) {
    return transactions.read(c -> {
      List<Found> found = summaries(c, SUMMARY + " WHERE c.tenant = ? AND c.thread_id = ?" + LIVE,
          List.of(key.tenant(), key.threadId(), liveAt()));
      if (found.isEmpty()) {
        return Optional.empty();
      }
      Found f = found.get(0);
      long first = window.firstPosition(f.summary().messageCount());
      List<StoredMessage> messages = first >= f.summary().messageCount() ? List.of() : messages(c, f.id(), first);
      return Optional.of(new Conversation(f.summary(), messages));
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
          // The text's UTF-8 bytes as they came from the database: the service sends them on without a String.
          messages.add(new StoredMessage(messageId == null ? "" : messageId, JsonText.ofUtf8(rs.getBytes(2)),
              rs.getLong(3), rs.getObject(4, OffsetDateTime.class).toInstant()));
        }
      }
    }
    return messages;
  }

  List<ConversationSummary> list(ListQuery q) {
    StringBuilder sql = new StringBuilder(SUMMARY + " WHERE c.tenant = ? AND c.version < ?" + LIVE);
    List<Object> params = new ArrayList<>(List.of(q.tenant(), q.beforeVersion(), liveAt()));
    if (q.updatedSince() != null) {
      sql.append(" AND c.update_time >= ?");
      params.add(Timestamps.of(q.updatedSince()));
    }
    q.metadataFilter().forEach((name, value) -> {
      // md5 first, so that the (name, md5(value)) index can serve the filter.
      sql.append(" AND EXISTS (SELECT 1 FROM metadata f WHERE f.conversation_id = c.conversation_id"
          + " AND f.name = ? AND md5(f.value) = md5(?) AND f.value = ?)");
      params.add(name);
      params.add(value);
      params.add(value);
    });
    sql.append(" ORDER BY c.version DESC LIMIT ?");
    params.add(q.limit());
    return transactions.read(c -> summaries(c, sql.toString(), params)).stream().map(Found::summary).toList();
  }

  /**
   * A page in thread id order, compared as "C" (code points, like SQLite and memory) whatever the database's
   * collation; the conversations_by_thread_id index (V5) serves it.
   */
  List<ConversationSummary> listByThreadId(ExportQuery q) {
    StringBuilder sql = new StringBuilder(SUMMARY
        + " WHERE c.tenant = ? AND c.thread_id COLLATE \"C\" > ?" + LIVE);
    List<Object> params = new ArrayList<>(List.of(q.tenant(), q.afterThreadId(), liveAt()));
    q.updatedAfter().ifPresent(t -> {
      sql.append(" AND c.update_time >= ?");
      params.add(Timestamps.of(t));
    });
    q.updatedBefore().ifPresent(t -> {
      sql.append(" AND c.update_time < ?");
      params.add(Timestamps.of(t));
    });
    q.metadataFilter().forEach((name, value) -> {
      sql.append(" AND EXISTS (SELECT 1 FROM metadata f WHERE f.conversation_id = c.conversation_id"
          + " AND f.name = ? AND md5(f.value) = md5(?) AND f.value = ?)");
      params.add(name);
      params.add(value);
      params.add(value);
    });
    boolean byIds = !q.threadIds().isEmpty();
    if (byIds) {
      sql.append(" AND c.thread_id = ANY (?)");
    }
    sql.append(" ORDER BY c.thread_id COLLATE \"C\" LIMIT ?");
    return transactions.read(c -> {
      List<Object> all = new ArrayList<>(params);
      Array ids = null;
      if (byIds) {
        ids = c.createArrayOf("text", q.threadIds().toArray());
        all.add(ids);
      }
      all.add(q.limit());
      try {
        return summaries(c, sql.toString(), all);
      } finally {
        if (ids != null) {
          ids.free();
        }
      }
    }).stream().map(Found::summary).toList();
  }

  /** The tenant's conversations and messages. */
  SharedSql.TenantCounts tenantCounts(String tenant, Retention retention) {
    Instant now = Instant.now();
    OffsetDateTime idleCutoff = retention.idleCutoff(tenant, now).map(Timestamps::of).orElse(null);
    return transactions.read(c -> SharedSql.tenantCounts(c, tenant, Timestamps.of(now), idleCutoff));
  }

  /** The last migration applied, the database's name, its size in bytes and synchronous_commit. */
  String[] schemaVersionAndSize() {
    return transactions.read(c -> {
      String version = SharedSql.schemaVersion(c);
      try (PreparedStatement st = c.prepareStatement("SELECT current_database(),"
          + " pg_database_size(current_database()), current_setting('synchronous_commit')");
          ResultSet rs = st.executeQuery()) {
        rs.next();
        return new String[] {version, rs.getString(1), Long.toString(rs.getLong(2)), rs.getString(3)};
      }
    });
  }

  /** Through the GIN index of {@code messages.search}: the phrases as a tsquery of phrase operators, ranked. */
  List<SearchHit> search(SearchQuery q) {
    StringBuilder sql = new StringBuilder("SELECT c.thread_id, m.position, m.json, ts_rank(m.search, q.q) AS score"
        + " FROM (SELECT CAST(? AS tsquery) AS q) q, messages m"
        + " JOIN conversations c ON c.conversation_id = m.conversation_id"
        + " WHERE m.search @@ q.q AND c.tenant = ?" + LIVE);
    List<Object> params = new ArrayList<>(List.of(TsVectors.query(q.phrases()), q.tenant(), liveAt()));
    if (q.updatedSince() != null) {
      sql.append(" AND c.update_time >= ?");
      params.add(Timestamps.of(q.updatedSince()));
    }
    q.metadataFilter().forEach((name, value) -> {
      sql.append(" AND EXISTS (SELECT 1 FROM metadata f WHERE f.conversation_id = c.conversation_id"
          + " AND f.name = ? AND md5(f.value) = md5(?) AND f.value = ?)");
      params.add(name);
      params.add(value);
      params.add(value);
    });
    sql.append(" ORDER BY score DESC, c.version DESC, m.position LIMIT ? OFFSET ?");
    params.add(q.limit());
    params.add(q.offset());
    return transactions.read(c -> SharedSql.searchHits(c, sql.toString(), params, q.phrases()));
  }

  /** Conversations, message count and history bytes of the whole store (every tenant), as V18 keeps them. */
  long[] totals() {
    return transactions.read(SharedSql::storeTotals);
  }

  /** A conversation found by a query, with its row id. */
  private record Found(long id, ConversationSummary summary) {}

  private static List<Found> summaries(Connection c, String sql, List<?> params) throws SQLException {
    List<Found> found = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < params.size(); i++) {
        st.setObject(i + 1, params.get(i));
      }
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          ConversationSummary summary = new ConversationSummary(new ThreadKey(rs.getString(2), rs.getString(3)),
              rs.getLong(7), rs.getLong(8), counters(rs.getString(9)), metadata(rs.getArray(10), rs.getArray(11)),
              rs.getLong(4), rs.getObject(5, OffsetDateTime.class).toInstant(),
              rs.getObject(6, OffsetDateTime.class).toInstant(), instantOrNull(rs.getObject(12, OffsetDateTime.class)));
          found.add(new Found(rs.getLong(1), summary));
        }
      }
    }
    return found;
  }

  private static Instant instantOrNull(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }

  private static Map<String, String> metadata(Array names, Array values) throws SQLException {
    if (names == null) {
      return Map.of();
    }
    String[] n = (String[]) names.getArray();
    String[] v = (String[]) values.getArray();
    Map<String, String> metadata = new HashMap<>(n.length * 2);
    for (int i = 0; i < n.length; i++) {
      metadata.put(n[i], v[i]);
    }
    return metadata;
  }

  /** The cache counters, which only this store writes ({@code {"name": integer}}). */
  static Map<String, Long> counters(String json) {
    JsonObject object = JsonParser.parseString(json).getAsJsonObject();
    Map<String, Long> counters = new HashMap<>(object.size() * 2);
    for (Map.Entry<String, JsonElement> e : object.entrySet()) {
      counters.put(e.getKey(), e.getValue().getAsLong());
    }
    return counters;
  }
}

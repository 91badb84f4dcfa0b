package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.TenantScope;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.sql.SharedSql;
import io.vmpilot.conversation.server.store.write.ConversationRow;
import io.vmpilot.conversation.server.store.write.CountersChange;
import io.vmpilot.conversation.server.store.write.LoggedChange;
import io.vmpilot.conversation.server.store.write.StorageTransaction;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The write primitives in SQL, run by the one writer inside a batch's transaction. Rows and client ids it reads or
 * writes are remembered ({@link ConversationRows}, {@link ClientIds}) so that an agent's next turn need not look
 * them up; the {@link GroupCommitWriter} forgets both whenever a write is undone.
 */
final class SqliteStorageTransaction implements StorageTransaction<SQLException> {
  private final WriteTransaction tx;
  private final Connection c;
  private final ConversationRows rows;
  private final ClientIds clientIds;
  private final boolean searchIndex;

  /** @param searchIndex whether the messages it writes are indexed ({@code [search] index}, {@link SqliteSearchIndex}) */
  SqliteStorageTransaction(WriteTransaction tx, ConversationRows rows, ClientIds clientIds, boolean searchIndex) {
    this.tx = tx;
    this.c = tx.connection();
    this.rows = rows;
    this.clientIds = clientIds;
    this.searchIndex = searchIndex;
  }

  @Override
  public ConversationRow find(ThreadKey key) throws SQLException {
    ConversationRow remembered = rows.get(key);
    if (remembered != null) {
      return remembered;
    }
    try (PreparedStatement st = c.prepareStatement(
        "SELECT " + SharedSql.ROW_COLUMNS + " FROM conversations WHERE tenant = ? AND thread_id = ?")) {
      st.setString(1, key.tenant());
      st.setString(2, key.threadId());
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        ConversationRow row = SharedSql.row(rs, 1, key, Micros::column);
        rows.put(row);
        return row;
      }
    }
  }

  /**
   * The tenant's count, one primary-key lookup in {@code tenants} (kept by triggers with the rows, V5): the same
   * cost at any number of conversations.
   */
  static final String COUNT_CONVERSATIONS_SQL = "SELECT conversations FROM tenants WHERE tenant = ?";

  @Override
  public long countConversations(String tenant, long upTo) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(COUNT_CONVERSATIONS_SQL)) {
      st.setString(1, tenant);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? Math.min(rs.getLong(1), upTo) : 0;
      }
    }
  }

  @Override
  public ConversationRow create(ThreadKey key, Instant now) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO conversations (tenant, thread_id, version, create_time, update_time, message_count,"
            + " history_bytes) VALUES (?, ?, 0, ?, ?, 0, 0) RETURNING conversation_id")) {
      st.setString(1, key.tenant());
      st.setString(2, key.threadId());
      st.setLong(3, Micros.of(now));
      st.setLong(4, Micros.of(now));
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        long id = rs.getLong(1);
        clientIds.created(id);
        return new ConversationRow(id, key, 0, 0, 0, now, null);
      }
    }
  }

  @Override
  public List<StoredMessage> messages(ConversationRow row) throws SQLException {
    return SqliteReads.messages(c, row.id(), 0);
  }

  @Override
  public Map<String, Long> counters(ConversationRow row) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("SELECT cache_info FROM conversations WHERE conversation_id = ?")) {
      st.setLong(1, row.id());
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? JsonColumns.parseCounters(rs.getString(1)) : Map.of();
      }
    }
  }

  @Override
  public Map<String, String> metadata(ConversationRow row) throws SQLException {
    Map<String, String> metadata = new HashMap<>();
    try (PreparedStatement st = c.prepareStatement("SELECT name, value FROM metadata WHERE conversation_id = ?")) {
      st.setLong(1, row.id());
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          metadata.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    return metadata;
  }

  @Override
  public Set<String> storedIds(ConversationRow row, List<NewMessage> among) throws SQLException {
    return clientIds.storedAmong(c, row.id(), among);
  }

  @Override
  public void truncate(ConversationRow row, long keep) throws SQLException {
    indexPendingWords();
    try (PreparedStatement st = c.prepareStatement(
        "DELETE FROM messages WHERE conversation_id = ? AND position >= ?")) {
      st.setLong(1, row.id());
      st.setLong(2, keep);
      st.executeUpdate();
    }
    clientIds.removed(row.id());
  }

  @Override
  public void insert(ConversationRow row, long firstPosition, List<NewMessage> messages, Instant now)
      throws SQLException {
    if (messages.isEmpty()) {
      return;
    }
    if (searchIndex) {
      insertIndexed(row, firstPosition, messages, now);
      return;
    }
    try (PreparedStatement st = c.prepareStatement(INSERT_MESSAGE_SQL)) {
      long position = firstPosition;
      for (NewMessage m : messages) {
        bindMessage(st, row, position++, m, now);
        st.addBatch();
        tx.countBytesWritten(m.utf8Bytes());
      }
      st.executeBatch();
    }
    clientIds.added(row.id(), firstPosition, messages);
  }

  private static final String INSERT_MESSAGE_SQL =
      "INSERT INTO messages (conversation_id, position, message_id, json, create_time) VALUES (?, ?, ?, ?, ?)";

  /** Binds {@link #INSERT_MESSAGE_SQL}'s parameters for message {@code m} at {@code position} of {@code row}. */
  private static void bindMessage(PreparedStatement st, ConversationRow row, long position, NewMessage m,
      Instant now) throws SQLException {
    st.setLong(1, row.id());
    st.setLong(2, position);
    st.setString(3, m.hasId() ? m.id() : null);
    st.setString(4, m.json());
    st.setLong(5, Micros.of(now));
  }

  /**
   * Each message, its words kept for the batch to index ({@link PendingSearchWords}); the request thread worked out
   * their text ({@link NewMessage#searchText}): the index's SQL ({@link SqliteSearchIndex#WORDS_OF_JSON}) would parse
   * the JSON again on the writer, which every write waits for.
   */
  private void insertIndexed(ConversationRow row, long firstPosition, List<NewMessage> messages, Instant now)
      throws SQLException {
    try (PreparedStatement st = c.prepareStatement(INSERT_MESSAGE_SQL + " RETURNING rowid")) {
      long position = firstPosition;
      for (NewMessage m : messages) {
        bindMessage(st, row, position++, m, now);
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          tx.searchWords().add(rs.getLong(1), m.searchText());
        }
        tx.countBytesWritten(m.utf8Bytes());
      }
    }
    clientIds.added(row.id(), firstPosition, messages);
  }

  @Override
  public void mergeMetadata(ConversationRow row, Map<String, String> entries) throws SQLException {
    if (entries.isEmpty()) {
      return;
    }
    SharedSql.mergeMetadata(c, row.id(), entries);
  }

  @Override
  public void removeEntries(ConversationRow row, Set<String> metadataKeys, Set<String> counterKeys)
      throws SQLException {
    if (!metadataKeys.isEmpty()) {
      try (PreparedStatement st = c.prepareStatement("DELETE FROM metadata WHERE conversation_id = ? AND name = ?")) {
        for (String name : metadataKeys) {
          st.setLong(1, row.id());
          st.setString(2, name);
          st.addBatch();
        }
        st.executeBatch();
      }
    }
    if (!counterKeys.isEmpty()) {
      // Rebuilt from json_each, not json_remove: a key is data here, never a path to quote.
      try (PreparedStatement st = c.prepareStatement("UPDATE conversations SET cache_info = coalesce("
          + "(SELECT json_group_object(key, value) FROM json_each(cache_info)"
          + " WHERE key NOT IN (SELECT value FROM json_each(?))), '{}') WHERE conversation_id = ?")) {
        st.setString(1, JsonColumns.strings(counterKeys));
        st.setLong(2, row.id());
        st.executeUpdate();
      }
    }
  }

  @Override
  public long copy(ConversationRow from, ConversationRow to, long endPosition) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO messages (conversation_id, position, message_id, json, create_time)"
            + " SELECT ?, position, message_id, json, create_time FROM messages"
            + " WHERE conversation_id = ? AND position < ? ORDER BY position")) {
      st.setLong(1, to.id());
      st.setLong(2, from.id());
      st.setLong(3, endPosition);
      st.executeUpdate();
    }
    if (searchIndex) { // the new conversation's messages are all copies
      try (PreparedStatement st = c.prepareStatement(SqliteSearchIndex.INDEX_CONVERSATION)) {
        st.setLong(1, to.id());
        st.executeUpdate();
      }
    }
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO metadata (conversation_id, name, value) SELECT ?, name, value FROM metadata"
            + " WHERE conversation_id = ?")) {
      st.setLong(1, to.id());
      st.setLong(2, from.id());
      st.executeUpdate();
    }
    // The copy's ids are read from the file when an Append next needs them.
    clientIds.removed(to.id());
    try (PreparedStatement st = c.prepareStatement(
        "SELECT coalesce(sum(length(CAST(json AS BLOB))), 0) FROM messages WHERE conversation_id = ?")) {
      st.setLong(1, to.id());
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        long bytes = rs.getLong(1);
        tx.countBytesWritten(bytes);
        return bytes;
      }
    }
  }

  /**
   * Also numbers the writer's commit ({@link WriteTransaction#nextVersion}, which durable reads wait for); the
   * version itself is the tenant's own counter (V6). The row exists (the trigger that counts creations makes it);
   * the upsert only keeps a write working if an operator deleted it.
   */
  static final String NEXT_VERSION_SQL = "INSERT INTO tenants (tenant, conversations, revision)"
      + " SELECT ?, 0, floor + 1 FROM version_floor WHERE true"
      + " ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1 RETURNING revision";

  @Override
  public long nextVersion(String tenant) throws SQLException {
    tx.nextVersion();
    try (PreparedStatement st = c.prepareStatement(NEXT_VERSION_SQL)) {
      st.setString(1, tenant);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * Each change of the counters is its own statement (compiled once): parsing and rewriting the counters' JSON
   * when nothing changes them (every Append) cost the writer ~1% of its time. A Save's merge happens in SQL,
   * without reading the counters.
   */
  private static String updateSql(CountersChange change) {
    String counters = switch (change) {
      case KEEP -> "";
      case REPLACE -> ", cache_info = ?";
      case MERGE -> ", cache_info = json_patch(cache_info, ?)";
    };
    return "UPDATE conversations SET version = ?, update_time = ?, message_count = ?, history_bytes = ?,"
        + " expire_time = ?" + counters + " WHERE conversation_id = ?";
  }

  private static final Map<CountersChange, String> UPDATE_SQL = new EnumMap<>(CountersChange.class);

  static {
    for (CountersChange change : CountersChange.values()) {
      UPDATE_SQL.put(change, updateSql(change));
    }
  }

  @Override
  public void update(ConversationRow row, Instant now, CountersChange change, Map<String, Long> counters)
      throws SQLException {
    try (PreparedStatement st = c.prepareStatement(UPDATE_SQL.get(change))) {
      int i = 0;
      st.setLong(++i, row.version());
      st.setLong(++i, Micros.of(now));
      st.setLong(++i, row.messageCount());
      st.setLong(++i, row.historyBytes());
      st.setObject(++i, Micros.orNull(row.expireTime()));
      if (change != CountersChange.KEEP) {
        st.setString(++i, JsonColumns.counters(counters));
      }
      st.setLong(++i, row.id());
      st.executeUpdate();
    }
    rows.put(row);
  }

  @Override
  public void logChange(LoggedChange change) throws SQLException {
    SqliteChangeLog.insert(c, change);
  }

  /** Tenant by tenant, each oldest first, by the (tenant, update_time) index (V17): see SharedSql#idleRows. */
  @Override
  public List<ConversationRow> idle(Instant updatedBefore, TenantScope scope, int limit) throws SQLException {
    return SharedSql.idleRows(c, Micros.of(updatedBefore), scope, limit, "", Micros::column);
  }

  @Override
  public List<ConversationRow> expired(Instant now, int limit) throws SQLException {
    return SharedSql.expiredRows(c, Micros.of(now), limit, "", Micros::column);
  }

  @Override
  public void delete(ConversationRow row) throws SQLException {
    indexPendingWords();
    try (PreparedStatement st = c.prepareStatement("DELETE FROM conversations WHERE conversation_id = ?")) {
      st.setLong(1, row.id());
      st.executeUpdate();
    }
    rows.remove(row.key());
    clientIds.removed(row.id());
  }

  /** Before messages are deleted: the index's delete trigger must find the words of those this batch inserted. */
  private void indexPendingWords() throws SQLException {
    tx.searchWords().write(c);
  }
}

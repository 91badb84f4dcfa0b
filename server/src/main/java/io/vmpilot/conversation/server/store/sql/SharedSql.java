package io.vmpilot.conversation.server.store.sql;

import io.vmpilot.conversation.server.store.HistorySize;
import io.vmpilot.conversation.server.store.TenantScope;
import io.vmpilot.conversation.server.store.SearchHit;
import io.vmpilot.conversation.server.store.SearchText;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.write.ConversationRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Statements SQLite and PostgreSQL both take as they are, so that each is written once. */
public final class SharedSql {
  private SharedSql() {}

  /** How many conversations a tenant has, and how many messages they hold. */
  public record TenantCounts(long conversations, long messages) {}

  /**
   * The tenant's totals as its row in {@code tenants} keeps them (V5, V18), less the expired conversations the sweep
   * has not deleted yet: past their own expire time at {@code now}, or (when {@code idleCutoff} is not null) last
   * updated before it. Times as the backend stores them. Costs one lookup plus the expired rows (which the sweep
   * keeps few), however many conversations the tenant has. Run in one snapshot, so the two reads agree.
   */
  public static TenantCounts tenantCounts(Connection c, String tenant, Object now, Object idleCutoff)
      throws SQLException {
    TenantCounts kept = counts(c, TENANT_TOTALS_SQL, tenant);
    TenantCounts expired = counts(c, EXPIRED_BY_OWN_TIME_SQL, now, tenant);
    if (idleCutoff != null) {
      // Idle ones too, less those already counted as past their own time.
      TenantCounts idle = counts(c, IDLE_SQL, tenant, idleCutoff);
      TenantCounts both = counts(c, IDLE_SQL + " AND expire_time <= ?", tenant, idleCutoff, now);
      expired = new TenantCounts(expired.conversations() + idle.conversations() - both.conversations(),
          expired.messages() + idle.messages() - both.messages());
    }
    return new TenantCounts(kept.conversations() - expired.conversations(), kept.messages() - expired.messages());
  }

  /** One primary-key lookup. */
  static final String TENANT_TOTALS_SQL = "SELECT conversations, messages FROM tenants WHERE tenant = ?";
  /**
   * By the partial index on expire_time (V15), which holds only rows with an expire time: {@code tenant || ''}
   * keeps SQLite from taking an index on tenant instead, which walks all of the tenant's rows.
   */
  static final String EXPIRED_BY_OWN_TIME_SQL = "SELECT count(*), coalesce(sum(message_count), 0) FROM conversations"
      + " WHERE expire_time <= ? AND tenant || '' = ?";
  /** By the (tenant, update_time) index (V17). */
  static final String IDLE_SQL = "SELECT count(*), coalesce(sum(message_count), 0) FROM conversations"
      + " WHERE tenant = ? AND update_time < ?";

  /** The first row's two numbers, or zeros when there is none (a tenant that never had a conversation). */
  private static TenantCounts counts(Connection c, String sql, Object... params) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        st.setObject(i + 1, params[i]);
      }
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? new TenantCounts(rs.getLong(1), rs.getLong(2)) : new TenantCounts(0, 0);
      }
    }
  }

  /**
   * A live conversation's message count and history bytes, by its key (one index lookup): what a Get looks at
   * before reading, to send a large history to the large calls' pool. {@code now} as the backend stores times.
   */
  public static Optional<HistorySize> historySize(Connection c, ThreadKey key, Object now) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("SELECT message_count, history_bytes FROM conversations"
        + " WHERE tenant = ? AND thread_id = ? AND (expire_time IS NULL OR expire_time > ?)")) {
      st.setString(1, key.tenant());
      st.setString(2, key.threadId());
      st.setObject(3, now);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? Optional.of(new HistorySize(rs.getLong(1), rs.getLong(2))) : Optional.empty();
      }
    }
  }

  /** Conversations, messages and history bytes of the whole store: one row per tenant, not per conversation. */
  public static long[] storeTotals(Connection c) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("SELECT coalesce(sum(conversations), 0),"
        + " coalesce(sum(messages), 0), coalesce(sum(history_bytes), 0) FROM tenants");
        ResultSet rs = st.executeQuery()) {
      rs.next();
      return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)};
    }
  }

  /** The version of the last migration Flyway applied, or "" before any. */
  public static String schemaVersion(Connection c) throws SQLException {
    // A bare boolean column as the condition: SQLite keeps Flyway's "success" as 0/1, PostgreSQL as a boolean.
    try (PreparedStatement st = c.prepareStatement("SELECT version FROM flyway_schema_history"
        + " WHERE success AND version IS NOT NULL ORDER BY installed_rank DESC LIMIT 1");
        ResultSet rs = st.executeQuery()) {
      return rs.next() ? rs.getString(1) : "";
    }
  }

  /** Sets each entry as the conversation's metadata value of that name, over any stored one. */
  public static void mergeMetadata(Connection c, long conversationId, Map<String, String> entries)
      throws SQLException {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO metadata (conversation_id, name, value)"
        + " VALUES (?, ?, ?) ON CONFLICT (conversation_id, name) DO UPDATE SET value = excluded.value")) {
      for (Map.Entry<String, String> e : entries.entrySet()) {
        st.setLong(1, conversationId);
        st.setString(2, e.getKey());
        st.setString(3, e.getValue());
        st.addBatch();
      }
      st.executeBatch();
    }
  }

  /** Reads a time column as the backend stores it (SQLite microseconds, PostgreSQL timestamptz); null for NULL. */
  @FunctionalInterface
  public interface TimeColumn {
    Instant read(ResultSet rs, int column) throws SQLException;
  }

  /** The columns of a conversation's row, in the order {@link #row} reads them, after its key columns. */
  public static final String ROW_COLUMNS =
      "conversation_id, version, message_count, history_bytes, update_time, expire_time";

  /** The row whose {@link #ROW_COLUMNS} start at column {@code first}. */
  public static ConversationRow row(ResultSet rs, int first, ThreadKey key, TimeColumn times) throws SQLException {
    return new ConversationRow(rs.getLong(first), key, rs.getLong(first + 1), rs.getLong(first + 2),
        rs.getLong(first + 3), times.read(rs, first + 4), times.read(rs, first + 5));
  }

  /**
   * Conversations of the tenants in {@code scope} updated before {@code updatedBefore} (a time as the backend
   * stores it), at most {@code limit}, each tenant's oldest first; {@code lockClause} ends each statement
   * (PostgreSQL's {@code FOR UPDATE SKIP LOCKED}, or ""). Tenant by tenant, by the (tenant, update_time) index
   * (V17), so that a batch reads only the rows it deletes plus one probe per tenant: a walk of a store-wide
   * update_time index would step over every old conversation of a tenant whose own max_idle keeps it (one with
   * {@code tenant_max_idle = off} would be walked in full at every sweep).
   */
  public static List<ConversationRow> idleRows(Connection c, Object updatedBefore, TenantScope scope, int limit,
      String lockClause, TimeColumn times) throws SQLException {
    List<ConversationRow> found = new ArrayList<>();
    for (String tenant : scope.only() != null ? List.of(scope.only()) : tenantsWithConversations(c)) {
      if (found.size() == limit) {
        break;
      }
      if (scope.includes(tenant)) {
        found.addAll(rowsWhere(c, "tenant = ? AND update_time < ? ORDER BY update_time",
            List.of(tenant, updatedBefore), limit - found.size(), lockClause, times));
      }
    }
    return found;
  }

  /** Every tenant that has a conversation, in tenant order (the tenants table holds one row per tenant). */
  private static List<String> tenantsWithConversations(Connection c) throws SQLException {
    List<String> tenants = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(
        "SELECT tenant FROM tenants WHERE conversations > 0 ORDER BY tenant");
        ResultSet rs = st.executeQuery()) {
      while (rs.next()) {
        tenants.add(rs.getString(1));
      }
    }
    return tenants;
  }

  /**
   * The conversations whose own expire time is {@code now} or earlier (a time as the backend stores it), at most
   * {@code limit}, soonest first by the partial index on expire_time (V15).
   */
  public static List<ConversationRow> expiredRows(Connection c, Object now, int limit, String lockClause,
      TimeColumn times) throws SQLException {
    return rowsWhere(c, "expire_time <= ? ORDER BY expire_time", List.of(now), limit, lockClause, times);
  }

  private static List<ConversationRow> rowsWhere(Connection c, String condition, List<Object> params, int limit,
      String lockClause, TimeColumn times) throws SQLException {
    List<ConversationRow> found = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement("SELECT tenant, thread_id, " + ROW_COLUMNS
        + " FROM conversations WHERE " + condition + " LIMIT ?" + lockClause)) {
      for (int i = 0; i < params.size(); i++) {
        st.setObject(i + 1, params.get(i));
      }
      st.setInt(params.size() + 1, limit);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          found.add(row(rs, 3, new ThreadKey(rs.getString(1), rs.getString(2)), times));
        }
      }
    }
    return found;
  }

  /**
   * Runs a backend's search query, whose columns are thread id, position, the message's JSON and the score, and
   * makes each row a hit with its snippet ({@link SearchText#snippet}, the same for every backend).
   */
  public static List<SearchHit> searchHits(Connection c, String sql, List<Object> params,
      List<List<String>> phrases) throws SQLException {
    List<SearchHit> hits = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < params.size(); i++) {
        st.setObject(i + 1, params.get(i));
      }
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          hits.add(new SearchHit(rs.getString(1), rs.getLong(2), SearchText.snippet(rs.getString(3), phrases),
              rs.getDouble(4)));
        }
      }
    }
    return hits;
  }
}

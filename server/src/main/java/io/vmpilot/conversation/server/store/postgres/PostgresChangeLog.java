package io.vmpilot.conversation.server.store.postgres;

import io.vmpilot.conversation.server.store.ChangeEvent;
import io.vmpilot.conversation.server.store.ChangeKind;
import io.vmpilot.conversation.server.store.ChangeQuery;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.error.ChangeLogPrunedException;
import io.vmpilot.conversation.server.store.write.LoggedChange;
import io.vmpilot.conversation.server.store.write.LoggedMessages;
import io.vmpilot.conversation.server.store.write.LoggedMetadata;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The change log's SQL (table change_log, see V9 and V13): the insert a write makes, the reads, the pruning. */
final class PostgresChangeLog {
  private PostgresChangeLog() {}

  /** The insert of one entry, whose parameters {@link #bind} sets (a write may send it with another statement). */
  static final String INSERT = "INSERT INTO change_log (tenant, version, thread_id, kind, first_position,"
      + " message_count, messages, commit_time, metadata_before, metadata)"
      + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT jsonb_object_agg(m.name, m.value)::text FROM metadata m"
      + " JOIN conversations c ON c.conversation_id = m.conversation_id WHERE c.tenant = ? AND c.thread_id = ?))";

  /**
   * {@link #INSERT} at the version a common table expression {@code taken} returns (column {@code revision}), for a
   * statement that takes the version and logs at it; {@link #bindAtTaken} sets its parameters.
   */
  static final String INSERT_AT_TAKEN = "INSERT INTO change_log (tenant, version, thread_id, kind, first_position,"
      + " message_count, messages, commit_time, metadata_before, metadata)"
      + " SELECT ?, revision, ?, ?, ?, ?, ?, ?, ?, (SELECT jsonb_object_agg(m.name, m.value)::text FROM metadata m"
      + " JOIN conversations c ON c.conversation_id = m.conversation_id WHERE c.tenant = ? AND c.thread_id = ?)"
      + " FROM taken";

  /** Binds {@link #INSERT}'s parameters after parameter {@code i}; returns the last index bound. */
  static int bind(PreparedStatement st, int i, LoggedChange change) throws SQLException {
    return bind(st, i, change, true);
  }

  /** Binds {@link #INSERT_AT_TAKEN}'s parameters after parameter {@code i}; returns the last index bound. */
  static int bindAtTaken(PreparedStatement st, int i, LoggedChange change) throws SQLException {
    return bind(st, i, change, false);
  }

  private static int bind(PreparedStatement st, int i, LoggedChange change, boolean withVersion)
      throws SQLException {
    st.setString(++i, change.key().tenant());
    if (withVersion) {
      st.setLong(++i, change.version());
    }
    st.setString(++i, change.key().threadId());
    st.setShort(++i, (short) change.kind().code());
    st.setLong(++i, change.firstPosition());
    st.setLong(++i, change.messageCount());
    st.setBytes(++i, LoggedMessages.encode(change.messages()));
    st.setObject(++i, Timestamps.of(change.commitTime()));
    st.setString(++i, LoggedMetadata.encode(change.metadataBefore()));
    st.setString(++i, change.key().tenant());
    st.setString(++i, change.key().threadId());
    return i;
  }

  /**
   * The entries first, then the pruning mark: read in that order, a prune that ran in between (READ COMMITTED
   * gives each statement its own snapshot) shows in the mark, so a gap is reported, never returned.
   */
  static List<ChangeEvent> read(Connection c, ChangeQuery q) throws SQLException {
    String sql = "SELECT version, thread_id, kind, first_position, message_count, messages, commit_time,"
        + " metadata, metadata_before"
        + " FROM change_log WHERE tenant = ?" + (q.wholeTenant() ? "" : " AND thread_id = ?")
        + " AND version > ? ORDER BY version LIMIT ?";
    List<ChangeEvent> found = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(sql)) {
      int i = 0;
      st.setString(++i, q.tenant());
      if (!q.wholeTenant()) {
        st.setString(++i, q.threadId());
      }
      st.setLong(++i, q.afterVersion());
      st.setInt(++i, q.limit());
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          Instant time = rs.getObject(7, OffsetDateTime.class).toInstant();
          long first = rs.getLong(4);
          found.add(new ChangeEvent(new ThreadKey(q.tenant(), rs.getString(2)), rs.getLong(1),
              ChangeKind.ofCode(rs.getShort(3)), first, rs.getLong(5),
              LoggedMessages.decode(rs.getBytes(6), first, time), time,
              LoggedMetadata.decode(rs.getString(8), Map.of()), LoggedMetadata.decode(rs.getString(9), null)));
        }
      }
    }
    try (PreparedStatement st = c.prepareStatement("SELECT version FROM change_log_pruned WHERE tenant = ?")) {
      st.setString(1, q.tenant());
      try (ResultSet rs = st.executeQuery()) {
        if (rs.next() && q.afterVersion() < rs.getLong(1)) {
          throw new ChangeLogPrunedException(q.afterVersion(), rs.getLong(1));
        }
      }
    }
    return found;
  }

  /**
   * Deletes up to {@code max} of the oldest entries committed before {@code olderThan} and raises each tenant's
   * mark; entries another server is pruning at the same time are skipped ({@code SKIP LOCKED}), so several servers
   * prune side by side without waiting for each other.
   */
  static int prune(Connection c, Instant olderThan, int max) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "WITH doomed AS (SELECT entry_id, tenant, version FROM change_log WHERE commit_time < ?"
            + " ORDER BY commit_time LIMIT ? FOR UPDATE SKIP LOCKED),"
            + " gone AS (DELETE FROM change_log l USING doomed d WHERE l.entry_id = d.entry_id"
            + " RETURNING d.tenant, d.version),"
            + " marked AS (INSERT INTO change_log_pruned (tenant, version)"
            + " SELECT tenant, max(version) FROM gone GROUP BY tenant ON CONFLICT (tenant)"
            + " DO UPDATE SET version = greatest(change_log_pruned.version, excluded.version) RETURNING 1)"
            + " SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM marked)")) {
      st.setObject(1, Timestamps.of(olderThan));
      st.setInt(2, max);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return (int) rs.getLong(1);
      }
    }
  }

  /** The tenant's newest logged version (0 for none): where a poller of its changes starts. */
  static long newestVersion(Connection c, String tenant) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "SELECT coalesce(max(version), 0) FROM change_log WHERE tenant = ?")) {
      st.setString(1, tenant);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}

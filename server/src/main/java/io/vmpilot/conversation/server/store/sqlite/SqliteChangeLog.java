package io.vmpilot.conversation.server.store.sqlite;

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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The change log's SQL (table change_log, see V11 and V13): the insert a write makes, the reads, the pruning. */
final class SqliteChangeLog {
  private SqliteChangeLog() {}

  static void insert(Connection c, LoggedChange change) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO change_log (tenant, version, thread_id, kind,"
        + " first_position, message_count, messages, commit_time, metadata_before, metadata)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
        + " (SELECT CASE WHEN count(*) > 0 THEN json_group_object(m.name, m.value) END FROM metadata m"
        + " JOIN conversations c ON c.conversation_id = m.conversation_id WHERE c.tenant = ? AND c.thread_id = ?))")) {
      st.setString(1, change.key().tenant());
      st.setLong(2, change.version());
      st.setString(3, change.key().threadId());
      st.setInt(4, change.kind().code());
      st.setLong(5, change.firstPosition());
      st.setLong(6, change.messageCount());
      st.setBytes(7, LoggedMessages.encode(change.messages()));
      st.setLong(8, Micros.of(change.commitTime()));
      st.setString(9, LoggedMetadata.encode(change.metadataBefore()));
      st.setString(10, change.key().tenant());
      st.setString(11, change.key().threadId());
      st.executeUpdate();
    }
  }

  /** Run inside one read transaction, so that the pruning mark and the entries are of the same snapshot. */
  static List<ChangeEvent> read(Connection c, ChangeQuery q) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("SELECT version FROM change_log_pruned WHERE tenant = ?")) {
      st.setString(1, q.tenant());
      try (ResultSet rs = st.executeQuery()) {
        if (rs.next() && q.afterVersion() < rs.getLong(1)) {
          throw new ChangeLogPrunedException(q.afterVersion(), rs.getLong(1));
        }
      }
    }
    String sql = "SELECT version, thread_id, kind, first_position, message_count, messages, commit_time,"
        + " metadata, metadata_before"
        + " FROM change_log WHERE tenant = ?" + (q.wholeTenant() ? "" : " AND thread_id = ?")
        + " AND version > ? ORDER BY version LIMIT ?";
    try (PreparedStatement st = c.prepareStatement(sql)) {
      int i = 0;
      st.setString(++i, q.tenant());
      if (!q.wholeTenant()) {
        st.setString(++i, q.threadId());
      }
      st.setLong(++i, q.afterVersion());
      st.setInt(++i, q.limit());
      List<ChangeEvent> found = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          Instant time = Micros.toInstant(rs.getLong(7));
          long first = rs.getLong(4);
          found.add(new ChangeEvent(new ThreadKey(q.tenant(), rs.getString(2)), rs.getLong(1),
              ChangeKind.ofCode(rs.getInt(3)), first, rs.getLong(5),
              LoggedMessages.decode(rs.getBytes(6), first, time), time,
              LoggedMetadata.decode(rs.getString(8), Map.of()), LoggedMetadata.decode(rs.getString(9), null)));
        }
      }
      return found;
    }
  }

  /**
   * Deletes up to {@code max} of the oldest entries committed before {@code olderThan} and raises each tenant's
   * pruning mark to the newest version deleted; returns how many went. Walks from the oldest entry (entry ids grow
   * with commit time), so it reads no more than it deletes, plus one.
   */
  static int prune(Connection c, Instant olderThan, int max) throws SQLException {
    long cutoff = Micros.of(olderThan);
    long lastEntry = -1;
    int count = 0;
    Map<String, Long> marks = new HashMap<>();
    try (PreparedStatement st = c.prepareStatement(
        "SELECT entry_id, tenant, version, commit_time FROM change_log ORDER BY entry_id LIMIT ?")) {
      st.setInt(1, max);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next() && rs.getLong(4) < cutoff) {
          lastEntry = rs.getLong(1);
          marks.merge(rs.getString(2), rs.getLong(3), Math::max);
          count++;
        }
      }
    }
    if (count == 0) {
      return 0;
    }
    try (PreparedStatement st = c.prepareStatement("DELETE FROM change_log WHERE entry_id <= ?")) {
      st.setLong(1, lastEntry);
      st.executeUpdate();
    }
    try (PreparedStatement st = c.prepareStatement("INSERT INTO change_log_pruned (tenant, version) VALUES (?, ?)"
        + " ON CONFLICT (tenant) DO UPDATE SET version = max(version, excluded.version)")) {
      for (Map.Entry<String, Long> e : marks.entrySet()) {
        st.setString(1, e.getKey());
        st.setLong(2, e.getValue());
        st.addBatch();
      }
      st.executeBatch();
    }
    return count;
  }
}

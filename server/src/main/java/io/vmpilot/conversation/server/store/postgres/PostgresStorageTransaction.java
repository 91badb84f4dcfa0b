package io.vmpilot.conversation.server.store.postgres;

import io.vmpilot.conversation.server.store.TenantScope;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.sql.SharedSql;
import io.vmpilot.conversation.server.store.write.ConversationRow;
import io.vmpilot.conversation.server.store.write.CountersChange;
import io.vmpilot.conversation.server.store.write.LocatedRow;
import io.vmpilot.conversation.server.store.write.LoggedChange;
import io.vmpilot.conversation.server.store.write.StorageTransaction;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The write primitives in SQL, inside one PostgreSQL transaction (READ COMMITTED) of one connection. Nothing is
 * remembered between transactions: other servers change the same rows.
 *
 * <p>{@link #find} locks the conversation's row ({@code FOR UPDATE}) for the rest of the transaction, so writes of
 * one conversation, from any server, run one after the other. The version a write takes comes from its tenant's
 * {@code tenants} row, which it then holds until commit, so a tenant's versions increase in commit order. A
 * conversation that does not exist has no row to lock: two creations of the same one meet at the unique key, and
 * the one that loses runs again from the start (and then finds the row). Creations in a tenant lock its
 * {@code tenants} row too, which keeps the count the limit reads.
 */
final class PostgresStorageTransaction implements StorageTransaction<SQLException> {
  /**
   * Messages an insert defers to the statement that takes the version (one round trip instead of two); a larger
   * insert is sent alone, as a batch, to keep the combined statement's parameters few.
   */
  static final int DEFERRED_INSERT_MAX = 16;

  private final Connection c;
  private final boolean searchIndex;
  private long bytesWritten;
  private boolean changedAnything;
  /** An insert not sent yet (see {@link #flush}), or null. */
  private PendingInsert pendingInsert;
  /** An update of the conversation's row not sent yet (see {@link #flush}), or null. */
  private PendingUpdate pendingUpdate;
  /** The change log's entry (with the row's update, or null) not sent yet (see {@link #commitWithLast}), or null. */
  private PendingLog pendingLog;
  /** Whether {@link #updateAndLog} sent the COMMIT: the transaction is over, whatever its outcome. */
  private boolean commitSent;

  private record PendingInsert(ConversationRow row, long firstPosition, List<NewMessage> messages, Instant now) {}

  private record PendingUpdate(ConversationRow row, Instant now, CountersChange change, Map<String, Long> counters) {}

  private record PendingLog(PendingUpdate update, LoggedChange change) {}


  /** @param searchIndex whether inserted messages get their search words ({@code [search] index}) */
  PostgresStorageTransaction(Connection c, boolean searchIndex) {
    this.c = c;
    this.searchIndex = searchIndex;
  }

  /**
   * Sends what the primitives deferred. A write's statements go out in fewer round trips: the insert of its
   * messages rides on the statement that takes the version ({@link #updateAndLog}, or {@link #nextVersion}), and a
   * Clear's change-log entry on its delete. Every
   * primitive that runs a statement of its own sends what is pending first, so statements run in the order the
   * rules called them; the transaction runner ends with {@link #commitWithLast}, which sends the last one with the
   * COMMIT.
   */
  void flush() throws SQLException {
    if (commitSent) {
      throw new IllegalStateException("a write primitive ran after updateAndLog, which committed the transaction");
    }
    if (pendingInsert != null) {
      PendingInsert p = pendingInsert;
      pendingInsert = null;
      insertNow(p);
    }
    if (pendingUpdate != null) {
      PendingUpdate p = pendingUpdate;
      pendingUpdate = null;
      try (PreparedStatement st = c.prepareStatement(updateSql(p, "?"))) {
        List<Array> arrays = new ArrayList<>(2);
        bindUpdate(st, 0, p, arrays, true);
        st.executeUpdate();
        freeAll(arrays);
      }
    }
    if (pendingLog != null) {
      PendingLog l = pendingLog;
      pendingLog = null;
      sendLog(l, false);
    }
  }

  /**
   * Sends what the primitives deferred and commits: when the last statement is the change log's entry (every write
   * ends with it), the COMMIT goes in its round trip ({@code ...; COMMIT}), which takes one round trip out of the
   * time the write holds its tenant's row (every write of the tenant waits for that row); else a COMMIT of its own.
   * If the statement fails with an error PostgreSQL reports, the COMMIT after it is not run and nothing was written;
   * only a connection lost meanwhile leaves the outcome unknown, as a lost COMMIT does.
   */
  void commitWithLast() throws SQLException {
    if (commitSent) {
      return;
    }
    if (pendingInsert == null && pendingUpdate == null && pendingLog != null) {
      PendingLog l = pendingLog;
      pendingLog = null;
      sendLog(l, true);
    } else {
      flush();
    }
    // A no-op for the JDBC driver when the COMMIT went with the statement (it knows the transaction ended).
    c.commit();
  }

  /** The change log's insert, with the row's update it carries, and the COMMIT after it if {@code commit}. */
  private void sendLog(PendingLog l, boolean commit) throws SQLException {
    String insert = l.update() == null ? PostgresChangeLog.INSERT
        : "WITH updated AS (" + updateSql(l.update(), "?") + ") " + PostgresChangeLog.INSERT;
    try (PreparedStatement st = c.prepareStatement(commit ? insert + "; COMMIT" : insert)) {
      List<Array> arrays = new ArrayList<>(2);
      int i = l.update() == null ? 0 : bindUpdate(st, 0, l.update(), arrays, true);
      PostgresChangeLog.bind(st, i, l.change());
      st.execute();
      freeAll(arrays);
    }
  }

  /** Prunes the change log in this transaction (not a primitive of the rules: no conversation changes). */
  int pruneChangeLog(Instant olderThan, int maxEntries) throws SQLException {
    flush();
    changedAnything = true;
    return PostgresChangeLog.prune(c, olderThan, maxEntries);
  }

  /**
   * Whether the COMMIT has been sent (with {@link #updateAndLog}): a failure from then on leaves the outcome unknown
   * when the connection was lost.
   */
  boolean commitSent() {
    return commitSent;
  }

  /** Whether any primitive changed a row (else there is nothing to commit). */
  boolean changedAnything() {
    return changedAnything;
  }

  /** Message bytes this transaction inserted. */
  long bytesWritten() {
    return bytesWritten;
  }

  private static final String FIND = "SELECT " + SharedSql.ROW_COLUMNS
      + " FROM conversations WHERE tenant = ? AND thread_id = ? FOR UPDATE";

  @Override
  public ConversationRow find(ThreadKey key) throws SQLException {
    flush();
    try (PreparedStatement st = c.prepareStatement(FIND)) {
      st.setString(1, key.tenant());
      st.setString(2, key.threadId());
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? SharedSql.row(rs, 1, key, Timestamps::column) : null;
      }
    }
  }

  /**
   * The row's lock and the stored ids in one round trip: two statements in one pipeline. The ids are read by a
   * statement of their own, whose snapshot is taken once the first holds the lock; in the locking statement itself
   * they would come from its snapshot, taken before it waited, and miss the messages of the write it waited for.
   */
  @Override
  public LocatedRow locate(ThreadKey key, List<NewMessage> among) throws SQLException {
    Set<String> ids = idsOf(among);
    if (ids.isEmpty()) {
      return new LocatedRow(find(key), Set.of());
    }
    flush();
    Array array = c.createArrayOf("text", ids.toArray());
    try (PreparedStatement st = c.prepareStatement(FIND + "; SELECT message_id FROM messages WHERE conversation_id ="
        + " (SELECT conversation_id FROM conversations WHERE tenant = ? AND thread_id = ?) AND message_id = ANY (?)")) {
      st.setString(1, key.tenant());
      st.setString(2, key.threadId());
      st.setString(3, key.tenant());
      st.setString(4, key.threadId());
      st.setArray(5, array);
      st.execute();
      ConversationRow row;
      try (ResultSet rs = st.getResultSet()) {
        row = rs.next() ? SharedSql.row(rs, 1, key, Timestamps::column) : null;
      }
      Set<String> stored = new HashSet<>();
      if (st.getMoreResults()) {
        try (ResultSet rs = st.getResultSet()) {
          while (rs.next()) {
            stored.add(rs.getString(1));
          }
        }
      }
      return new LocatedRow(row, row == null ? Set.of() : stored);
    } finally {
      array.free();
    }
  }

  private static Set<String> idsOf(List<NewMessage> among) {
    Set<String> ids = new LinkedHashSet<>();
    for (NewMessage m : among) {
      if (m.hasId()) {
        ids.add(m.id());
      }
    }
    return ids;
  }

  /** Reads the tenant's count under its row's lock, creating the row at 0 if the tenant has none yet. */
  @Override
  public long countConversations(String tenant, long upTo) throws SQLException {
    flush();
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO tenants (tenant, conversations) VALUES (?, 0)"
            + " ON CONFLICT (tenant) DO UPDATE SET conversations = tenants.conversations RETURNING conversations")) {
      st.setString(1, tenant);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return Math.min(rs.getLong(1), upTo);
      }
    }
  }

  @Override
  public ConversationRow create(ThreadKey key, Instant now) throws SQLException {
    flush();
    changedAnything = true;
    try (PreparedStatement st = c.prepareStatement(
        "WITH created AS (INSERT INTO conversations (tenant, thread_id, version, create_time, update_time,"
            + " message_count, history_bytes) VALUES (?, ?, 0, ?, ?, 0, 0)"
            + " ON CONFLICT (tenant, thread_id) DO NOTHING RETURNING conversation_id, tenant),"
            + " counted AS (INSERT INTO tenants (tenant, conversations) SELECT tenant, 1 FROM created"
            + " ON CONFLICT (tenant) DO UPDATE SET conversations = tenants.conversations + 1)"
            + " SELECT conversation_id FROM created")) {
      st.setString(1, key.tenant());
      st.setString(2, key.threadId());
      st.setObject(3, Timestamps.of(now));
      st.setObject(4, Timestamps.of(now));
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) {
          throw new ConcurrentCreationException(key);
        }
        return new ConversationRow(rs.getLong(1), key, 0, 0, 0, now, null);
      }
    }
  }

  @Override
  public List<StoredMessage> messages(ConversationRow row) throws SQLException {
    flush();
    return PostgresReads.messages(c, row.id(), 0);
  }

  @Override
  public Map<String, Long> counters(ConversationRow row) throws SQLException {
    flush();
    try (PreparedStatement st = c.prepareStatement(
        "SELECT cache_info::text FROM conversations WHERE conversation_id = ?")) {
      st.setLong(1, row.id());
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? PostgresReads.counters(rs.getString(1)) : Map.of();
      }
    }
  }

  @Override
  public Map<String, String> metadata(ConversationRow row) throws SQLException {
    flush();
    Map<String, String> metadata = new java.util.HashMap<>();
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
    flush();
    Set<String> ids = idsOf(among);
    if (ids.isEmpty()) {
      return Set.of();
    }
    Array array = c.createArrayOf("text", ids.toArray());
    try (PreparedStatement st = c.prepareStatement(
        "SELECT message_id FROM messages WHERE conversation_id = ? AND message_id = ANY (?)")) {
      st.setLong(1, row.id());
      st.setArray(2, array);
      Set<String> stored = new HashSet<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          stored.add(rs.getString(1));
        }
      }
      return stored;
    } finally {
      array.free();
    }
  }

  @Override
  public void truncate(ConversationRow row, long keep) throws SQLException {
    flush();
    changedAnything = true;
    try (PreparedStatement st = c.prepareStatement(
        "DELETE FROM messages WHERE conversation_id = ? AND position >= ?")) {
      st.setLong(1, row.id());
      st.setLong(2, keep);
      st.executeUpdate();
    }
  }

  /** Deferred to the statement that takes the version when small (see {@link #flush}). */
  @Override
  public void insert(ConversationRow row, long firstPosition, List<NewMessage> messages, Instant now)
      throws SQLException {
    if (messages.isEmpty()) {
      return;
    }
    flush();
    changedAnything = true;
    for (NewMessage m : messages) {
      bytesWritten += m.utf8Bytes();
    }
    PendingInsert p = new PendingInsert(row, firstPosition, List.copyOf(messages), now);
    if (messages.size() <= DEFERRED_INSERT_MAX) {
      pendingInsert = p;
    } else {
      insertNow(p);
    }
  }

  private static final String INSERT_MESSAGES =
      "INSERT INTO messages (conversation_id, position, message_id, json, create_time, search) VALUES ";
  /** One message's values; the search index's words go in the message's own transaction (see V7). */
  private static final String MESSAGE_VALUES = "(?, ?, ?, ?, ?, CAST(? AS tsvector))";

  private void insertNow(PendingInsert p) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(INSERT_MESSAGES + MESSAGE_VALUES)) {
      long position = p.firstPosition();
      Object time = Timestamps.of(p.now());
      for (NewMessage m : p.messages()) {
        bindMessage(st, 0, p.row(), position++, m, time);
        st.addBatch();
      }
      st.executeBatch();
    }
  }

  /** Binds one message's {@link #MESSAGE_VALUES} after parameter {@code i}; returns the last index bound. */
  private int bindMessage(PreparedStatement st, int i, ConversationRow row, long position, NewMessage m,
      Object time) throws SQLException {
    st.setLong(++i, row.id());
    st.setLong(++i, position);
    st.setString(++i, m.hasId() ? m.id() : null);
    st.setString(++i, m.json());
    st.setObject(++i, time);
    // Without the index, no words (a server that turns it on fills them in when it starts: SearchBackfill).
    st.setString(++i, searchIndex ? TsVectors.of(m.json()) : null);
    return i;
  }

  @Override
  public void mergeMetadata(ConversationRow row, Map<String, String> entries) throws SQLException {
    if (entries.isEmpty()) {
      return;
    }
    flush();
    changedAnything = true;
    SharedSql.mergeMetadata(c, row.id(), entries);
  }

  @Override
  public void removeEntries(ConversationRow row, Set<String> metadataKeys, Set<String> counterKeys)
      throws SQLException {
    flush();
    changedAnything = true;
    if (!metadataKeys.isEmpty()) {
      Array names = c.createArrayOf("text", metadataKeys.toArray());
      try (PreparedStatement st = c.prepareStatement(
          "DELETE FROM metadata WHERE conversation_id = ? AND name = ANY (?)")) {
        st.setLong(1, row.id());
        st.setArray(2, names);
        st.executeUpdate();
      } finally {
        names.free();
      }
    }
    if (!counterKeys.isEmpty()) {
      Array names = c.createArrayOf("text", counterKeys.toArray());
      try (PreparedStatement st = c.prepareStatement(
          "UPDATE conversations SET cache_info = cache_info - ?::text[] WHERE conversation_id = ?")) {
        st.setArray(1, names);
        st.setLong(2, row.id());
        st.executeUpdate();
      } finally {
        names.free();
      }
    }
  }

  @Override
  public long copy(ConversationRow from, ConversationRow to, long endPosition) throws SQLException {
    flush();
    changedAnything = true;
    long bytes;
    try (PreparedStatement st = c.prepareStatement(
        "WITH copied AS (INSERT INTO messages (conversation_id, position, message_id, json, create_time, search)"
            + " SELECT ?, position, message_id, json, create_time, search FROM messages"
            + " WHERE conversation_id = ? AND position < ? RETURNING octet_length(json) AS bytes)"
            + " SELECT coalesce(sum(bytes), 0) FROM copied")) {
      st.setLong(1, to.id());
      st.setLong(2, from.id());
      st.setLong(3, endPosition);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        bytes = rs.getLong(1);
      }
    }
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO metadata (conversation_id, name, value) SELECT ?, name, value FROM metadata"
            + " WHERE conversation_id = ?")) {
      st.setLong(1, to.id());
      st.setLong(2, from.id());
      st.executeUpdate();
    }
    bytesWritten += bytes;
    return bytes;
  }

  /**
   * The tenant's next version, from its {@code tenants} row (V14), which this locks until the transaction ends: a
   * tenant's versions then increase in the order its writes commit, on every server, which the change log's readers
   * rely on (having read a tenant's changes up to a version, none with a lower one can commit later). Locks are
   * taken conversation row first, then tenants row, in every write, so they cannot deadlock. The row is there: a
   * write that takes a version found or created a conversation of the tenant, and creating one makes the row.
   */
  @Override
  public long nextVersion(String tenant) throws SQLException {
    PendingInsert p = pendingInsert;
    pendingInsert = null;
    flush();
    String sql = (p == null ? "" : "WITH " + insertedCte(p) + " ") + TAKE_VERSION;
    try (PreparedStatement st = c.prepareStatement(sql)) {
      int i = p == null ? 0 : bindInserted(st, 0, p);
      st.setString(++i, tenant);
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("tenant " + tenant + " has no row in tenants to take a version from");
        }
        return rs.getLong(1);
      }
    }
  }

  private static final String TAKE_VERSION =
      "UPDATE tenants SET revision = revision + 1 WHERE tenant = ? RETURNING revision";

  /** The insert of {@code p}'s messages as a common table expression, {@code inserted AS (...)}. */
  private static String insertedCte(PendingInsert p) {
    StringBuilder sql = new StringBuilder("inserted AS (").append(INSERT_MESSAGES);
    for (int n = 0; n < p.messages().size(); n++) {
      sql.append(n == 0 ? "" : ", ").append(MESSAGE_VALUES);
    }
    return sql.append(")").toString();
  }

  /** Binds {@link #insertedCte}'s parameters after {@code i}; returns the last index bound. */
  private int bindInserted(PreparedStatement st, int i, PendingInsert p) throws SQLException {
    long position = p.firstPosition();
    Object time = Timestamps.of(p.now());
    for (NewMessage m : p.messages()) {
      i = bindMessage(st, i, p.row(), position++, m, time);
    }
    return i;
  }

  /**
   * One statement, sent with the COMMIT: the deferred insert of the messages (if any), the tenant's version, the
   * row's update and the change log's entry at that version ({@code WITH inserted AS (INSERT ...), taken AS (UPDATE
   * tenants ... RETURNING revision), updated AS (UPDATE conversations ...), logged AS (INSERT INTO change_log ...)
   * SELECT revision FROM taken; COMMIT}). The tenant's row is then locked from that statement to the end of its
   * COMMIT, one round trip, with no wait for this server in between; the conversation's row was locked by the
   * write's first statement. The sub-statements see one snapshot, which holds this transaction's earlier
   * statements (the metadata a Save or UpdateMetadata set, which the entry records). A tenant without a row leaves
   * the version NULL, which the conversation's update refuses, failing the whole statement before the COMMIT.
   */
  @Override
  public long updateAndLog(ConversationRow row, Instant now, CountersChange change, Map<String, Long> counters,
      LoggedChange entry) throws SQLException {
    if (pendingUpdate != null || pendingLog != null) {
      flush();
    }
    PendingInsert p = pendingInsert;
    pendingInsert = null;
    flush();
    changedAnything = true;
    PendingUpdate update = new PendingUpdate(row, now, change, Map.copyOf(counters));
    String sql = "WITH " + (p == null ? "" : insertedCte(p) + ", ") + "taken AS (" + TAKE_VERSION + "), updated AS ("
        + updateSql(update, "(SELECT revision FROM taken)") + "), logged AS (" + PostgresChangeLog.INSERT_AT_TAKEN
        + ") SELECT revision FROM taken; COMMIT";
    try (PreparedStatement st = c.prepareStatement(sql)) {
      int i = p == null ? 0 : bindInserted(st, 0, p);
      st.setString(++i, row.key().tenant());
      List<Array> arrays = new ArrayList<>(2);
      i = bindUpdate(st, i, update, arrays, false);
      PostgresChangeLog.bindAtTaken(st, i, entry);
      commitSent = true;
      st.execute();
      freeAll(arrays);
      try (ResultSet rs = st.getResultSet()) {
        if (rs == null || !rs.next()) {
          throw new IllegalStateException("the write's statement returned no version");
        }
        return rs.getLong(1);
      }
    }
  }

  /**
   * Deferred, with the row's deferred update, to one statement sent by the next primitive or with the commit (see
   * {@link #commitWithLast}).
   */
  @Override
  public void logChange(LoggedChange change) throws SQLException {
    changedAnything = true;
    PendingUpdate p = pendingUpdate;
    pendingUpdate = null;
    flush();
    pendingLog = new PendingLog(p, change);
  }

  /** The counters as a jsonb object built in SQL from two arrays, so that no JSON is written here. */
  private static final String COUNTERS =
      "coalesce((SELECT jsonb_object_agg(n, v) FROM unnest(?::text[], ?::bigint[]) AS t (n, v)), '{}'::jsonb)";

  /** Deferred to the change log's insert, which follows (see {@link #flush}). */
  @Override
  public void update(ConversationRow row, Instant now, CountersChange change, Map<String, Long> counters)
      throws SQLException {
    flush();
    changedAnything = true;
    pendingUpdate = new PendingUpdate(row, now, change, Map.copyOf(counters));
  }

  /** The row's update, setting the version to {@code version} (a parameter, or an expression). */
  private static String updateSql(PendingUpdate p, String version) {
    String assignment = switch (p.change()) {
      case KEEP -> "";
      case REPLACE -> ", cache_info = " + COUNTERS;
      case MERGE -> ", cache_info = cache_info || " + COUNTERS;
    };
    return "UPDATE conversations SET version = " + version + ", update_time = ?, message_count = ?, history_bytes = ?,"
        + " expire_time = ?" + assignment + " WHERE conversation_id = ?";
  }

  /**
   * Binds {@link #updateSql}'s parameters after {@code i} (the version's only {@code withVersion}), adding the arrays
   * made to {@code arrays}.
   */
  private int bindUpdate(PreparedStatement st, int i, PendingUpdate p, List<Array> arrays, boolean withVersion)
      throws SQLException {
    ConversationRow row = p.row();
    if (withVersion) {
      st.setLong(++i, row.version());
    }
    st.setObject(++i, Timestamps.of(p.now()));
    st.setLong(++i, row.messageCount());
    st.setLong(++i, row.historyBytes());
    st.setObject(++i, Timestamps.orNull(row.expireTime()), Types.TIMESTAMP_WITH_TIMEZONE);
    if (p.change() != CountersChange.KEEP) {
      List<String> names = new ArrayList<>(p.counters().keySet());
      Long[] values = names.stream().map(p.counters()::get).toArray(Long[]::new);
      Array n = c.createArrayOf("text", names.toArray());
      arrays.add(n);
      Array v = c.createArrayOf("bigint", values);
      arrays.add(v);
      st.setArray(++i, n);
      st.setArray(++i, v);
    }
    st.setLong(++i, row.id());
    return i;
  }

  private static void freeAll(List<Array> arrays) throws SQLException {
    for (Array a : arrays) {
      a.free();
    }
  }

  /**
   * Locks the rows it returns and skips those another transaction holds ({@code SKIP LOCKED}), so several servers
   * sweep one database at once, each its own rows, and a sweep never waits for a writer.
   */
  @Override
  public List<ConversationRow> idle(Instant updatedBefore, TenantScope scope, int limit) throws SQLException {
    flush();
    return SharedSql.idleRows(c, Timestamps.of(updatedBefore), scope, limit, " FOR UPDATE SKIP LOCKED",
        Timestamps::column);
  }

  @Override
  public List<ConversationRow> expired(Instant now, int limit) throws SQLException {
    flush();
    return SharedSql.expiredRows(c, Timestamps.of(now), limit, " FOR UPDATE SKIP LOCKED", Timestamps::column);
  }

  @Override
  public void delete(ConversationRow row) throws SQLException {
    flush();
    changedAnything = true;
    try (PreparedStatement st = c.prepareStatement(
        "WITH gone AS (DELETE FROM conversations WHERE conversation_id = ? RETURNING tenant)"
            + " UPDATE tenants SET conversations = conversations - 1 WHERE tenant IN (SELECT tenant FROM gone)")) {
      st.setLong(1, row.id());
      st.executeUpdate();
    }
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.NewMessage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Which client ids each conversation holds, so that Append can skip messages already stored. The writer keeps them
 * in memory ({@link IdPositions}: id hash to position) instead of an index in the file: client ids sort in no
 * useful order, so such an index took a random page per id, and writing those pages was about a third of what
 * the writer wrote to the log per agent turn. A conversation's ids are read from the file on its first Append
 * with ids (one pass over its messages), then kept up to date by the writer, the only one that changes them.
 *
 * <p>Exact: a hash only says where to look, and every hit is confirmed against the message stored there (and a
 * mismatch, two ids with one hash, by a search of the conversation). Used on the writer thread only; forgotten,
 * like {@link ConversationRows}, whenever a write is rolled back or another connection committed. Holds at most
 * {@code maxBytes} of tables, dropping the least recently used conversations (never the one in use).
 */
final class ClientIds {
  private final long maxBytes;
  private final Supplier<IdPositions> newTable;
  private final Map<Long, IdPositions> byConversation = new LinkedHashMap<>(64, 0.75f, true);
  private long bytes;

  ClientIds(long maxBytes) {
    this(maxBytes, IdPositions::new);
  }

  /** With tables of another kind (tests use one whose hash collides). */
  ClientIds(long maxBytes, Supplier<IdPositions> newTable) {
    this.maxBytes = maxBytes;
    this.newTable = newTable;
  }

  /** The ids among {@code messages} that the conversation already holds. */
  Set<String> storedAmong(Connection c, long conversationId, List<NewMessage> messages) throws SQLException {
    Set<String> found = new HashSet<>();
    IdPositions known = null;
    for (NewMessage m : messages) {
      if (!m.hasId()) {
        continue;
      }
      if (known == null) {
        known = loaded(c, conversationId);
      }
      long position = known.positionOf(m.id());
      if (position >= 0 && (m.id().equals(idAt(c, conversationId, position)) || isStored(c, conversationId, m.id()))) {
        found.add(m.id());
      }
    }
    return found;
  }

  /** A conversation was just created: it holds no ids (no need to read them). */
  void created(long conversationId) {
    track(conversationId, newTable.get());
  }

  /** {@code inserted} were stored from {@code firstPosition} on. */
  void added(long conversationId, long firstPosition, List<NewMessage> inserted) {
    IdPositions known = byConversation.get(conversationId);
    if (known == null) {
      return; // read from the file, these included, when next needed
    }
    bytes -= known.footprintBytes();
    long position = firstPosition;
    for (NewMessage m : inserted) {
      if (m.hasId()) {
        known.put(m.id(), position);
      }
      position++;
    }
    bytes += known.footprintBytes();
    evictBeyondLimit(conversationId);
  }

  /** The conversation was deleted, or its history cut short: its ids are read from the file when next needed. */
  void removed(long conversationId) {
    IdPositions gone = byConversation.remove(conversationId);
    if (gone != null) {
      bytes -= gone.footprintBytes();
    }
  }

  void clear() {
    byConversation.clear();
    bytes = 0;
  }

  private IdPositions loaded(Connection c, long conversationId) throws SQLException {
    IdPositions known = byConversation.get(conversationId);
    if (known != null) {
      return known;
    }
    IdPositions read = newTable.get();
    try (PreparedStatement st = c.prepareStatement("SELECT message_id, position FROM messages"
        + " WHERE conversation_id = ? AND message_id IS NOT NULL")) {
      st.setLong(1, conversationId);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          read.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    track(conversationId, read);
    return read;
  }

  private void track(long conversationId, IdPositions known) {
    removed(conversationId);
    byConversation.put(conversationId, known);
    bytes += known.footprintBytes();
    evictBeyondLimit(conversationId);
  }

  private void evictBeyondLimit(long inUse) {
    Iterator<Map.Entry<Long, IdPositions>> eldestFirst = byConversation.entrySet().iterator();
    while (bytes > maxBytes && eldestFirst.hasNext()) {
      Map.Entry<Long, IdPositions> e = eldestFirst.next();
      if (e.getKey() != inUse) {
        bytes -= e.getValue().footprintBytes();
        eldestFirst.remove();
      }
    }
  }

  private static String idAt(Connection c, long conversationId, long position) throws SQLException {
    return storedId(c, "SELECT message_id FROM messages WHERE conversation_id = ? AND position = ?", conversationId,
        position);
  }

  /** A search of the whole conversation, for the (astronomically rare) case of two ids with one hash. */
  private static boolean isStored(Connection c, long conversationId, String id) throws SQLException {
    return storedId(c, "SELECT message_id FROM messages WHERE conversation_id = ? AND message_id = ? LIMIT 1",
        conversationId, id) != null;
  }

  /** The {@code message_id} a query by conversation and one more parameter finds first, or null. */
  private static String storedId(Connection c, String sql, long conversationId, Object by) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      st.setLong(1, conversationId);
      st.setObject(2, by);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }
}

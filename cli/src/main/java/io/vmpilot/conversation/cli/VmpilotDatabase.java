package io.vmpilot.conversation.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Timestamp;
import io.vmpilot.conversation.v1.ConversationRecord;
import io.vmpilot.conversation.v1.Message;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.HashSet;
import java.util.Set;

/**
 * Reads a VMPilot SQLite database (read-only), in either of its two layouts:
 *
 * <ul>
 *   <li>early: {@code chats(id, initial_request, project_root, current_issue, created_at, metadata)} and
 *       {@code chat_histories(chat_id, messages, cache_info, updated_at)}, one history row per save, without a key:
 *       the newest row of a chat wins, by {@code updated_at} and, for a tie (two saves in one second), the later
 *       row;
 *   <li>later: one table {@code chats(chat_id, initial_request, project_root, messages, cache_info, updated_at)}.
 * </ul>
 *
 * Each chat becomes a record: its messages (the elements of the JSON array, verbatim), its cache info, and as
 * metadata {@code project_root}, {@code initial_request}, {@code current_issue}, {@code created_at},
 * {@code updated_at} and {@code vmpilot_metadata} where present and not empty. Timestamps without a zone are taken
 * as UTC (SQLite's CURRENT_TIMESTAMP is).
 */
final class VmpilotDatabase implements AutoCloseable {
  enum Layout { EARLY, MERGED }

  private final Connection c;
  private final Layout layout;

  private VmpilotDatabase(Connection c, Layout layout) {
    this.c = c;
    this.layout = layout;
  }

  static VmpilotDatabase open(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new CliException(ExitCodes.BAD_INPUT, file + ": no such file");
    }
    Connection c = null;
    try {
      org.sqlite.SQLiteConfig config = new org.sqlite.SQLiteConfig();
      config.setReadOnly(true);
      c = DriverManager.getConnection("jdbc:sqlite:file:" + file.toAbsolutePath() + "?mode=ro",
          config.toProperties());
      Set<String> chats = columns(c, "chats");
      Set<String> histories = columns(c, "chat_histories");
      Layout layout;
      if (chats.contains("chat_id") && chats.contains("messages") && chats.contains("cache_info")) {
        layout = Layout.MERGED;
      } else if (histories.containsAll(Set.of("chat_id", "messages", "cache_info", "updated_at"))) {
        layout = Layout.EARLY;
      } else {
        throw new CliException(ExitCodes.BAD_INPUT, file + ": not a VMPilot database: neither a chats table with"
            + " chat_id, messages and cache_info nor a chat_histories table");
      }
      return new VmpilotDatabase(c, layout);
    } catch (SQLException e) {
      close(c);
      throw new CliException(ExitCodes.BAD_INPUT, file + ": not a readable SQLite database: " + e.getMessage());
    } catch (RuntimeException e) {
      close(c);
      throw e;
    }
  }

  Layout layout() {
    return layout;
  }

  private static Set<String> columns(Connection c, String table) throws SQLException {
    Set<String> names = new HashSet<>();
    try (PreparedStatement st = c.prepareStatement("SELECT name FROM pragma_table_info(?)")) {
      st.setString(1, table);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          names.add(rs.getString(1));
        }
      }
    }
    return names;
  }

  /** Receives the chats in chat id order. */
  interface ChatSink {
    void accept(ConversationRecord record) throws Exception;
  }

  /** Reads every chat; a chat that cannot be converted is a {@link CliException} naming it. */
  void read(ChatSink sink) throws Exception {
    String sql = layout == Layout.MERGED
        ? "SELECT chat_id, messages, cache_info, updated_at, initial_request, project_root, NULL, NULL, NULL"
            + " FROM chats ORDER BY chat_id"
        : "SELECT h.chat_id, h.messages, h.cache_info, h.updated_at, c.initial_request, c.project_root,"
            + " c.current_issue, c.created_at, c.metadata FROM chat_histories h LEFT JOIN chats c ON c.id = h.chat_id"
            + " WHERE h.rowid = (SELECT h2.rowid FROM chat_histories h2 WHERE h2.chat_id = h.chat_id"
            + " ORDER BY h2.updated_at DESC, h2.rowid DESC LIMIT 1) ORDER BY h.chat_id";
    try (PreparedStatement st = c.prepareStatement(sql); ResultSet rs = st.executeQuery()) {
      while (rs.next()) {
        sink.accept(record(rs));
      }
    }
  }

  private static ConversationRecord record(ResultSet rs) throws SQLException {
    String chatId = rs.getString(1);
    if (chatId == null || chatId.isEmpty()) {
      throw new CliException(ExitCodes.BAD_INPUT, "a chat has no id");
    }
    ConversationRecord.Builder r = ConversationRecord.newBuilder().setThreadId(chatId);
    String messages = rs.getString(2);
    try {
      for (String m : JsonArrayText.elements(messages == null ? "[]" : messages)) {
        r.addMessages(Message.newBuilder().setJson(m));
      }
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.BAD_INPUT, "chat " + chatId + ": its messages column " + e.getMessage());
    }
    String cache = rs.getString(3);
    if (cache != null && !cache.isBlank()) {
      cacheInfo(chatId, cache, r);
    }
    String updatedAt = rs.getString(4);
    put(r, "initial_request", rs.getString(5));
    put(r, "project_root", rs.getString(6));
    put(r, "current_issue", rs.getString(7));
    String createdAt = rs.getString(8);
    put(r, "created_at", createdAt);
    put(r, "updated_at", updatedAt);
    put(r, "vmpilot_metadata", rs.getString(9));
    Instant updated = instant(updatedAt);
    Instant created = instant(createdAt);
    if (created == null) {
      created = updated;
    }
    if (created != null) {
      r.setCreateTime(timestamp(created));
      for (int i = 0; i < r.getMessagesCount(); i++) {
        r.setMessages(i, r.getMessages(i).toBuilder().setCreateTime(timestamp(created)));
      }
    }
    if (updated != null) {
      r.setUpdateTime(timestamp(updated));
    }
    return r.build();
  }

  private static void cacheInfo(String chatId, String text, ConversationRecord.Builder r) {
    JsonElement parsed;
    try {
      parsed = JsonParser.parseString(text);
    } catch (RuntimeException e) {
      throw new CliException(ExitCodes.BAD_INPUT, "chat " + chatId + ": cache_info is not JSON: " + text);
    }
    if (parsed.isJsonNull()) {
      return;
    }
    if (!parsed.isJsonObject()) {
      throw new CliException(ExitCodes.BAD_INPUT, "chat " + chatId + ": cache_info is not a JSON object: " + text);
    }
    for (var e : parsed.getAsJsonObject().entrySet()) {
      JsonElement v = e.getValue();
      if (v.isJsonNull()) {
        continue;
      }
      try {
        BigInteger n = v.getAsBigDecimal().toBigIntegerExact();
        r.putCacheInfo(e.getKey(), n.longValueExact());
      } catch (RuntimeException notInteger) {
        throw new CliException(ExitCodes.BAD_INPUT, "chat " + chatId + ": cache_info[" + e.getKey() + "] = " + v
            + " is not an integer of at most 64 bits");
      }
    }
  }

  private static void put(ConversationRecord.Builder r, String key, String value) {
    if (value != null && !value.isEmpty()) {
      r.putMetadata(key, value);
    }
  }

  private static final DateTimeFormatter LOCAL = new DateTimeFormatterBuilder()
      .appendPattern("yyyy-MM-dd")
      .optionalStart().appendLiteral(' ').optionalEnd()
      .optionalStart().appendLiteral('T').optionalEnd()
      .appendPattern("HH:mm:ss")
      .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true).optionalEnd()
      .toFormatter();

  /** A VMPilot timestamp ("2024-05-01 12:00:00[.ffffff]", ISO with or without a zone); null if none or unknown. */
  static Instant instant(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    String t = text.strip();
    try {
      return OffsetDateTime.parse(t.replace(' ', 'T')).toInstant();
    } catch (DateTimeParseException notOffset) {
      try {
        return LocalDateTime.parse(t, LOCAL).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException unknown) {
        return null;
      }
    }
  }

  private static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  @Override
  public void close() {
    close(c);
  }

  private static void close(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // read-only: nothing to lose
      }
    }
  }
}

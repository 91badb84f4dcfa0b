package io.vmpilot.conversation.cli;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * VMPilot databases as VMPilot made them (its schemas; messages as the JSON text Python's json.dumps writes:
 * ", " and ": " separators, non-ASCII escaped), for tests.
 */
public final class VmpilotFiles {
  private VmpilotFiles() {}

  public static final String SYSTEM = "{\"role\": \"system\", \"content\": \"You are VMPilot. Caf\\u00e9 \\ud83d\\ude80\"}";
  public static final String USER_BLOCKS = "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"fix it\","
      + " \"cache_control\": {\"type\": \"ephemeral\"}}]}";
  public static final String TOOL_CALL = "{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"call_1\","
      + " \"type\": \"function\", \"function\": {\"name\": \"shell\", \"arguments\": \"{\\\"command\\\": \\\"ls\\\"}\"}}]}";
  public static final String TOOL_RESULT = "{\"role\": \"tool\", \"content\": \"total 0\", \"tool_call_id\": \"call_1\"}";
  public static final String BIG = "{\"role\": \"user\", \"content\": \"n\", \"n\": 123456789012345678901234567890, \"f\": 1.50}";
  public static final String LANGCHAIN_HUMAN = "{\"type\": \"human\", \"data\": {\"content\": \"hi \\u65e5\\u672c\","
      + " \"additional_kwargs\": {}, \"type\": \"human\"}}";
  public static final String LANGCHAIN_AI = "{\"type\": \"ai\", \"data\": {\"content\": \"hello\", \"tool_calls\": []}}";

  static String array(String... messages) {
    return "[" + String.join(", ", messages) + "]";
  }

  /**
   * The early layout: chat "a" saved three times (the last two in the same second: the later row wins), chat "b"
   * saved once with LangChain messages, chat "c" with a history but no chats row.
   */
  public static void early(Path file) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE chats (id TEXT PRIMARY KEY, initial_request TEXT, project_root TEXT,"
          + " current_issue TEXT, created_at TIMESTAMP, metadata TEXT)");
      st.execute("CREATE TABLE chat_histories (chat_id TEXT, messages TEXT, cache_info TEXT, updated_at TIMESTAMP)");
      st.execute("INSERT INTO chats VALUES ('a', 'fix the bug ✓', '/src/app', 'issue 7', '2024-05-01 10:00:00', NULL)");
      st.execute("INSERT INTO chats VALUES ('b', 'hello', '/src/b', NULL, '2024-05-02 09:00:00', '{\"k\": 1}')");
      history(c, "a", array(SYSTEM), "{\"input_tokens\": 1}", "2024-05-01 10:00:00");
      history(c, "a", array(SYSTEM, USER_BLOCKS), "{\"input_tokens\": 2}", "2024-05-01 10:00:05");
      history(c, "a", array(SYSTEM, USER_BLOCKS, TOOL_CALL, TOOL_RESULT, BIG),
          "{\"input_tokens\": 3, \"cache_read_input_tokens\": 9007199254740993}", "2024-05-01 10:00:05");
      history(c, "b", array(LANGCHAIN_HUMAN, LANGCHAIN_AI), "{}", "2024-05-02 09:00:01");
      history(c, "c", array(SYSTEM), "{\"output_tokens\": 5}", "2024-05-03 08:00:00");
    }
  }

  private static void history(Connection c, String chat, String messages, String cache, String at)
      throws SQLException {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO chat_histories VALUES (?, ?, ?, ?)")) {
      st.setString(1, chat);
      st.setString(2, messages);
      st.setString(3, cache);
      st.setString(4, at);
      st.executeUpdate();
    }
  }

  /** The later, merged layout: chats "x" (tool calls, big numbers) and "y" (empty history). */
  public static void merged(Path file) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE chats (chat_id TEXT PRIMARY KEY, initial_request TEXT, project_root TEXT,"
          + " messages TEXT NOT NULL, cache_info TEXT NOT NULL, updated_at TIMESTAMP)");
      try (PreparedStatement ins = c.prepareStatement("INSERT INTO chats VALUES (?, ?, ?, ?, ?, ?)")) {
        ins.setString(1, "x");
        ins.setString(2, "add tests");
        ins.setString(3, "/src/x");
        ins.setString(4, array(SYSTEM, USER_BLOCKS, TOOL_CALL, TOOL_RESULT, BIG));
        ins.setString(5, "{\"cache_creation_input_tokens\": 100, \"cache_read_input_tokens\": 50}");
        ins.setString(6, "2024-06-01 12:30:00.250000");
        ins.executeUpdate();
        ins.setString(1, "y");
        ins.setString(2, null);
        ins.setString(3, null);
        ins.setString(4, "[]");
        ins.setString(5, "{}");
        ins.setString(6, "2024-06-02 00:00:00");
        ins.executeUpdate();
      }
    }
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.store.SearchText;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The writer indexes an inserted message with words the request thread worked out in Java
 * ({@link SearchText#sqliteText}); a Fork's copies and the rebuild at start-up are indexed by SQL
 * ({@link SqliteSearchIndex#WORDS_OF_JSON}, json_tree). Both must file the same words at the same positions, or
 * a message would be found or not depending on how it got there.
 */
class SearchWordsTest {
  private Connection c;

  @BeforeEach
  void open() throws SQLException {
    c = DriverManager.getConnection("jdbc:sqlite::memory:");
    try (Statement st = c.createStatement()) {
      st.execute("CREATE TABLE messages (json TEXT NOT NULL)");
      // As V9 creates it.
      st.execute("CREATE VIRTUAL TABLE message_text USING fts5(body, content = '', contentless_delete = 1,"
          + " tokenize = 'unicode61 remove_diacritics 0')");
      st.execute("CREATE VIRTUAL TABLE words USING fts5vocab(message_text, 'instance')");
    }
  }

  @AfterEach
  void close() throws SQLException {
    c.close();
  }

  static List<String> trickyJson() {
    String deep1000 = "[".repeat(999) + "{\"k\":\"at the limit\"}" + "]".repeat(999);
    String deep1001 = "[".repeat(1000) + "{\"k\":\"past the limit\"}" + "]".repeat(1000);
    return List.of(
        "{\"role\":\"user\",\"content\":\"Hello, world! get_user_name src/main.py\"}",
        "{\"a\":\"tab\\tnew\\nline\\\\back\\\"quote\\/slash\",\"b\":\"\\u00e9t\\u00e9 \\u2014 \\u65e5\\u672c\"}",
        "{\"a\":\"nul\\u0000inside\",\"b\":\"\\ud835\\udc00math \\ud83d\\ude00 emoji \\ud800lone\"}",
        "{\"a\":\"\",\"b\":\"\",\"c\":\"after empties\",\"d\":\"\"}",
        "{\"\":\"\",\"x\":[\"\",[\"\", \"in\"], {\"\":\"\"}]}",
        "{\"a\":[[\"one\",[\"two\",[\"three\"]]],{\"b\":{\"c\":[\"four\"]}}],\"n\":[1,2.5e3,true,false,null]}",
        "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
            + "\"read_file\",\"arguments\":\"{\\\"path\\\":\\\"/srv/config.yaml\\\",\\\"n\\\":[1,\\\"x\\\"]}\"}}]}",
        "{\"keys are not text\":1,\"nor numbers\":12345,\"but\":\"12345 is\"}",
        "{\"dup\":\"first\",\"dup\":\"second\"}",
        "{\"c\":\"Привет, МИР! ÉTÉ ﬁ ǅ Ⅻ ½ ٣ 𝟘 \\uE000private\"}",
        "{\"c\":\"" + "word ".repeat(3000) + "\"}",
        "\"a top-level string\"",
        "[\"top\",\"level\",\"array\"]",
        "42",
        "{}",
        deep1000,
        deep1001,
        "{\"unterminated\":\"x\"",
        "{\"a\":\"trailing\"} garbage",
        "not json at all",
        "{'single':'quotes'}",
        "{\"a\":NaN,\"b\":\"nan row\"}",
        "{\"a\":\"x\",}",
        "");
  }

  @ParameterizedTest
  @MethodSource("trickyJson")
  void javaAndJsonTreeFileTheSameWords(String json) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO messages (rowid, json) VALUES (1, ?)")) {
      st.setString(1, json);
      st.executeUpdate();
    }
    try (PreparedStatement st = c.prepareStatement("INSERT INTO message_text (rowid, body) SELECT rowid, "
        + SqliteSearchIndex.WORDS_OF_JSON.formatted("messages") + " FROM messages WHERE rowid = 1")) {
      st.executeUpdate();
    }
    try (PreparedStatement st = c.prepareStatement("INSERT INTO message_text (rowid, body) VALUES (2, ?)")) {
      st.setString(1, SearchText.sqliteText(json));
      st.executeUpdate();
    }
    List<String> bySql = words(1);
    assertThat(words(2)).isEqualTo(bySql);
  }

  @ParameterizedTest
  @MethodSource("trickyJson")
  void theWordsAreThoseSearchTextCuts(String json) throws SQLException {
    // Where SQLite takes the JSON, what FTS5 files is what the other backends search (SearchText.words).
    try (PreparedStatement st = c.prepareStatement("INSERT INTO message_text (rowid, body) VALUES (1, ?)")) {
      st.setString(1, SearchText.sqliteText(json));
      st.executeUpdate();
    }
    String text = SearchText.sqliteText(json);
    List<String> expected = new ArrayList<>();
    if (text != null) {
      List<String> w = SearchText.words(text);
      for (int i = 0; i < w.size(); i++) {
        expected.add(w.get(i) + "@" + i);
      }
    }
    assertThat(words(1)).containsExactlyInAnyOrderElementsOf(expected);
  }

  /** Each word of the row with its position, in the index's order. */
  private List<String> words(long rowid) throws SQLException {
    List<String> words = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(
        "SELECT term, offset FROM words WHERE doc = ? ORDER BY offset, term")) {
      st.setLong(1, rowid);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          words.add(rs.getString(1) + "@" + rs.getInt(2));
        }
      }
    }
    return words;
  }
}

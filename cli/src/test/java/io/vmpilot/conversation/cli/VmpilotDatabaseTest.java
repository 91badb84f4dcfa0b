package io.vmpilot.conversation.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.v1.ConversationRecord;
import io.vmpilot.conversation.v1.Message;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmpilotDatabaseTest {
  @TempDir
  Path dir;

  private static List<ConversationRecord> read(Path file) throws Exception {
    List<ConversationRecord> records = new ArrayList<>();
    try (VmpilotDatabase db = VmpilotDatabase.open(file)) {
      db.read(records::add);
    }
    return records;
  }

  private static List<String> texts(ConversationRecord r) {
    return r.getMessagesList().stream().map(Message::getJson).toList();
  }

  @Test
  void theEarlyLayoutTakesEachChatsNewestHistoryWithTiesToTheLaterRow() throws Exception {
    Path file = dir.resolve("early.db");
    VmpilotFiles.early(file);
    List<ConversationRecord> records = read(file);
    assertThat(records).extracting(ConversationRecord::getThreadId).containsExactly("a", "b", "c");
    ConversationRecord a = records.get(0);
    assertThat(texts(a)).containsExactly(VmpilotFiles.SYSTEM, VmpilotFiles.USER_BLOCKS, VmpilotFiles.TOOL_CALL,
        VmpilotFiles.TOOL_RESULT, VmpilotFiles.BIG);
    assertThat(a.getCacheInfoMap()).isEqualTo(Map.of("input_tokens", 3L, "cache_read_input_tokens", 9007199254740993L));
    assertThat(a.getMetadataMap()).containsEntry("project_root", "/src/app")
        .containsEntry("initial_request", "fix the bug ✓").containsEntry("current_issue", "issue 7")
        .containsEntry("created_at", "2024-05-01 10:00:00").containsEntry("updated_at", "2024-05-01 10:00:05");
    assertThat(a.getCreateTime().getSeconds()).isEqualTo(Instant.parse("2024-05-01T10:00:00Z").getEpochSecond());
    assertThat(a.getUpdateTime().getSeconds()).isEqualTo(Instant.parse("2024-05-01T10:00:05Z").getEpochSecond());
    assertThat(texts(records.get(1))).containsExactly(VmpilotFiles.LANGCHAIN_HUMAN, VmpilotFiles.LANGCHAIN_AI);
    assertThat(records.get(1).getMetadataMap()).containsEntry("vmpilot_metadata", "{\"k\": 1}");
    assertThat(records.get(2).getMetadataMap()).doesNotContainKey("project_root");
  }

  @Test
  void theMergedLayoutReadsEveryChat() throws Exception {
    Path file = dir.resolve("merged.db");
    VmpilotFiles.merged(file);
    List<ConversationRecord> records = read(file);
    assertThat(records).extracting(ConversationRecord::getThreadId).containsExactly("x", "y");
    assertThat(texts(records.get(0))).containsExactly(VmpilotFiles.SYSTEM, VmpilotFiles.USER_BLOCKS,
        VmpilotFiles.TOOL_CALL, VmpilotFiles.TOOL_RESULT, VmpilotFiles.BIG);
    assertThat(records.get(0).getCacheInfoMap()).containsEntry("cache_creation_input_tokens", 100L);
    assertThat(records.get(0).getUpdateTime().getNanos()).isEqualTo(250_000_000);
    assertThat(records.get(1).getMessagesCount()).isZero();
  }

  @Test
  void badFilesSayWhatIsWrong() throws Exception {
    Path notSqlite = dir.resolve("text.db");
    Files.writeString(notSqlite, "hello, not a database at all, just text long enough to be read");
    assertThatThrownBy(() -> read(notSqlite)).isInstanceOf(CliException.class).hasMessageContaining("text.db");

    Path other = dir.resolve("other.db");
    try (var c = DriverManager.getConnection("jdbc:sqlite:" + other)) {
      c.createStatement().execute("CREATE TABLE t (x)");
    }
    assertThatThrownBy(() -> read(other)).hasMessageContaining("not a VMPilot database");

    Path badMessages = dir.resolve("bad.db");
    VmpilotFiles.merged(badMessages);
    try (var c = DriverManager.getConnection("jdbc:sqlite:" + badMessages)) {
      c.createStatement().execute("UPDATE chats SET messages = '[{\"role\": \"user\"' WHERE chat_id = 'y'");
    }
    assertThatThrownBy(() -> read(badMessages)).isInstanceOf(CliException.class)
        .hasMessageContaining("chat y").hasMessageContaining("messages");

    Path badCache = dir.resolve("cache.db");
    VmpilotFiles.merged(badCache);
    try (var c = DriverManager.getConnection("jdbc:sqlite:" + badCache)) {
      c.createStatement().execute("UPDATE chats SET cache_info = '{\"n\": 99999999999999999999}' WHERE chat_id = 'x'");
    }
    assertThatThrownBy(() -> read(badCache)).hasMessageContaining("chat x").hasMessageContaining("cache_info[n]");
  }

  @Test
  void aJsonArraySplitsIntoItsElementsVerbatim() {
    assertThat(JsonArrayText.elements(" [ {\"a\": [1, {\"b\": \"],}\\\"\"}]} ,{\"c\":1e400}\n] "))
        .containsExactly("{\"a\": [1, {\"b\": \"],}\\\"\"}]}", "{\"c\":1e400}");
    assertThat(JsonArrayText.elements("[]")).isEmpty();
    assertThat(JsonArrayText.elements("[1, \"x\", null]")).containsExactly("1", "\"x\"", "null");
    assertThatThrownBy(() -> JsonArrayText.elements("{}")).hasMessageContaining("not a JSON array");
    assertThatThrownBy(() -> JsonArrayText.elements("[{\"a\": 1}")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> JsonArrayText.elements("[1] x")).hasMessageContaining("after");
  }
}

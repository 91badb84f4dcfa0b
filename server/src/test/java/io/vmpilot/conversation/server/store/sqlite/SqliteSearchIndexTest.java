package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.SearchHit;
import io.vmpilot.conversation.server.store.SearchQuery;
import io.vmpilot.conversation.server.store.SearchText;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.ForkCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.error.SearchIndexOffException;
import io.vmpilot.conversation.server.store.error.VersionMismatchException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** [search] index: turned off, the index goes and Search is refused; turned on again, every stored message is found. */
class SqliteSearchIndexTest {
  @TempDir
  Path dir;

  private SqliteConversationStore open(boolean searchIndex) {
    return SqliteConversationStore.open(
        new SqliteSettings(dir.resolve("s.db"), Durability.NORMAL, 5000, 2, 64, 1 << 20).withSearchIndex(searchIndex));
  }

  private static void append(SqliteConversationStore s, String thread, String text) {
    s.append(new AppendCommand(ThreadKey.of(thread), List.of(new NewMessage("", "{\"content\":\"" + text + "\"}")),
        OptionalLong.empty()));
  }

  private static List<String> threadsWith(SqliteConversationStore s, String word) {
    return s.search(new SearchQuery(ThreadKey.DEFAULT_TENANT, SearchText.phrases(word), Map.of(), 100, 0)).stream()
        .map(SearchHit::threadId).sorted().toList();
  }

  private boolean triggersPresent() throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"))) {
      return SqliteSearchIndex.triggersPresent(c);
    }
  }

  @Test
  void offRefusesSearchAndOnAgainIndexesEveryStoredMessage() throws SQLException {
    try (SqliteConversationStore s = open(true)) {
      append(s, "a", "zebra crossing");
      append(s, "b", "zebra stripes");
      assertThat(threadsWith(s, "zebra")).containsExactly("a", "b");
    }

    try (SqliteConversationStore s = open(false)) {
      assertThat(triggersPresent()).isFalse();
      assertThatThrownBy(() -> threadsWith(s, "zebra")).isInstanceOf(SearchIndexOffException.class);
      append(s, "c", "yak shaving");
      s.clear(new ClearCommand(ThreadKey.of("b"), OptionalLong.empty()));
    }

    try (SqliteConversationStore s = open(true)) {
      assertThat(triggersPresent()).isTrue();
      // Written while the index was off, and a conversation deleted meanwhile is not found.
      assertThat(threadsWith(s, "yak")).containsExactly("c");
      assertThat(threadsWith(s, "zebra")).containsExactly("a");
      append(s, "d", "zebra again");
      assertThat(threadsWith(s, "zebra")).containsExactly("a", "d");
    }
  }

  @Test
  void aStoreOpenedAgainWithTheSameSettingLeavesTheIndexAlone() throws SQLException {
    try (SqliteConversationStore s = open(true)) {
      append(s, "a", "otter");
    }
    try (SqliteConversationStore s = open(true)) {
      assertThat(threadsWith(s, "otter")).containsExactly("a");
    }
    try (SqliteConversationStore s = open(false)) {
      append(s, "b", "otter");
    }
    try (SqliteConversationStore s = open(false)) {
      assertThat(triggersPresent()).isFalse();
    }
  }

  @Test
  void theInsertTriggerOfEarlierServersGoesAndTheWriterIndexesInstead() throws SQLException {
    try (SqliteConversationStore s = open(true)) {
      append(s, "a", "heron");
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"))) {
      assertThat(SqliteSearchIndex.insertTriggerPresent(c)).isFalse();
      // As V9 (and every server before the writer indexed itself) left it.
      c.createStatement().execute("CREATE TRIGGER message_text_insert AFTER INSERT ON messages BEGIN"
          + " INSERT INTO message_text (rowid, body) VALUES (new.rowid, "
          + SqliteSearchIndex.WORDS_OF_JSON.formatted("new") + "); END");
    }
    try (SqliteConversationStore s = open(true)) {
      assertThat(triggersPresent()).isTrue();
      append(s, "b", "heron egret");
      s.fork(new ForkCommand(ThreadKey.of("b"), ThreadKey.of("c"), OptionalLong.empty(), OptionalLong.empty()));
      assertThat(threadsWith(s, "heron")).containsExactly("a", "b", "c");
      assertThat(threadsWith(s, "egret")).containsExactly("b", "c");
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"))) {
      assertThat(SqliteSearchIndex.insertTriggerPresent(c)).isFalse();
    }
  }

  /**
   * An earlier build (one that indexed by V9's insert trigger) run on this file after this one had dropped that
   * trigger keeps the delete trigger, so it takes the index as complete and stores messages without their words.
   * Opened again here, the index is found incomplete by its newest message and rebuilt.
   */
  @Test
  void messagesAnEarlierBuildStoredWithoutTheirWordsAreIndexedAtTheNextStart() throws SQLException {
    try (SqliteConversationStore s = open(true)) {
      append(s, "a", "heron");
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"));
        Statement st = c.createStatement()) {
      // What that build's Append did: the message row, and no insert trigger to index it.
      st.execute("INSERT INTO messages (conversation_id, position, message_id, json, create_time)"
          + " SELECT conversation_id, 1, NULL, '{\"content\":\"kingfisher\"}', 0 FROM conversations"
          + " WHERE thread_id = 'a'");
      st.execute("UPDATE conversations SET message_count = 2 WHERE thread_id = 'a'");
    }
    try (SqliteConversationStore s = open(true)) {
      assertThat(triggersPresent()).isTrue();
      assertThat(threadsWith(s, "kingfisher")).containsExactly("a");
      assertThat(threadsWith(s, "heron")).containsExactly("a");
    }
  }

  private long indexSegments() throws SQLException {
    return sqlLong("SELECT count(DISTINCT segid) FROM message_text_idx");
  }

  private long sqlLong(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"));
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private void sql(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"));
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private static Submitter<Object> queued(String name, Runnable write) {
    return Submitter.startAndAwaitParked(name, () -> {
      write.run();
      return null;
    });
  }

  /**
   * Written with each message, every message became an index segment of its own (FTS5 writes what it holds out at
   * the next statement's savepoint), which cost the writer more than the rest of a turn; written together, the
   * batch's messages make one segment.
   */
  @Test
  void theMessagesOfOneBatchAreIndexedAsOneSegment() throws Exception {
    try (SqliteConversationStore s = open(true)) {
      append(s, "seed", "seed");
      sql("INSERT INTO message_text (message_text, rank) VALUES ('automerge', 0)"); // so segments stay countable
      long before = indexSegments();

      HeldWriter held = HeldWriter.hold(s);
      List<Submitter<Object>> writes = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String thread = "t" + i;
        writes.add(queued(thread, () -> append(s, thread, "puffin number" + thread)));
      }
      held.release();
      for (Submitter<Object> w : writes) {
        w.result();
      }

      assertThat(indexSegments() - before).as("new index segments for one batch of 8 appends").isEqualTo(1);
      assertThat(threadsWith(s, "puffin")).containsExactly("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7");
      assertThat(threadsWith(s, "numbert3")).containsExactly("t3");
    }
  }

  @Test
  void messagesDeletedInTheBatchThatInsertedThemLeaveNoWordsBehind() throws Exception {
    try (SqliteConversationStore s = open(true)) {
      append(s, "kept", "otter");
      HeldWriter held = HeldWriter.hold(s);
      List<Submitter<Object>> writes = List.of(
          queued("append", () -> append(s, "cleared", "zebra")),
          queued("clear", () -> s.clear(new ClearCommand(ThreadKey.of("cleared"), OptionalLong.empty()))),
          // Takes the cleared message's rowid again (the newest rowid was deleted).
          queued("reuse", () -> append(s, "after", "lion")),
          queued("append-kept", () -> append(s, "kept", "walrus")),
          queued("replace-kept", () -> s.save(new SaveCommand(ThreadKey.of("kept"),
              List.of(new NewMessage("", "{\"content\":\"otter\"}")), Map.of(), Map.of(), OptionalLong.empty()))));
      held.release();
      for (Submitter<Object> w : writes) {
        w.result();
      }

      assertThat(threadsWith(s, "zebra")).isEmpty();
      assertThat(threadsWith(s, "walrus")).isEmpty();
      assertThat(threadsWith(s, "lion")).containsExactly("after");
      assertThat(threadsWith(s, "otter")).containsExactly("kept");
      sql("INSERT INTO message_text (message_text) VALUES ('integrity-check')");
    }
  }

  @Test
  void aWriteUndoneAloneInItsBatchTakesItsWordsWithIt() throws Exception {
    try (SqliteConversationStore s = open(true)) {
      append(s, "host", "host");
      GroupCommitWriter writer = HeldWriter.writerOf(s);
      HeldWriter held = HeldWriter.hold(s);
      Submitter<Object> before = queued("before", () -> append(s, "before", "heron"));
      Submitter<Object> failing = Submitter.startAndAwaitParked("failing", () -> writer.submit(tx -> {
        try (PreparedStatement st = tx.connection().prepareStatement("INSERT INTO messages"
            + " (conversation_id, position, message_id, json, create_time) SELECT conversation_id, 99, NULL, '{}', 0"
            + " FROM conversations WHERE thread_id = 'host' RETURNING rowid");
            ResultSet rs = st.executeQuery()) {
          rs.next();
          tx.searchWords().add(rs.getLong(1), "ghost");
        }
        throw new VersionMismatchException(ThreadKey.of("host"), 1, 2); // after writing: undone in a savepoint
      }));
      // In the batch run again with savepoints, this one's message takes the undone message's rowid.
      Submitter<Object> after = queued("after", () -> append(s, "after", "egret"));
      held.release();
      before.result();
      assertThat(failing.failure()).isInstanceOf(VersionMismatchException.class);
      after.result();

      assertThat(threadsWith(s, "ghost")).isEmpty();
      assertThat(threadsWith(s, "egret")).containsExactly("after");
      assertThat(threadsWith(s, "heron")).containsExactly("before");
    }
  }
}

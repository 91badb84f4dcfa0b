package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.store.NewMessage;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's memory of client ids, over a real file: exact whatever the hashes do, and up to date. */
class ClientIdsTest {
  @TempDir
  Path dir;

  private SqliteDataSources ds;
  private Connection c;

  @BeforeEach
  void open() throws SQLException {
    ds = SqliteDataSources.open(new SqliteSettings(dir.resolve("ids.db"), Durability.NORMAL, 5000, 1, 16, 1 << 20));
    c = ds.writer.getConnection();
    try (Statement st = c.createStatement()) {
      for (int id = 1; id <= 3; id++) {
        st.executeUpdate("INSERT INTO conversations (conversation_id, tenant, thread_id, version, create_time,"
            + " update_time, message_count, history_bytes) VALUES (" + id + ", 't', 'c" + id + "', 1, 0, 0, 0, 0)");
      }
    }
  }

  @AfterEach
  void close() throws SQLException {
    c.close();
    ds.close();
  }

  /** Stores messages with these ids (null: none) in the file, from position {@code first} on. */
  private void store(long conversation, long first, String... ids) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO messages (conversation_id, position, message_id,"
        + " json, create_time) VALUES (?, ?, ?, '{}', 0)")) {
      for (int i = 0; i < ids.length; i++) {
        st.setLong(1, conversation);
        st.setLong(2, first + i);
        st.setString(3, ids[i]);
        st.executeUpdate();
      }
    }
  }

  private static List<NewMessage> messages(String... ids) {
    List<NewMessage> list = new ArrayList<>();
    for (String id : ids) {
      list.add(new NewMessage(id, "{}"));
    }
    return list;
  }

  @Test
  void aConversationsIdsAreReadFromTheFileOnFirstUseAndFoundExactly() throws SQLException {
    store(1, 0, "a", null, "b", "c");
    ClientIds ids = new ClientIds(1 << 20);
    assertThat(ids.storedAmong(c, 1, messages("a", "x", "c", ""))).containsExactlyInAnyOrder("a", "c");
    assertThat(ids.storedAmong(c, 2, messages("a"))).as("another conversation's ids do not count").isEmpty();
  }

  @Test
  void idsThatShareAHashAreStillToldApart() throws SQLException {
    store(1, 0, "a", "b", "c");
    ClientIds ids = new ClientIds(1 << 20, () -> new IdPositions(id -> 42));
    assertThat(ids.storedAmong(c, 1, messages("b", "c", "d", "a"))).containsExactlyInAnyOrder("a", "b", "c");
    assertThat(ids.storedAmong(c, 1, messages("z"))).isEmpty();
  }

  @Test
  void whatTheWriterAddsIsKnownWithoutReadingTheFileAgainAndEveryHitIsConfirmed() throws SQLException {
    ClientIds ids = new ClientIds(1 << 20);
    ids.created(1);
    store(1, 0, "a", "b");
    ids.added(1, 0, messages("a", "b"));
    // Known without reading: a row the writer did not report stays unknown ...
    store(1, 2, "unreported");
    assertThat(ids.storedAmong(c, 1, messages("a", "b", "unreported"))).containsExactlyInAnyOrder("a", "b");
    // ... and an id reported but not in the file (a write rolled back) is not taken on trust.
    ids.added(1, 3, messages("rolled-back"));
    assertThat(ids.storedAmong(c, 1, messages("rolled-back"))).isEmpty();
  }

  @Test
  void aSavedHistoryIsKnownAndAClearForgetsIt() throws SQLException {
    store(1, 0, "new-a", "new-b");
    ClientIds ids = new ClientIds(1 << 20);
    ids.created(1);
    ids.added(1, 0, messages("new-a", "new-b"));
    assertThat(ids.storedAmong(c, 1, messages("new-a", "new-b", "old"))).containsExactlyInAnyOrder("new-a", "new-b");
    ids.removed(1);
    try (Statement st = c.createStatement()) {
      st.executeUpdate("DELETE FROM messages WHERE conversation_id = 1");
    }
    store(1, 0, "after-clear");
    assertThat(ids.storedAmong(c, 1, messages("new-a", "after-clear"))).containsExactly("after-clear");
  }

  @Test
  void beyondItsMemoryTheLeastRecentlyUsedConversationIsDroppedAndReadAgainWhenNeeded() throws SQLException {
    store(1, 0, "one");
    store(2, 0, "two");
    // Room for about one table: each holds 16 slots of 16 bytes.
    ClientIds ids = new ClientIds(300);
    assertThat(ids.storedAmong(c, 1, messages("one"))).containsExactly("one");
    assertThat(ids.storedAmong(c, 2, messages("two"))).containsExactly("two");
    // Conversation 1 was dropped, so an id stored behind the writer's back is seen when it is read again; 2 was
    // kept, so its own such id is not.
    store(1, 1, "one-later");
    store(2, 1, "two-later");
    assertThat(ids.storedAmong(c, 2, messages("two-later"))).isEmpty();
    assertThat(ids.storedAmong(c, 1, messages("one-later"))).containsExactly("one-later");
  }
}

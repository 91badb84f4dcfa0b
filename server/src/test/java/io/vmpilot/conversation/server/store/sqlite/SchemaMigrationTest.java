package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.vmpilot.conversation.server.store.AppendResult;
import io.vmpilot.conversation.server.store.ChangeEvent;
import io.vmpilot.conversation.server.store.ChangeQuery;
import io.vmpilot.conversation.server.store.Conversation;
import io.vmpilot.conversation.server.store.error.ChangeLogPrunedException;
import io.vmpilot.conversation.server.store.ListQuery;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.SearchHit;
import io.vmpilot.conversation.server.store.SearchQuery;
import io.vmpilot.conversation.server.store.SearchText;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A database written by an older schema version opens with everything it held, and keeps working. */
class SchemaMigrationTest {
  @TempDir
  Path dir;

  @Test
  void aVersion1DatabaseKeepsItsMessagesCountersAndIdsAfterMigratingToVersion2() throws SQLException {
    Path file = dir.resolve("v1.db");
    String url = "jdbc:sqlite:" + file;
    Flyway.configure().dataSource(url, null, null).locations("classpath:db/migration/sqlite").target("1").load()
        .migrate();
    try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
      st.executeUpdate("UPDATE store_revision SET revision = 7");
      st.executeUpdate("INSERT INTO conversations VALUES (1, 'default', 'with-cache', 5, 10, 20, 3, 9),"
          + " (2, 'default', 'without-cache', 7, 30, 40, 1, 2)");
      // Rows inserted out of order: the history order is the position, not the insertion order.
      st.executeUpdate("INSERT INTO messages VALUES (1, 2, NULL, '{\"c\":3}', 13), (1, 0, 'a', '{\"a\":1}', 11),"
          + " (1, 1, 'b', '{ \"b\" : \"é\" }', 12), (2, 0, 'x', '{}', 31)");
      st.executeUpdate("INSERT INTO cache_info VALUES (1, 'input_tokens', 10), (1, 'big', 9007199254740993)");
      st.executeUpdate("INSERT INTO metadata VALUES (1, 'project_root', '/p')");
    }

    List<String> logged = new ArrayList<>();
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord r) {
        logged.add(r.getMessage());
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Logger log = Logger.getLogger(SqliteDataSources.class.getName());
    log.addHandler(capture);
    SqliteConversationStore store;
    try {
      store = SqliteConversationStore.open(new SqliteSettings(file, Durability.FULL, 5000, 2, 16, 1 << 20));
    } finally {
      log.removeHandler(capture);
    }
    // A conversion that may take a while says so, and says when it is done.
    assertThat(logged).anyMatch(m -> m.contains("applying schema migrations V2 rowid messages"))
        .anyMatch(m -> m.contains("schema at version 18 after"));
    try {
      Conversation with = store.get(ThreadKey.of("with-cache"), MessageWindow.ALL).orElseThrow();
      assertThat(with.messages()).extracting(StoredMessage::id, m -> m.json().text(), StoredMessage::position)
          .containsExactly(
              tuple("a", "{\"a\":1}", 0L),
              tuple("b", "{ \"b\" : \"é\" }", 1L),
              tuple("", "{\"c\":3}", 2L));
      assertThat(with.summary().cacheInfo()).containsExactlyInAnyOrderEntriesOf(
          Map.of("input_tokens", 10L, "big", 9007199254740993L));
      assertThat(with.summary().metadata()).containsExactlyEntriesOf(Map.of("project_root", "/p"));
      assertThat(with.summary().version()).isEqualTo(5);
      Conversation without = store.get(ThreadKey.of("without-cache"), MessageWindow.ALL).orElseThrow();
      assertThat(without.summary().cacheInfo()).isEmpty();
      assertThat(store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, Long.MAX_VALUE, Map.of())))
          .extracting(s -> s.key().threadId()).containsExactly("without-cache", "with-cache");

      // V9 indexed the messages already stored for Search: string values only.
      assertThat(store.search(new SearchQuery(ThreadKey.DEFAULT_TENANT, SearchText.phrases("é"), Map.of(), 10, 0)))
          .extracting(SearchHit::threadId, SearchHit::position).containsExactly(tuple("with-cache", 1L));
      assertThat(store.search(new SearchQuery(ThreadKey.DEFAULT_TENANT, SearchText.phrases("b"), Map.of(), 10, 0)))
          .as("a key is not text").isEmpty();

      // The old file's client ids still count (read from its messages now that there is no index on them): a
      // replayed id is not stored twice, a new one gets the next position and a version above every version the
      // old file had handed out.
      AppendResult replay = store.append(new AppendCommand(ThreadKey.of("with-cache"),
          List.of(new NewMessage("a", "{\"a\":1}")), OptionalLong.empty()));
      assertThat(replay.appendedCount()).isZero();
      AppendResult fresh = store.append(new AppendCommand(ThreadKey.of("with-cache"),
          List.of(new NewMessage("d", "{\"d\":4}")), OptionalLong.of(5)));
      assertThat(fresh.appendedCount()).isEqualTo(1);
      assertThat(fresh.messageCount()).isEqualTo(4);
      assertThat(fresh.version()).isGreaterThan(7);
      assertThat(store.updateCache(new UpdateCacheCommand(ThreadKey.of("with-cache"), Map.of("output_tokens", 2L), OptionalLong.empty())))
          .isGreaterThan(fresh.version());
      assertThat(store.get(ThreadKey.of("with-cache"), MessageWindow.NONE).orElseThrow().summary().cacheInfo())
          .containsExactlyEntriesOf(Map.of("output_tokens", 2L));
      // The change log (V11) starts at each tenant's newest version from before it existed: asked for changes
      // after an older version, it reports the gap instead of hiding it.
      assertThatThrownBy(() -> store.changeFeed().changes(new ChangeQuery(ThreadKey.DEFAULT_TENANT, "", 5, 10)))
          .isInstanceOf(ChangeLogPrunedException.class);
      assertThat(store.changeFeed().changes(new ChangeQuery(ThreadKey.DEFAULT_TENANT, "", 5 + 2, 10)))
          .extracting(ChangeEvent::version).hasSize(2).first().isEqualTo(fresh.version());
    } finally {
      store.close();
    }
  }
}

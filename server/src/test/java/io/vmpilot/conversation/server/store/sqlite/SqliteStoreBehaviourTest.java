package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.vmpilot.conversation.server.store.AppendResult;
import io.vmpilot.conversation.server.store.Conversation;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.SaveResult;
import io.vmpilot.conversation.server.store.StoreStats;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import io.vmpilot.conversation.server.store.error.ConversationNotFoundException;
import io.vmpilot.conversation.server.store.error.HistoryTooLargeException;
import io.vmpilot.conversation.server.store.error.StorageFullException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.error.VersionMismatchException;
import io.vmpilot.conversation.server.store.write.KeptPrefix;
import io.vmpilot.conversation.server.store.write.WriteRules;
import java.nio.charset.StandardCharsets;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What only the SQLite backend promises: the file on disk, group commit, and its statistics. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SqliteStoreBehaviourTest {
  @TempDir
  Path dir;

  private final List<SqliteConversationStore> stores = new ArrayList<>();

  private SqliteConversationStore open(String name, long maxHistoryBytes) {
    SqliteConversationStore s = SqliteConversationStore.open(
        new SqliteSettings(dir.resolve(name), Durability.FULL, 5000, 4, 256, maxHistoryBytes));
    stores.add(s);
    return s;
  }

  @AfterEach
  void closeAll() {
    stores.forEach(SqliteConversationStore::close);
  }

  private static NewMessage msg(String id, String json) {
    return new NewMessage(id, json);
  }

  private static SaveCommand save(ThreadKey k, List<NewMessage> messages) {
    return new SaveCommand(k, messages, Map.of(), Map.of(), OptionalLong.empty());
  }

  /** {@code n} messages of ~2 KB, {@code changed} (if in range) with other content. */
  private static List<NewMessage> history(int n, int changed) {
    List<NewMessage> messages = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      messages.add(msg("m" + i, "{\"i\":" + i + ",\"c\":\"" + (i == changed ? "y" : "x").repeat(2_000) + "\"}"));
    }
    return messages;
  }

  private static List<String> jsons(SqliteConversationStore s, ThreadKey k) {
    return s.get(k, MessageWindow.ALL).orElseThrow().messages().stream().map(m -> m.json().text()).toList();
  }

  // Saves over 1 MiB find the kept prefix on a reader connection; the writer trusts it only at its version.

  @Test
  void aLargeSaveExtendingTheHistoryWritesOnlyTheNewMessages() {
    SqliteConversationStore s = open("large-save.db", 1 << 24);
    ThreadKey k = ThreadKey.of("long");
    s.save(save(k, history(600, -1)));
    assertThat(WriteRules.totalBytes(history(601, -1)))
        .isGreaterThan(SqliteConversationStore.FIND_KEPT_PREFIX_ABOVE_BYTES);
    SaveResult r = s.save(save(k, history(601, -1)));
    assertThat(r.messagesWritten()).isEqualTo(1);
    assertThat(jsons(s, k)).isEqualTo(history(601, -1).stream().map(NewMessage::json).toList());

    r = s.save(save(k, history(601, 300)));
    assertThat(r.messagesWritten()).as("from the changed message on").isEqualTo(301);
    assertThat(jsons(s, k)).isEqualTo(history(601, 300).stream().map(NewMessage::json).toList());
  }

  @Test
  void aKeptPrefixFoundBeforeAnotherWriteIsNotTrusted() {
    SqliteConversationStore s = open("stale-prefix.db", 1 << 24);
    ThreadKey k = ThreadKey.of("raced");
    long before = s.save(save(k, history(40, -1))).version();
    // Found for "all 40 kept", then another write changes message 10 before the Save reaches the writer.
    var foundBefore = new KeptPrefix(before, 40);
    s.save(save(k, history(40, 10)));

    SaveResult r = s.save(save(k, history(41, -1)), foundBefore);
    assertThat(r.messagesWritten()).as("compared again: messages 10..40").isEqualTo(31);
    assertThat(jsons(s, k)).isEqualTo(history(41, -1).stream().map(NewMessage::json).toList());
  }

  @Test
  void aKeptPrefixAtTheCurrentVersionSparesTheWriterTheComparison() {
    SqliteConversationStore s = open("current-prefix.db", 1 << 24);
    ThreadKey k = ThreadKey.of("current");
    long now = s.save(save(k, history(40, -1))).version();
    // A prefix of 0 at the current version (true, if wasteful) is taken as given: everything is written again.
    SaveResult r = s.save(save(k, history(41, -1)), new KeptPrefix(now, 0));
    assertThat(r.messagesWritten()).isEqualTo(41);
    assertThat(jsons(s, k)).isEqualTo(history(41, -1).stream().map(NewMessage::json).toList());
  }

  private static Connection raw(SqliteConversationStore s) throws SQLException {
    return DriverManager.getConnection(s.settings().jdbcUrl());
  }

  @Test
  void theFileHoldsEachMessageAsItsExactUtf8TextInOneRowPerMessage() throws SQLException {
    SqliteConversationStore s = open("raw.db", 1 << 20);
    List<String> texts = List.of(
        "{\"content\":\"caf\\u00e9 😀 日本\",\"n\":9007199254740993}",
        "{ \"a\" : 10.0 ,\n \"b\":10 }",
        "{\"role\":\"tool\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"ok\"}]}");
    s.save(save(ThreadKey.of("thread-1"), List.of(msg("a", texts.get(0)), msg("", texts.get(1)))));
    s.append(new AppendCommand(ThreadKey.of("thread-1"), List.of(msg("c", texts.get(2))), OptionalLong.empty()));

    // Visible to another connection as soon as the call returned: acknowledged means committed.
    try (Connection c = raw(s);
        PreparedStatement st = c.prepareStatement(
            "SELECT m.position, m.message_id, CAST(m.json AS BLOB) FROM messages m"
                + " JOIN conversations c ON c.conversation_id = m.conversation_id"
                + " WHERE c.tenant = ? AND c.thread_id = ? ORDER BY m.position")) {
      st.setString(1, ThreadKey.DEFAULT_TENANT);
      st.setString(2, "thread-1");
      try (ResultSet rs = st.executeQuery()) {
        for (int i = 0; i < texts.size(); i++) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getLong(1)).isEqualTo(i);
          assertThat(rs.getBytes(3)).isEqualTo(texts.get(i).getBytes(StandardCharsets.UTF_8));
        }
        assertThat(rs.next()).isFalse();
      }
      try (Statement q = c.createStatement();
          ResultSet rs = q.executeQuery("SELECT message_id FROM messages ORDER BY position")) {
        List<String> ids = new ArrayList<>();
        while (rs.next()) {
          ids.add(rs.getString(1));
        }
        // A message without id is stored with a NULL id, so it never collides with another.
        assertThat(ids).containsExactly("a", null, "c");
      }
    }
  }

  @Test
  void dataAndTheRevisionCounterSurviveSeveralRestarts() {
    Path file = dir.resolve("restart.db");
    SqliteSettings settings = new SqliteSettings(file, Durability.NORMAL, 5000, 2, 16, 1 << 20);
    ThreadKey k = ThreadKey.of("survivor");
    long highest = 0;
    Conversation expected = null;
    for (int round = 0; round < 3; round++) {
      try (SqliteConversationStore s = SqliteConversationStore.open(settings)) {
        if (expected != null) {
          assertThat(s.get(k, MessageWindow.ALL)).contains(expected);
        }
        AppendResult r = s.append(new AppendCommand(k, List.of(msg("r" + round, "{\"round\":" + round + "}")),
            OptionalLong.empty()));
        assertThat(r.version()).isGreaterThan(highest);
        assertThat(r.messageCount()).isEqualTo(round + 1);
        // A throw-away conversation raises the counter further, then disappears.
        ThreadKey temp = ThreadKey.of("temp-" + round);
        s.save(save(temp, List.of()));
        s.clear(new ClearCommand(temp, OptionalLong.empty()));
        highest = s.save(save(ThreadKey.of("temp2-" + round), List.of())).version();
        s.clear(new ClearCommand(ThreadKey.of("temp2-" + round), OptionalLong.empty()));
        highest++; // the clear took a version too
        expected = s.get(k, MessageWindow.ALL).orElseThrow();
      }
    }
    assertThat(expected.messages()).extracting(StoredMessage::id).containsExactly("r0", "r1", "r2");
  }

  @Test
  void storedIdsAreRecognisedAfterARestartAfterASaveAndAfterAFailedWrite() {
    Path file = dir.resolve("ids.db");
    SqliteSettings settings = new SqliteSettings(file, Durability.NORMAL, 5000, 2, 16, 1 << 20);
    ThreadKey k = ThreadKey.of("ids");
    try (SqliteConversationStore s = SqliteConversationStore.open(settings)) {
      s.append(new AppendCommand(k, List.of(msg("a", "{}"), msg("", "{}"), msg("b", "{}")), OptionalLong.empty()));
    }
    try (SqliteConversationStore s = SqliteConversationStore.open(settings)) {
      // A new server: the ids are read from the file.
      AppendResult again = s.append(new AppendCommand(k, List.of(msg("b", "{}"), msg("c", "{}")),
          OptionalLong.empty()));
      assertThat(again.appendedCount()).isEqualTo(1);
      assertThat(again.messageCount()).isEqualTo(4);

      // A Save replaces the history, and with it the ids that count.
      s.save(save(k, List.of(msg("x", "{}"), msg("a", "{}"))));
      AppendResult afterSave = s.append(new AppendCommand(k, List.of(msg("a", "{}"), msg("b", "{}"),
          msg("x", "{}")), OptionalLong.empty()));
      assertThat(afterSave.appendedCount()).as("only b is new").isEqualTo(1);

      // A refused Append stores no id: y is still new afterwards.
      assertThatThrownBy(() -> s.append(new AppendCommand(k, List.of(msg("y", "{}")), OptionalLong.of(1))))
          .isInstanceOf(VersionMismatchException.class);
      assertThat(s.append(new AppendCommand(k, List.of(msg("y", "{}"), msg("x", "{}")), OptionalLong.empty()))
          .appendedCount()).isEqualTo(1);
      assertThat(s.get(k, MessageWindow.ALL).orElseThrow().messages()).extracting(StoredMessage::id)
          .containsExactly("x", "a", "b", "y");
    }
  }

  @Test
  void concurrentWritersShareCommits() throws Exception {
    SqliteConversationStore s = open("group.db", 1 << 20);
    int threads = 16;
    int perThread = 50;
    StoreStats before = s.stats();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int w = 0; w < threads; w++) {
        int worker = w;
        futures.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < perThread; i++) {
            s.append(new AppendCommand(ThreadKey.of("g" + (i % 4)),
                List.of(msg(worker + "-" + i, "{\"w\":" + worker + "}")), OptionalLong.empty()));
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get(100, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    StoreStats after = s.stats();
    long writes = after.committedWrites() - before.committedWrites();
    long syncs = after.syncs() - before.syncs();
    assertThat(writes).isEqualTo(threads * perThread);
    assertThat(syncs).as("commits for %d writes", writes).isPositive().isLessThan(writes);
    assertThat(after.messages()).isEqualTo(threads * perThread);
    assertThat(after.conversations()).isEqualTo(4);
  }

  @Test
  void requestsThatFailInABatchDoNotFailTheOthers() throws Exception {
    SqliteConversationStore s = open("mixed.db", 100);
    ThreadKey existing = ThreadKey.of("existing");
    long v = s.save(save(existing, List.of(msg("e", "{\"e\":1}")))).version();
    StoreStats before = s.stats();

    GroupCommitWriter writer = HeldWriter.writerOf(s);
    long commitsBefore = writer.commits();
    HeldWriter held = HeldWriter.hold(s);

    Submitter<AppendResult> goodAppend = Submitter.startAndAwaitParked("good-append", () -> s.append(
        new AppendCommand(ThreadKey.of("new"), List.of(msg("n", "{\"n\":1}")), OptionalLong.empty())));
    Submitter<Object> staleSave = Submitter.startAndAwaitParked("stale-save", () -> s.save(new SaveCommand(existing,
        List.of(msg("x", "{}")), Map.of(), Map.of(), OptionalLong.of(v - 1))));
    Submitter<Object> tooBig = Submitter.startAndAwaitParked("too-big", () -> s.append(new AppendCommand(existing,
        List.of(msg("big", "{\"b\":\"" + "x".repeat(200) + "\"}")), OptionalLong.empty())));
    Submitter<Object> unknown = Submitter.startAndAwaitParked("unknown", () -> s.updateCache(new UpdateCacheCommand(ThreadKey.of("nope"),
        Map.of("a", 1L), OptionalLong.empty())));
    Submitter<Object> goodSave = Submitter.startAndAwaitParked("good-save", () -> s.save(new SaveCommand(existing,
        List.of(msg("e", "{\"e\":1}"), msg("f", "{\"f\":2}")), Map.of("c", 3L), Map.of(), OptionalLong.of(v))));

    held.release();
    assertThat(goodAppend.result().created()).isTrue();
    assertThat(staleSave.failure()).isInstanceOf(VersionMismatchException.class);
    assertThat(tooBig.failure()).isInstanceOf(HistoryTooLargeException.class);
    assertThat(unknown.failure()).isInstanceOf(ConversationNotFoundException.class);
    assertThat(goodSave.result()).isNotNull();

    StoreStats after = s.stats();
    assertThat(writer.commits() - commitsBefore).as("the blocker's commit, then one for the whole batch")
        .isEqualTo(2);
    // One sync each, or one for both when the second commit came while the first was syncing.
    assertThat(after.syncs() - before.syncs()).isBetween(1L, 2L);
    assertThat(after.committedWrites() - before.committedWrites()).isEqualTo(3);
    Conversation c = s.get(existing, MessageWindow.ALL).orElseThrow();
    assertThat(c.messages()).extracting(m -> m.json().text()).containsExactly("{\"e\":1}", "{\"f\":2}");
    assertThat(c.summary().cacheInfo()).isEqualTo(Map.of("c", 3L));
    assertThat(s.get(ThreadKey.of("new"), MessageWindow.ALL)).isPresent();
    assertThat(s.get(ThreadKey.of("nope"), MessageWindow.ALL)).isEmpty();
  }

  @Test
  void aFullDiskFailsWritesWithStorageFullWhileReadsGoOn() throws Exception {
    SqliteConversationStore s = open("full.db", 1 << 20);
    ThreadKey k = ThreadKey.of("k");
    s.save(save(k, List.of(msg("a", "{\"a\":1}"))));
    Conversation before = s.get(k, MessageWindow.ALL).orElseThrow();
    appendToAFullDisk(s, k);
    assertThat(s.get(k, MessageWindow.ALL)).contains(before);
    assertThat(s.stats().messages()).isEqualTo(1);
    // Reads work, but health reports that writes are failing.
    assertThatThrownBy(s::checkHealth).isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("writes are failing").hasMessageContaining("disk is full");
  }

  /**
   * SQLite rolls the whole transaction back by itself on SQLITE_FULL (and on some I/O errors). The writer must
   * then start afresh: later writes must work once there is room, and a write reported as failed must not be
   * stored (nor one reported as done be lost).
   */
  @Test
  void afterAFullDiskWritesWorkAgainAndAreAcknowledgedTruthfully() throws Exception {
    SqliteConversationStore s = open("full-then-free.db", 1 << 20);
    ThreadKey k = ThreadKey.of("k");
    s.save(save(k, List.of(msg("a", "{\"a\":1}"))));
    GroupCommitWriter writer = appendToAFullDisk(s, k);

    // Room again. (The pragma applies to the connection whatever this task's outcome is reported to be.)
    catchThrowable(() -> writer.submit(tx -> {
      try (Statement st = tx.connection().createStatement()) {
        st.execute("PRAGMA max_page_count = 1073741823");
      }
      return tx.nextVersion();
    }));

    for (int i = 0; i < 3; i++) {
      String id = "after-" + i;
      Throwable failure = catchThrowable(() -> s.append(new AppendCommand(k, List.of(msg(id, "{\"ok\":true}")),
          OptionalLong.empty())));
      boolean stored = s.get(k, MessageWindow.ALL).orElseThrow().messages().stream()
          .anyMatch(m -> m.id().equals(id));
      assertThat(stored).as("%s stored although the append reported %s", id, failure).isEqualTo(failure == null);
      assertThat(failure).as("append %s once there is room again", id).isNull();
    }
  }

  /**
   * Caps the writer connection's database at its current size, so that the next page it needs does not fit,
   * and checks that a big append then fails with STORAGE_FULL. Returns the writer.
   */
  private static GroupCommitWriter appendToAFullDisk(SqliteConversationStore s, ThreadKey k) throws Exception {
    GroupCommitWriter writer = HeldWriter.writerOf(s);
    writer.submit(tx -> {
      try (Statement st = tx.connection().createStatement()) {
        st.execute("PRAGMA max_page_count = " + pragmaLong(tx.connection(), "page_count"));
      }
      return null;
    });
    String big = "{\"b\":\"" + "x".repeat(200_000) + "\"}";
    assertThatThrownBy(() -> s.append(new AppendCommand(k, List.of(msg("big", big)), OptionalLong.empty())))
        .isInstanceOf(StorageFullException.class);
    return writer;
  }

  private static long pragmaLong(Connection c, String name) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA " + name)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The store's writer, to occupy it from the test. */
  @Test
  void aChangeMadeThroughAnotherConnectionIsSeenByTheNextWrite() throws SQLException {
    // The writer remembers the rows it wrote; a change by anyone else (an operator's sqlite3 shell) must not
    // be overwritten with what it remembers.
    SqliteConversationStore s = open("shared.db", 1 << 20);
    ThreadKey edited = ThreadKey.of("edited");
    ThreadKey deleted = ThreadKey.of("deleted");
    s.append(new AppendCommand(edited, List.of(msg("a", "{\"n\":1}")), OptionalLong.empty()));
    s.append(new AppendCommand(deleted, List.of(msg("a", "{\"n\":1}")), OptionalLong.empty()));
    long versionBefore = s.get(edited, MessageWindow.ALL).orElseThrow().summary().version();
    try (Connection c = raw(s); Statement st = c.createStatement()) {
      st.executeUpdate("UPDATE conversations SET version = version + 1000 WHERE thread_id = 'edited'");
      st.executeUpdate("DELETE FROM conversations WHERE thread_id = 'deleted'");
    }

    assertThatThrownBy(() -> s.updateCache(new UpdateCacheCommand(deleted, Map.of("input_tokens", 1L), OptionalLong.empty())))
        .isInstanceOf(ConversationNotFoundException.class);
    assertThatThrownBy(() -> s.append(new AppendCommand(edited, List.of(msg("b", "{}")),
        OptionalLong.of(versionBefore)))).isInstanceOf(VersionMismatchException.class);
    AppendResult r = s.append(new AppendCommand(edited, List.of(msg("c", "{\"n\":3}")),
        OptionalLong.of(versionBefore + 1000)));
    assertThat(r.messageCount()).isEqualTo(2);
  }

  @Test
  void bytesWrittenCountsOnlyWhatWasWritten() {
    SqliteConversationStore s = open("bytes.db", 1 << 20);
    ThreadKey k = ThreadKey.of("b");
    NewMessage a = msg("a", "{\"a\":\"" + "é".repeat(50) + "\"}");
    NewMessage b = msg("b", "{\"b\":2}");
    NewMessage c = msg("c", "{\"c\":\"😀\"}");
    long start = s.stats().bytesWritten();

    s.save(save(k, List.of(a, b)));
    long afterFirst = s.stats().bytesWritten();
    assertThat(afterFirst - start).isEqualTo(a.utf8Bytes() + b.utf8Bytes());

    s.save(save(k, List.of(a, b, c)));
    long afterExtend = s.stats().bytesWritten();
    assertThat(afterExtend - afterFirst).as("only the new tail").isEqualTo(c.utf8Bytes());
    assertThat(c.utf8Bytes()).isEqualTo(12);

    s.save(save(k, List.of(a, b, c)));
    assertThat(s.stats().bytesWritten()).as("an unchanged save writes no message").isEqualTo(afterExtend);

    s.append(new AppendCommand(k, List.of(c, msg("d", "{}")), OptionalLong.empty()));
    assertThat(s.stats().bytesWritten() - afterExtend).as("duplicates are not written").isEqualTo(2);

    long beforeUpdate = s.stats().bytesWritten();
    s.updateCache(new UpdateCacheCommand(k, Map.of("x", 1L), OptionalLong.empty()));
    s.clear(new ClearCommand(k, OptionalLong.empty()));
    assertThat(s.stats().bytesWritten()).isEqualTo(beforeUpdate);
    assertThat(s.stats().historyBytes()).isZero();
  }

  private static long pragma(Connection c, String name) throws SQLException {
    try (var st = c.createStatement(); var rs = st.executeQuery("PRAGMA " + name)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void aNewFileGivesTheSpaceOfSweptConversationsBack() throws SQLException {
    SqliteConversationStore s = open("vacuum.db", 1 << 22);
    String big = "{\"n\":\"" + "x".repeat(4000) + "\"}";
    for (int i = 0; i < 150; i++) {
      List<NewMessage> messages = new ArrayList<>();
      for (int j = 0; j < 20; j++) {
        messages.add(msg("", big));
      }
      s.save(save(ThreadKey.of("big-" + i), messages));
    }
    long full;
    try (Connection c = raw(s)) {
      assertThat(pragma(c, "auto_vacuum")).as("INCREMENTAL").isEqualTo(2);
      full = pragma(c, "page_count");
    }

    assertThat(s.sweepIdle(java.time.Instant.now().plusSeconds(3600), 100)).hasSize(100);
    assertThat(s.sweepIdle(java.time.Instant.now().plusSeconds(3600), 100)).hasSize(50);

    try (Connection c = raw(s)) {
      // What the sweep freed was given back; the few free pages left are the search index's, freed by the writer's
      // merge steps after the sweep's batch (IndexMerges), for the next writes to reuse.
      assertThat(pragma(c, "freelist_count")).isLessThan(full / 100);
      // The messages, their search index and metadata are gone; the change log keeps its copies for log_retention.
      assertThat(pragma(c, "page_count")).isLessThan(full * 3 / 4);
    }
  }
}

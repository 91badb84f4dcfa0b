package io.vmpilot.conversation.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.vmpilot.conversation.server.store.AppendResult;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.SearchHit;
import io.vmpilot.conversation.server.store.SearchQuery;
import io.vmpilot.conversation.server.store.SearchText;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.error.SearchIndexOffException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.error.VersionMismatchException;
import io.vmpilot.conversation.testing.postgres.ThrowawayPostgres;
import io.vmpilot.conversation.testing.postgres.ThrowawayPostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What only a shared database has: two stores (as two servers would) on one database, each seeing what the other
 * wrote at once; the connections' settings; a database restart under a running store.
 */
class PostgresStoreBehaviourTest {
  @RegisterExtension
  static final ThrowawayPostgresExtension POSTGRES = PostgresTestCluster.quieting(Level.OFF);

  private static PostgresSettings settings() {
    return PostgresConversationStoreTest.newDatabase(POSTGRES.cluster(), 1 << 20, Long.MAX_VALUE);
  }

  private static AppendCommand append(String thread, OptionalLong expected, String... ids) {
    List<NewMessage> messages = new ArrayList<>();
    for (String id : ids) {
      messages.add(new NewMessage(id, "{\"id\":\"" + id + "\"}"));
    }
    return new AppendCommand(ThreadKey.of(thread), messages, expected);
  }

  @Test
  void twoStoresOnOneDatabaseSeeEachOthersWritesAtOnce() {
    PostgresSettings shared = settings();
    try (PostgresConversationStore a = PostgresConversationStore.open(shared);
        PostgresConversationStore b = PostgresConversationStore.open(shared)) {
      AppendResult first = a.append(append("t", OptionalLong.empty(), "m1"));
      // A retry of the same Append through the other store stores nothing twice.
      AppendResult retried = b.append(append("t", OptionalLong.empty(), "m1"));
      assertThat(retried.appendedCount()).isZero();
      assertThat(retried.version()).isEqualTo(first.version());
      // expected_version is a compare-and-set across stores: b's write moves the version a expected.
      long v = b.append(append("t", OptionalLong.of(first.version()), "m2")).version();
      assertThatThrownBy(() -> a.append(append("t", OptionalLong.of(first.version()), "m3")))
          .isInstanceOf(VersionMismatchException.class);
      assertThat(a.get(ThreadKey.of("t"), MessageWindow.ALL).orElseThrow().summary().version()).isEqualTo(v);
      assertThat(a.get(ThreadKey.of("t"), MessageWindow.ALL).orElseThrow().messages()).hasSize(2);
    }
  }

  @Test
  void racingCompareAndSetsThroughTwoStoresLetExactlyOneWinEachRound() throws Exception {
    PostgresSettings shared = settings();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try (PostgresConversationStore a = PostgresConversationStore.open(shared);
        PostgresConversationStore b = PostgresConversationStore.open(shared)) {
      long version = a.save(new SaveCommand(ThreadKey.of("cas"), List.of(), Map.of(), Map.of(), OptionalLong.empty()))
          .version();
      for (int round = 0; round < 20; round++) {
        long expected = version;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Long>> attempts = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          PostgresConversationStore via = i % 2 == 0 ? a : b;
          String id = "r" + round + "-" + i;
          Callable<Long> attempt = () -> {
            start.await();
            try {
              return via.append(append("cas", OptionalLong.of(expected), id)).version();
            } catch (VersionMismatchException e) {
              return -1L;
            }
          };
          attempts.add(pool.submit(attempt));
        }
        start.countDown();
        List<Long> won = new ArrayList<>();
        for (Future<Long> f : attempts) {
          long r = f.get(60, TimeUnit.SECONDS);
          if (r > 0) {
            won.add(r);
          }
        }
        assertThat(won).as("round %d", round).hasSize(1);
        assertThat(won.get(0)).isGreaterThan(version);
        version = won.get(0);
      }
      assertThat(b.get(ThreadKey.of("cas"), MessageWindow.ALL).orElseThrow().messages()).hasSize(20);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * An Append that waits for the conversation's lock sees the ids the write it waited for stored: they are read
   * after the lock is held, not from the snapshot the locking statement began with.
   */
  @Test
  void anAppendThatWaitedForTheLockSeesTheIdsTheOtherWriteStored() throws Exception {
    PostgresSettings shared = settings();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (PostgresConversationStore store = PostgresConversationStore.open(shared);
        PostgresDataSource raw = PostgresDataSource.open(shared);
        Connection holder = raw.writers.getConnection();
        Connection observer = raw.readers.getConnection()) {
      AppendResult first = store.append(append("t", OptionalLong.empty(), "m1"));
      // Another writer (as another server would) locks the row and stores "m2", not committed yet.
      try (Statement st = holder.createStatement()) {
        st.execute("SELECT 1 FROM conversations WHERE thread_id = 't' FOR UPDATE");
        st.executeUpdate("INSERT INTO messages (conversation_id, position, message_id, json, create_time)"
            + " SELECT conversation_id, 1, 'm2', '{\"id\":\"m2\"}', now() FROM conversations WHERE thread_id = 't'");
        st.executeUpdate("UPDATE conversations SET message_count = 2, history_bytes = history_bytes + 11,"
            + " version = version + 1 WHERE thread_id = 't'");
      }
      Future<AppendResult> retry = pool.submit(() -> store.append(append("t", OptionalLong.empty(), "m2")));
      awaitWaitingForALock(observer, retry);
      holder.commit();
      AppendResult replay = retry.get(60, TimeUnit.SECONDS);
      assertThat(replay.appendedCount()).isZero();
      assertThat(replay.version()).isEqualTo(first.version() + 1);
      assertThat(store.get(ThreadKey.of("t"), MessageWindow.ALL).orElseThrow().messages())
          .extracting(m -> m.id()).containsExactly("m1", "m2");
    } finally {
      pool.shutdownNow();
    }
  }

  /** Until some backend of the database waits for a lock (the Append behind the holder's row lock). */
  private static void awaitWaitingForALock(Connection observer, Future<?> waiter) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < end && !waiter.isDone()) {
      try (Statement st = observer.createStatement();
          ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
              + " AND datname = current_database()")) {
        rs.next();
        if (rs.getLong(1) > 0) {
          observer.rollback();
          return;
        }
      }
      observer.rollback();
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    assertThat(waiter.isDone()).as("the Append ran without waiting for the lock").isFalse();
    throw new AssertionError("no backend waited for the row's lock within 30 s");
  }

  @Test
  void connectionsCarryTheTimeoutsAndReadsAreReadOnlySnapshots() throws Exception {
    PostgresSettings settings = new PostgresSettings(settings().url(), Optional.empty(), Optional.empty(), 2,
        Duration.ofSeconds(3), Duration.ofMillis(1234), 1 << 20, Long.MAX_VALUE);
    try (PostgresDataSource pools = PostgresDataSource.open(settings)) {
      try (Connection c = pools.writers.getConnection(); Statement st = c.createStatement()) {
        assertThat(show(st, "statement_timeout")).isEqualTo("1234ms");
        assertThat(show(st, "transaction_isolation")).isEqualTo("read committed");
        assertThat(show(st, "transaction_read_only")).isEqualTo("off");
        assertThat(show(st, "application_name")).isEqualTo("vmpilot-conversation-server");
        c.rollback();
      }
      try (Connection c = pools.readers.getConnection(); Statement st = c.createStatement()) {
        assertThat(show(st, "transaction_isolation")).isEqualTo("repeatable read");
        assertThat(show(st, "transaction_read_only")).isEqualTo("on");
        c.rollback();
      }
    }
  }

  private static String show(Statement st, String setting) throws Exception {
    try (ResultSet rs = st.executeQuery("SHOW " + setting)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void aDatabaseThatIsNotUtf8IsRefused() {
    POSTGRES.cluster().psql("postgres", "CREATE DATABASE latin TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C'"
        + " LC_CTYPE 'C'");
    assertThatThrownBy(() -> PostgresConversationStore.open(PostgresSettings.of(POSTGRES.cluster().url("latin"),
        1 << 20, Long.MAX_VALUE))).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("UTF8");
  }

  @Test
  void anUnreachableDatabaseFailsTheOpenAfterTheStartupWait() {
    PostgresSettings nowhere = new PostgresSettings("postgresql://postgres@127.0.0.1:1/none", Optional.empty(),
        Optional.empty(), 1, Duration.ofSeconds(1), Duration.ofSeconds(1), 1 << 20, Long.MAX_VALUE);
    long start = System.nanoTime();
    assertThatThrownBy(() -> PostgresConversationStore.open(nowhere)).isInstanceOf(StoreUnavailableException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isLessThan(Duration.ofMillis(PostgresDataSource.startupWaitMillis(nowhere) + 15_000));
  }

  /** Its own cluster: this one is crashed and started again under a running store. */
  @Test
  void aDatabaseCrashMakesCallsUnavailableAndTheStoreRecoversWithoutReopening() {
    try (ThrowawayPostgres own = ThrowawayPostgres.launch()) {
      own.createDatabase("crash");
      PostgresSettings settings = new PostgresSettings(own.url("crash"), Optional.empty(), Optional.empty(), 2,
          Duration.ofSeconds(1), Duration.ofSeconds(5), 1 << 20, Long.MAX_VALUE);
      try (PostgresConversationStore store = PostgresConversationStore.open(settings)) {
        long acknowledged = store.append(append("c", OptionalLong.empty(), "before")).version();
        store.checkHealth();

        own.stopImmediately();
        assertThatThrownBy(() -> store.append(append("c", OptionalLong.empty(), "during")))
            .isInstanceOf(StoreUnavailableException.class);
        assertThatThrownBy(() -> store.get(ThreadKey.of("c"), MessageWindow.ALL))
            .isInstanceOf(StoreUnavailableException.class);
        assertThatThrownBy(store::checkHealth).isInstanceOf(StoreUnavailableException.class);

        own.start();
        // The pool replaces its dead connections in the background: healthy again within a bound, not at once.
        awaitHealthy(store, Duration.ofSeconds(60));
        AppendResult after = store.append(append("c", OptionalLong.empty(), "before", "after"));
        assertThat(after.appendedCount()).isEqualTo(1);
        assertThat(after.version()).isGreaterThan(acknowledged);
        assertThat(store.get(ThreadKey.of("c"), MessageWindow.ALL).orElseThrow().messages())
            .extracting(m -> m.id()).containsExactly("before", "after");
      }
    }
  }

  /**
   * Messages stored before the search index existed (V7 left their words null; here made so by hand) are indexed
   * when a store opens the database, and found.
   */
  @Test
  void messagesWithoutSearchWordsAreIndexedWhenAStoreOpens() {
    PostgresSettings shared = settings();
    String database = shared.url().substring(shared.url().lastIndexOf('/') + 1);
    try (PostgresConversationStore a = PostgresConversationStore.open(shared)) {
      for (int i = 0; i < 1_200; i++) {
        a.append(new AppendCommand(ThreadKey.of("old-" + (i % 3)), List.of(new NewMessage("",
            "{\"content\":\"message " + i + (i == 777 ? " needle" : "") + "\"}")), OptionalLong.empty()));
      }
    }
    POSTGRES.cluster().psql(database, "UPDATE messages SET search = NULL");
    assertThat(POSTGRES.cluster().psql(database, "SELECT count(*) FROM messages WHERE search IS NULL").strip())
        .isEqualTo("1200");
    try (PostgresConversationStore b = PostgresConversationStore.open(shared)) {
      assertThat(POSTGRES.cluster().psql(database, "SELECT count(*) FROM messages WHERE search IS NULL").strip())
          .isEqualTo("0");
      assertThat(b.search(new SearchQuery(ThreadKey.DEFAULT_TENANT, SearchText.phrases("needle"), Map.of(), 10, 0)))
          .extracting(SearchHit::threadId, SearchHit::position).containsExactly(tuple("old-0", 259L));
    }
  }

  @Test
  void withoutTheSearchIndexMessagesHaveNoWordsAndSearchIsRefusedUntilItIsOnAgain() {
    PostgresSettings shared = settings();
    String database = shared.url().substring(shared.url().lastIndexOf('/') + 1);
    try (PostgresConversationStore off = PostgresConversationStore.open(shared.withSearchIndex(false))) {
      off.append(new AppendCommand(ThreadKey.of("t"), List.of(new NewMessage("", "{\"content\":\"a needle\"}")),
          OptionalLong.empty()));
      assertThatThrownBy(() -> off.search(new SearchQuery(ThreadKey.DEFAULT_TENANT, SearchText.phrases("needle"),
          Map.of(), 10, 0))).isInstanceOf(SearchIndexOffException.class);
    }
    assertThat(POSTGRES.cluster().psql(database, "SELECT count(*) FROM messages WHERE search IS NULL").strip())
        .isEqualTo("1");
    try (PostgresConversationStore on = PostgresConversationStore.open(shared)) {
      assertThat(on.search(new SearchQuery(ThreadKey.DEFAULT_TENANT, SearchText.phrases("needle"), Map.of(), 10, 0)))
          .extracting(SearchHit::threadId).containsExactly("t");
    }
  }

  private static void awaitHealthy(PostgresConversationStore store, Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    while (true) {
      try {
        store.checkHealth();
        return;
      } catch (StoreUnavailableException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
      }
    }
  }
}

package io.vmpilot.conversation.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ExpiryChange;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.ForkCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import io.vmpilot.conversation.server.store.command.UpdateMetadataCommand;
import io.vmpilot.conversation.server.store.command.ExistingPolicy;
import io.vmpilot.conversation.server.store.command.ImportCommand;
import io.vmpilot.conversation.server.store.error.ConversationExistsException;
import io.vmpilot.conversation.server.store.error.ChangeLogPrunedException;
import io.vmpilot.conversation.server.store.error.ConversationNotFoundException;
import io.vmpilot.conversation.server.store.error.HistoryTooLargeException;
import io.vmpilot.conversation.server.store.error.PositionOutOfRangeException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.error.TenantConversationLimitException;
import io.vmpilot.conversation.server.store.error.VersionMismatchException;
import java.nio.charset.StandardCharsets;
import io.vmpilot.conversation.server.store.write.WriteRules;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.time.ZoneOffset;
import java.time.Duration;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The behaviour every {@link ConversationStore} backend must have. Each backend's test class extends this one and
 * only says how to make a store; all backends run the very same tests.
 */
public abstract class ConversationStoreContract {
  /** Big enough for every test that is not about the limit. */
  protected static final long DEFAULT_LIMIT = 1L << 20;

  private final List<ConversationStore> opened = new ArrayList<>();
  protected ConversationStore store;

  /** A new, empty store whose histories may hold at most {@code maxHistoryBytes}. */
  protected abstract ConversationStore newStore(long maxHistoryBytes);

  /** A new, empty store that lets each tenant have at most {@code maxConversationsPerTenant} conversations. */
  protected abstract ConversationStore newStoreWithConversationLimit(long maxConversationsPerTenant);

  /** A new, empty store whose writes treat a conversation expired by {@code retention} as absent. */
  protected abstract ConversationStore newStoreWithRetention(Retention retention);

  /**
   * Closes {@code store} and opens the same storage again, or returns empty when the backend keeps nothing
   * across a restart (the persistence tests are then skipped).
   */
  protected Optional<ConversationStore> reopen(ConversationStore store) {
    return Optional.empty();
  }

  /** Makes a store that is closed with the others after the test. */
  protected final ConversationStore track(ConversationStore s) {
    opened.add(s);
    return s;
  }

  private ConversationStore open(long maxHistoryBytes) {
    return track(newStore(maxHistoryBytes));
  }

  @BeforeEach
  void openStore() {
    store = open(DEFAULT_LIMIT);
  }

  @AfterEach
  void closeStores() {
    Collections.reverse(opened);
    for (ConversationStore s : opened) {
      s.close();
    }
    opened.clear();
  }

  // ---- helpers --------------------------------------------------------------------------------------------

  protected static ThreadKey key(String threadId) {
    return ThreadKey.of(threadId);
  }

  protected static NewMessage msg(String id, String json) {
    return new NewMessage(id, json);
  }

  /** A message without id whose JSON is {"n":text}. */
  protected static NewMessage msg(String text) {
    return new NewMessage("", "{\"n\":\"" + text + "\"}");
  }

  protected static SaveCommand saveCmd(ThreadKey key, List<NewMessage> messages) {
    return new SaveCommand(key, messages, Map.of(), Map.of(), OptionalLong.empty());
  }

  protected static SaveCommand saveCmd(ThreadKey key, List<NewMessage> messages, Map<String, Long> cache,
      Map<String, String> metadata) {
    return new SaveCommand(key, messages, cache, metadata, OptionalLong.empty());
  }

  protected static SaveCommand saveCmd(ThreadKey key, List<NewMessage> messages, OptionalLong expected) {
    return new SaveCommand(key, messages, Map.of(), Map.of(), expected);
  }

  protected static AppendCommand appendCmd(ThreadKey key, NewMessage... messages) {
    return new AppendCommand(key, List.of(messages), OptionalLong.empty());
  }

  /** An agent's turn: messages and the counters to set, in one Append. */
  protected static AppendCommand turnCmd(ThreadKey key, Map<String, Long> counters, NewMessage... messages) {
    return new AppendCommand(key, List.of(messages), counters, OptionalLong.empty());
  }

  protected static AppendCommand appendCmd(ThreadKey key, OptionalLong expected, NewMessage... messages) {
    return new AppendCommand(key, List.of(messages), expected);
  }

  protected Conversation getAll(ThreadKey key) {
    return store.get(key, MessageWindow.ALL).orElseThrow(() -> new AssertionError("no conversation " + key));
  }

  protected static List<String> jsons(Conversation c) {
    return c.messages().stream().map(m -> m.json().text()).toList();
  }

  /** The UTF-8 bytes of a stored message as its store hands them on (what a Get sends). */
  protected static byte[] utf8(JsonText json) {
    return json.unsafeUtf8Array().clone();
  }

  protected static List<Long> positions(Conversation c) {
    return c.messages().stream().map(StoredMessage::position).toList();
  }

  protected static List<String> ids(Conversation c) {
    return c.messages().stream().map(StoredMessage::id).toList();
  }

  protected static long utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  private static List<NewMessage> numbered(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> msg("m" + i, "{\"i\":" + i + "}")).toList();
  }

  private List<ThreadKey> listAll(String tenant) {
    return store.list(new ListQuery(tenant, 10_000, Long.MAX_VALUE, Map.of())).stream()
        .map(ConversationSummary::key).toList();
  }

  // ---- save -----------------------------------------------------------------------------------------------

  @Test
  void saveCreatesThenReplacesTheHistory() {
    ThreadKey k = key("t1");
    SaveResult first = store.save(saveCmd(k, List.of(msg("a"), msg("b"))));
    assertThat(first.created()).isTrue();
    assertThat(first.messageCount()).isEqualTo(2);
    assertThat(first.messagesWritten()).isEqualTo(2);
    assertThat(first.version()).isPositive();

    SaveResult second = store.save(saveCmd(k, List.of(msg("c"))));
    assertThat(second.created()).isFalse();
    assertThat(second.messageCount()).isEqualTo(1);
    assertThat(second.version()).isGreaterThan(first.version());

    Conversation c = getAll(k);
    assertThat(jsons(c)).containsExactly("{\"n\":\"c\"}");
    assertThat(positions(c)).containsExactly(0L);
    assertThat(c.summary().messageCount()).isEqualTo(1);
    assertThat(c.summary().historyBytes()).isEqualTo(utf8("{\"n\":\"c\"}"));
    assertThat(c.summary().version()).isEqualTo(second.version());
  }

  /** The row alone, which the service reads first to tell a large Get from a small one. */
  @Test
  void historySizeIsWhatGetWouldCount() {
    ThreadKey k = key("sized");
    store.save(saveCmd(k, List.of(msg("a"), msg("b"))));
    ConversationSummary got = getAll(k).summary();
    assertThat(got.historyBytes()).isPositive();
    assertThat(store.historySize(k)).contains(new HistorySize(2, got.historyBytes()));
    store.append(appendCmd(k, msg("", "{\"more\":\"" + "x".repeat(1000) + "\"}")));
    assertThat(store.historySize(k)).contains(new HistorySize(3, getAll(k).summary().historyBytes()));
    assertThat(store.historySize(key("absent"))).isEmpty();
    assertThat(store.historySize(new ThreadKey("someone-else", "sized"))).isEmpty();

    ThreadKey ttl = key("sized-ttl");
    store.save(new SaveCommand(ttl, List.of(msg("zebra")), Map.of(), Map.of(), OptionalLong.empty(),
        ExpiryChange.after(Duration.ofMillis(1))));
    ThreadKey later = key("sized-later");
    store.save(saveCmd(later, List.of(msg("a"))));
    past(getAll(later).summary().updateTime(), Duration.ofMillis(2));
    assertThat(store.historySize(ttl)).isEmpty();
    // A hint through max_idle: the reader's view passes it through (its Get then finds nothing).
    assertThat(expiringAt(after(got.updateTime())).historySize(k)).isPresent();
  }

  @Test
  void saveOfAnEmptyHistoryCreatesAnEmptyConversationAndEmptiesAnExistingOne() {
    ThreadKey k = key("empty");
    SaveResult r = store.save(saveCmd(k, List.of()));
    assertThat(r.created()).isTrue();
    assertThat(r.messageCount()).isZero();
    assertThat(getAll(k).messages()).isEmpty();

    store.save(saveCmd(k, List.of(msg("a"), msg("b"))));
    SaveResult emptied = store.save(saveCmd(k, List.of()));
    assertThat(emptied.messageCount()).isZero();
    assertThat(emptied.messagesWritten()).isZero();
    Conversation c = getAll(k);
    assertThat(c.messages()).isEmpty();
    assertThat(c.summary().messageCount()).isZero();
    assertThat(c.summary().historyBytes()).isZero();
  }

  @Test
  void saveMergesCacheInfoAndMetadataOverWhatIsStored() {
    ThreadKey k = key("merge");
    store.save(saveCmd(k, List.of(msg("a")), Map.of("input_tokens", 10L, "output_tokens", 20L),
        Map.of("project_root", "/src/app", "title", "first")));
    store.save(saveCmd(k, List.of(msg("a")), Map.of("output_tokens", 25L, "cache_read", 7L),
        Map.of("title", "second", "initial_request", "fix it")));

    ConversationSummary s = getAll(k).summary();
    assertThat(s.cacheInfo()).containsExactlyInAnyOrderEntriesOf(
        Map.of("input_tokens", 10L, "output_tokens", 25L, "cache_read", 7L));
    assertThat(s.metadata()).containsExactlyInAnyOrderEntriesOf(
        Map.of("project_root", "/src/app", "title", "second", "initial_request", "fix it"));

    // A save that gives no keys keeps everything.
    store.save(saveCmd(k, List.of(msg("b"))));
    ConversationSummary after = getAll(k).summary();
    assertThat(after.cacheInfo()).isEqualTo(s.cacheInfo());
    assertThat(after.metadata()).isEqualTo(s.metadata());
  }

  @Test
  void cacheInfoKeepsFullLongRange() {
    ThreadKey k = key("longs");
    store.save(saveCmd(k, List.of(), Map.of("max", Long.MAX_VALUE, "min", Long.MIN_VALUE, "zero", 0L), Map.of()));
    assertThat(getAll(k).summary().cacheInfo())
        .containsExactlyInAnyOrderEntriesOf(Map.of("max", Long.MAX_VALUE, "min", Long.MIN_VALUE, "zero", 0L));
  }

  @Test
  void threadIdsAreComparedExactly() {
    List<String> ids = List.of("thread", "Thread", "thread ", " thread", "caf\u00e9", "cafe\u0301", "t%", "t_",
        "😀", "a'b\"c", "x".repeat(256));
    for (int i = 0; i < ids.size(); i++) {
      store.append(appendCmd(key(ids.get(i)), msg("", "{\"i\":" + i + "}")));
    }
    for (int i = 0; i < ids.size(); i++) {
      Conversation c = getAll(key(ids.get(i)));
      assertThat(c.summary().key().threadId()).isEqualTo(ids.get(i));
      assertThat(jsons(c)).containsExactly("{\"i\":" + i + "}");
    }
    assertThat(listAll(ThreadKey.DEFAULT_TENANT)).hasSize(ids.size());
    assertThat(store.get(key("t"), MessageWindow.ALL)).isEmpty();
    assertThat(store.get(key("THREAD"), MessageWindow.ALL)).isEmpty();
  }

  // ---- get ------------------------------------------------------------------------------------------------

  /** Texts that a re-serialising store would change. */
  protected static final List<String> TRICKY_JSON = List.of(
      "{\"role\":\"user\",\"content\":\"héllo wörld – ünïcødé ✓ 日本語\"}",
      "{\"role\":\"assistant\",\"content\":\"emoji 😀🚀 and a flag 🇫🇷\"}",
      "{\"escaped\":\"caf\\u00e9 \\ud83d\\ude00 \\\"quoted\\\" back\\\\slash \\n newline \\t tab \\/ slash\"}",
      "{\"big\":9007199254740993,\"neg\":-9223372036854775809,\"float\":10.0,\"int\":10,\"exp\":1E+2,\"tiny\":1e-400}",
      "{ \"spaced\" :  [ 1 ,2,\n\t3 ] ,\r\n  \"z\":null, \"a\":true , \"m\":false }",
      "{\"b\":1,\"a\":2,\"b\":3}",
      "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"input\":{\"cmd\":"
          + "\"ls -la\",\"nested\":{\"deep\":[[[]]]}}}],\"role\":\"assistant\"}",
      "{}",
      "{\"nul\":\"\\u0000\",\"del\":\"\u007f\",\"bom\":\"\ufeff\",\"nbsp\":\"\u00a0\"}");

  @Test
  void getReturnsMessagesInOrderByteForByte() {
    ThreadKey k = key("verbatim");
    List<NewMessage> messages = new ArrayList<>();
    for (int i = 0; i < TRICKY_JSON.size(); i++) {
      messages.add(msg(i % 2 == 0 ? "id-" + i : "", TRICKY_JSON.get(i)));
    }
    Instant before = Instant.now().truncatedTo(ChronoUnit.MICROS);
    SaveResult saved = store.save(saveCmd(k, messages));
    Instant after = Instant.now().plusMillis(1);

    Conversation c = getAll(k);
    assertThat(jsons(c)).containsExactlyElementsOf(TRICKY_JSON);
    for (int i = 0; i < TRICKY_JSON.size(); i++) {
      assertThat(utf8(c.messages().get(i).json()))
          .isEqualTo(TRICKY_JSON.get(i).getBytes(StandardCharsets.UTF_8));
    }
    assertThat(ids(c)).containsExactlyElementsOf(messages.stream().map(NewMessage::id).toList());
    assertThat(positions(c)).containsExactlyElementsOf(
        IntStream.range(0, TRICKY_JSON.size()).mapToObj(i -> (long) i).toList());
    ConversationSummary s = c.summary();
    assertThat(s.key()).isEqualTo(k);
    assertThat(s.messageCount()).isEqualTo(TRICKY_JSON.size());
    assertThat(s.historyBytes()).isEqualTo(TRICKY_JSON.stream().mapToLong(ConversationStoreContract::utf8).sum());
    assertThat(s.version()).isEqualTo(saved.version());
    assertThat(s.createTime()).isBetween(before, after);
    assertThat(s.updateTime()).isEqualTo(s.createTime());
    for (StoredMessage m : c.messages()) {
      assertThat(m.createTime()).isBetween(before, after);
    }
  }

  @Test
  void updateTimeMovesAndCreateTimeStays() {
    ThreadKey k = key("times");
    store.save(saveCmd(k, List.of(msg("a"))));
    ConversationSummary first = getAll(k).summary();
    // Wait (without sleeping) until the clock, at the stores' microsecond resolution, has moved on.
    while (!Instant.now().truncatedTo(ChronoUnit.MICROS).isAfter(first.updateTime())) {
      Thread.onSpinWait();
    }
    store.append(appendCmd(k, msg("b")));
    ConversationSummary second = getAll(k).summary();
    assertThat(second.createTime()).isEqualTo(first.createTime());
    assertThat(second.updateTime()).isAfter(first.updateTime());
  }

  @Test
  void getOfAnUnknownThreadIsEmpty() {
    assertThat(store.get(key("nobody"), MessageWindow.ALL)).isEmpty();
    store.save(saveCmd(key("somebody"), List.of(msg("a"))));
    assertThat(store.get(key("nobody"), MessageWindow.ALL)).isEmpty();
    assertThat(store.get(key("Somebody"), MessageWindow.ALL)).isEmpty();
  }

  @Test
  void messageWindowsSelectTheAskedMessages() {
    ThreadKey k = key("window");
    store.save(saveCmd(k, numbered(0, 10)));

    assertThat(window(k, 0, 3)).containsExactly(7L, 8L, 9L);
    assertThat(window(k, 4, 0)).containsExactly(4L, 5L, 6L, 7L, 8L, 9L);
    assertThat(window(k, 4, 3)).containsExactly(7L, 8L, 9L);
    assertThat(window(k, 8, 5)).containsExactly(8L, 9L);
    assertThat(window(k, 9, 0)).containsExactly(9L);
    assertThat(window(k, 10, 0)).isEmpty();
    assertThat(window(k, 1000, 2)).isEmpty();
    assertThat(window(k, 0, 100)).hasSize(10);
    assertThat(window(k, 0, 0)).hasSize(10);

    Conversation none = store.get(k, MessageWindow.NONE).orElseThrow();
    assertThat(none.messages()).isEmpty();
    // The counts describe the whole history, whatever window was read.
    assertThat(none.summary().messageCount()).isEqualTo(10);
    Conversation last = store.get(k, new MessageWindow(0, 1)).orElseThrow();
    assertThat(last.summary().messageCount()).isEqualTo(10);
    assertThat(jsons(last)).containsExactly("{\"i\":9}");
    assertThat(ids(last)).containsExactly("m9");
  }

  private List<Long> window(ThreadKey k, long start, int max) {
    return positions(store.get(k, new MessageWindow(start, max)).orElseThrow());
  }

  // ---- updateCache ----------------------------------------------------------------------------------------

  @Test
  void updateCacheReplacesEveryKey() {
    ThreadKey k = key("cache");
    SaveResult saved = store.save(saveCmd(k, List.of(msg("a")), Map.of("a", 1L, "b", 2L), Map.of("m", "x")));
    long v = store.updateCache(new UpdateCacheCommand(k, Map.of("c", 3L), OptionalLong.empty()));
    assertThat(v).isGreaterThan(saved.version());

    ConversationSummary s = getAll(k).summary();
    assertThat(s.cacheInfo()).containsExactlyEntriesOf(Map.of("c", 3L));
    assertThat(s.version()).isEqualTo(v);
    assertThat(s.metadata()).isEqualTo(Map.of("m", "x"));
    assertThat(jsons(getAll(k))).containsExactly("{\"n\":\"a\"}");

    long v2 = store.updateCache(new UpdateCacheCommand(k, Map.of(), OptionalLong.of(v)));
    assertThat(v2).isGreaterThan(v);
    assertThat(getAll(k).summary().cacheInfo()).isEmpty();
  }

  @Test
  void updateCacheOfAnUnknownThreadIsNotFoundAndCreatesNothing() {
    ThreadKey k = key("ghost");
    assertThatThrownBy(() -> store.updateCache(new UpdateCacheCommand(k, Map.of("a", 1L), OptionalLong.empty())))
        .isInstanceOf(ConversationNotFoundException.class)
        .satisfies(e -> assertThat(((ConversationNotFoundException) e).key()).isEqualTo(k));
    assertThat(store.get(k, MessageWindow.ALL)).isEmpty();
    assertThat(store.stats().conversations()).isZero();
  }

  // ---- clear ----------------------------------------------------------------------------------------------

  @Test
  void clearDeletesEverythingAndSaysWhetherThereWasSomething() {
    ThreadKey k = key("doomed");
    ThreadKey other = key("survivor");
    store.save(saveCmd(k, List.of(msg("a"), msg("b")), Map.of("t", 1L), Map.of("project_root", "/p")));
    store.save(saveCmd(other, List.of(msg("c"))));

    assertThat(store.clear(new ClearCommand(k, OptionalLong.empty()))).isTrue();
    assertThat(store.get(k, MessageWindow.ALL)).isEmpty();
    assertThat(listAll(ThreadKey.DEFAULT_TENANT)).containsExactly(other);
    assertThat(store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, Long.MAX_VALUE, Map.of("project_root", "/p"))))
        .isEmpty();
    assertThat(store.clear(new ClearCommand(k, OptionalLong.empty()))).isFalse();
    assertThat(store.clear(new ClearCommand(key("never-was"), OptionalLong.empty()))).isFalse();
    assertThat(jsons(getAll(other))).containsExactly("{\"n\":\"c\"}");

    // Re-created, it starts from scratch: no old messages, cache info or metadata.
    store.append(appendCmd(k, msg("z")));
    Conversation again = getAll(k);
    assertThat(jsons(again)).containsExactly("{\"n\":\"z\"}");
    assertThat(again.summary().cacheInfo()).isEmpty();
    assertThat(again.summary().metadata()).isEmpty();
    assertThat(again.summary().messageCount()).isEqualTo(1);
  }

  @Test
  void recreationAfterClearGetsAHigherVersionThanBefore() {
    ThreadKey k = key("phoenix");
    long before = store.save(saveCmd(k, List.of(msg("a")))).version();
    store.clear(new ClearCommand(k, OptionalLong.of(before)));
    SaveResult again = store.save(saveCmd(k, List.of(msg("a")), OptionalLong.of(0)));
    assertThat(again.created()).isTrue();
    assertThat(again.version()).isGreaterThan(before);

    // Same for a clear of the conversation that had the highest version in the store.
    long last = store.append(appendCmd(k, msg("b"))).version();
    store.clear(new ClearCommand(k, OptionalLong.empty()));
    long recreated = store.append(appendCmd(k, msg("c"))).version();
    assertThat(recreated).isGreaterThan(last);
  }

  // ---- versions -------------------------------------------------------------------------------------------

  @Test
  void versionsStrictlyIncreaseAcrossAllOperationsAndNeverRepeat() {
    ThreadKey a = key("a");
    ThreadKey b = key("b");
    List<Long> versions = new ArrayList<>();
    versions.add(store.save(saveCmd(a, List.of(msg("1")))).version());
    versions.add(store.save(saveCmd(b, List.of(msg("1")))).version());
    versions.add(store.append(appendCmd(a, msg("2"))).version());
    versions.add(store.updateCache(new UpdateCacheCommand(b, Map.of("x", 1L), OptionalLong.empty())));
    versions.add(store.save(saveCmd(a, List.of(msg("1"), msg("2")))).version()); // nothing new, still a mutation
    store.clear(new ClearCommand(b, OptionalLong.empty()));
    versions.add(store.append(appendCmd(b, msg("again"))).version());
    versions.add(store.updateCache(new UpdateCacheCommand(a, Map.of(), OptionalLong.empty())));
    store.save(saveCmd(new ThreadKey("other-tenant", "a"), List.of()));
    versions.add(store.append(appendCmd(a, msg("3"))).version());

    for (int i = 1; i < versions.size(); i++) {
      assertThat(versions.get(i)).as("version %d after %s", i, versions).isGreaterThan(versions.get(i - 1));
    }
    assertThat(new HashSet<>(versions)).hasSize(versions.size());
    assertThat(getAll(a).summary().version()).isEqualTo(versions.get(versions.size() - 1));
  }

  @Test
  void anotherTenantsWritesNeverMoveATenantsVersions() {
    ThreadKey mine = key("mine");
    ThreadKey theirs = new ThreadKey("other-tenant", "theirs");
    long first = store.save(saveCmd(mine, List.of(msg("1")))).version();
    store.save(saveCmd(theirs, List.of(msg("1"))));
    store.append(appendCmd(theirs, msg("2")));
    store.updateCache(new UpdateCacheCommand(theirs, Map.of("x", 1L), OptionalLong.empty()));
    store.clear(new ClearCommand(theirs, OptionalLong.empty()));
    long second = store.append(appendCmd(mine, msg("2"))).version();
    // Four writes of the other tenant in between, and nothing of them shows: the next version is the next one.
    assertThat(second).isEqualTo(first + 1);
    ThreadKey mineToo = key("mine-too");
    assertThat(store.save(saveCmd(mineToo, List.of())).version()).isEqualTo(second + 1);
  }

  // ---- expected version -----------------------------------------------------------------------------------

  @Test
  void expectedVersionMismatchFailsEveryMutationWithTheCurrentVersion() {
    ThreadKey k = key("cas");
    long v = store.save(saveCmd(k, List.of(msg("a")))).version();
    OptionalLong stale = OptionalLong.of(v - 1);

    assertMismatch(() -> store.save(saveCmd(k, List.of(msg("b")), stale)), v, v - 1);
    assertMismatch(() -> store.append(appendCmd(k, stale, msg("b"))), v, v - 1);
    assertMismatch(() -> store.updateCache(new UpdateCacheCommand(k, Map.of("x", 1L), stale)), v, v - 1);
    assertMismatch(() -> store.clear(new ClearCommand(k, stale)), v, v - 1);
    // 0 means "must not exist yet".
    assertMismatch(() -> store.save(saveCmd(k, List.of(msg("b")), OptionalLong.of(0))), v, 0);
    assertMismatch(() -> store.append(appendCmd(k, OptionalLong.of(0), msg("b"))), v, 0);
    assertMismatch(() -> store.clear(new ClearCommand(k, OptionalLong.of(0))), v, 0);
    assertMismatch(() -> store.updateCache(new UpdateCacheCommand(k, Map.of(), OptionalLong.of(0))), v, 0);

    // The right version works, each time with the new one.
    long v2 = store.save(saveCmd(k, List.of(msg("b")), OptionalLong.of(v))).version();
    long v3 = store.append(appendCmd(k, OptionalLong.of(v2), msg("c"))).version();
    long v4 = store.updateCache(new UpdateCacheCommand(k, Map.of("x", 1L), OptionalLong.of(v3)));
    assertThat(store.clear(new ClearCommand(k, OptionalLong.of(v4)))).isTrue();
    assertThat(v2).isGreaterThan(v);
    assertThat(v3).isGreaterThan(v2);
    assertThat(v4).isGreaterThan(v3);
  }

  @Test
  void expectedVersionOfAMissingConversation() {
    ThreadKey k = key("missing");
    // Non-zero on a missing conversation: current version is 0.
    assertMismatch(() -> store.save(saveCmd(k, List.of(msg("a")), OptionalLong.of(5))), 0, 5);
    assertMismatch(() -> store.append(appendCmd(k, OptionalLong.of(5), msg("a"))), 0, 5);
    assertMismatch(() -> store.clear(new ClearCommand(k, OptionalLong.of(5))), 0, 5);
    assertThat(store.get(k, MessageWindow.ALL)).isEmpty();

    // 0 on a missing conversation: allowed.
    assertThat(store.clear(new ClearCommand(k, OptionalLong.of(0)))).isFalse();
    assertThat(store.save(saveCmd(k, List.of(msg("a")), OptionalLong.of(0))).created()).isTrue();
    ThreadKey k2 = key("missing-2");
    AppendResult r = store.append(appendCmd(k2, OptionalLong.of(0), msg("a")));
    assertThat(r.created()).isTrue();
    assertThat(r.appendedCount()).isEqualTo(1);
  }

  private static void assertMismatch(Runnable call, long current, long expected) {
    assertThatThrownBy(call::run)
        .isInstanceOf(VersionMismatchException.class)
        .satisfies(e -> {
          VersionMismatchException vme = (VersionMismatchException) e;
          assertThat(vme.currentVersion()).as("current version").isEqualTo(current);
          assertThat(vme.expectedVersion()).as("expected version").isEqualTo(expected);
        });
  }

  @Test
  void aFailedWriteChangesNothing() {
    store = open(200);
    ThreadKey k = key("intact");
    ThreadKey other = key("bystander");
    long v = store.save(saveCmd(k, List.of(msg("id1", "{\"a\":1}"), msg("id2", "{\"a\":2}")),
        Map.of("c", 1L), Map.of("m", "x"))).version();
    store.save(saveCmd(other, List.of(msg("o"))));
    Conversation before = getAll(k);
    StoreStats statsBefore = store.stats();
    List<ConversationSummary> listBefore = store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, Long.MAX_VALUE,
        Map.of()));
    OptionalLong stale = OptionalLong.of(v + 1000);
    String big = "{\"big\":\"" + "x".repeat(300) + "\"}";

    assertThatThrownBy(() -> store.save(new SaveCommand(k, List.of(msg("x")), Map.of("c", 9L), Map.of("m", "y"),
        stale))).isInstanceOf(VersionMismatchException.class);
    assertThatThrownBy(() -> store.append(appendCmd(k, stale, msg("x")))).isInstanceOf(VersionMismatchException.class);
    assertThatThrownBy(() -> store.updateCache(new UpdateCacheCommand(k, Map.of("z", 1L), stale)))
        .isInstanceOf(VersionMismatchException.class);
    assertThatThrownBy(() -> store.clear(new ClearCommand(k, stale))).isInstanceOf(VersionMismatchException.class);
    assertThatThrownBy(() -> store.save(saveCmd(k, List.of(msg("id1", "{\"a\":1}"), msg("", big)), Map.of("c", 9L),
        Map.of("m", "y")))).isInstanceOf(HistoryTooLargeException.class);
    assertThatThrownBy(() -> store.append(appendCmd(k, msg("id3", big))))
        .isInstanceOf(HistoryTooLargeException.class);
    assertThatThrownBy(() -> store.save(saveCmd(key("new-and-too-big"), List.of(msg("", big)))))
        .isInstanceOf(HistoryTooLargeException.class);
    assertThatThrownBy(() -> store.append(appendCmd(key("new-and-too-big"), msg("", big))))
        .isInstanceOf(HistoryTooLargeException.class);

    assertThat(getAll(k)).isEqualTo(before);
    assertThat(store.get(key("new-and-too-big"), MessageWindow.ALL)).isEmpty();
    StoreStats statsAfter = store.stats();
    assertThat(statsAfter.conversations()).isEqualTo(statsBefore.conversations());
    assertThat(statsAfter.messages()).isEqualTo(statsBefore.messages());
    assertThat(statsAfter.historyBytes()).isEqualTo(statsBefore.historyBytes());
    assertThat(statsAfter.committedWrites()).isEqualTo(statsBefore.committedWrites());
    assertThat(store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, Long.MAX_VALUE, Map.of())))
        .isEqualTo(listBefore);
    // And the id that a failed append tried to add is still free.
    assertThat(store.append(appendCmd(k, msg("id3", "{\"ok\":true}"))).appendedCount()).isEqualTo(1);
  }

  // ---- append ---------------------------------------------------------------------------------------------

  @Test
  void appendCreatesTheConversationThenAddsAtTheEnd() {
    ThreadKey k = key("log");
    AppendResult first = store.append(appendCmd(k, msg("a"), msg("b")));
    assertThat(first.created()).isTrue();
    assertThat(first.appendedCount()).isEqualTo(2);
    assertThat(first.messageCount()).isEqualTo(2);
    assertThat(first.version()).isPositive();

    AppendResult second = store.append(appendCmd(k, msg("c")));
    assertThat(second.created()).isFalse();
    assertThat(second.appendedCount()).isEqualTo(1);
    assertThat(second.messageCount()).isEqualTo(3);
    assertThat(second.version()).isGreaterThan(first.version());

    store.save(saveCmd(k, List.of(msg("a"), msg("b"), msg("c"), msg("d"))));
    store.append(appendCmd(k, msg("e")));
    Conversation c = getAll(k);
    assertThat(jsons(c)).containsExactly(
        "{\"n\":\"a\"}", "{\"n\":\"b\"}", "{\"n\":\"c\"}", "{\"n\":\"d\"}", "{\"n\":\"e\"}");
    assertThat(positions(c)).containsExactly(0L, 1L, 2L, 3L, 4L);
    assertThat(c.summary().messageCount()).isEqualTo(5);
    assertThat(c.summary().historyBytes()).isEqualTo(5 * utf8("{\"n\":\"a\"}"));
  }

  @Test
  void appendKeepsTheCacheCountersAndMetadata() {
    ThreadKey k = key("turns");
    store.save(saveCmd(k, List.of(msg("a")), Map.of("input_tokens", Long.MAX_VALUE, "output_tokens", 2L),
        Map.of("project_root", "/p")));
    store.updateCache(new UpdateCacheCommand(k, Map.of("input_tokens", Long.MIN_VALUE, "cache_read", 3L), OptionalLong.empty()));
    store.append(appendCmd(k, msg("b")));
    ConversationSummary s = getAll(k).summary();
    assertThat(s.cacheInfo()).containsExactlyInAnyOrderEntriesOf(
        Map.of("input_tokens", Long.MIN_VALUE, "cache_read", 3L));
    assertThat(s.metadata()).isEqualTo(Map.of("project_root", "/p"));
  }

  @Test
  void appendWithCountersSetsTheGivenKeysAndKeepsTheOthersInOneVersion() {
    ThreadKey k = key("one-call-turn");
    store.save(saveCmd(k, List.of(msg("a")), Map.of("input_tokens", 1L, "cache_read", 7L), Map.of("m", "v")));
    long before = getAll(k).summary().version();
    AppendResult r = store.append(turnCmd(k, Map.of("input_tokens", Long.MAX_VALUE, "output_tokens", Long.MIN_VALUE),
        msg("b"), msg("c")));
    assertThat(r.appendedCount()).isEqualTo(2);
    Conversation c = getAll(k);
    assertThat(c.summary().version()).isEqualTo(r.version()).isGreaterThan(before);
    assertThat(jsons(c)).containsExactly("{\"n\":\"a\"}", "{\"n\":\"b\"}", "{\"n\":\"c\"}");
    assertThat(c.summary().cacheInfo()).containsExactlyInAnyOrderEntriesOf(
        Map.of("input_tokens", Long.MAX_VALUE, "output_tokens", Long.MIN_VALUE, "cache_read", 7L));
    assertThat(c.summary().metadata()).isEqualTo(Map.of("m", "v"));
    // One write: the messages and the counters took one version, which the change log shows as one APPENDED.
    assertThat(changes(ThreadKey.DEFAULT_TENANT, k.threadId(), before)).singleElement()
        .satisfies(e -> {
          assertThat(e.kind()).isEqualTo(ChangeKind.APPENDED);
          assertThat(e.version()).isEqualTo(r.version());
          assertThat(e.firstPosition()).isEqualTo(1);
          assertThat(e.messages()).hasSize(2);
        });
  }

  @Test
  void appendWithCountersCreatesTheConversationWithThem() {
    ThreadKey k = key("first-turn");
    AppendResult r = store.append(turnCmd(k, Map.of("input_tokens", 12L), msg("a")));
    assertThat(r.created()).isTrue();
    assertThat(getAll(k).summary().cacheInfo()).isEqualTo(Map.of("input_tokens", 12L));
    assertThat(store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, Long.MAX_VALUE, Map.of())))
        .singleElement().satisfies(s -> assertThat(s.cacheInfo()).isEqualTo(Map.of("input_tokens", 12L)));
  }

  @Test
  void aRefusedAppendWithCountersSetsNoCounter() {
    store = open(20);
    ThreadKey k = key("refused-turn");
    long v = store.append(turnCmd(k, Map.of("in", 1L), msg("a", "{}"))).version();
    assertThatThrownBy(() -> store.append(new AppendCommand(k, List.of(msg("b", "{}")), Map.of("in", 2L),
        OptionalLong.of(v + 1000)))).isInstanceOf(VersionMismatchException.class);
    assertThatThrownBy(() -> store.append(turnCmd(k, Map.of("in", 3L), msg("c", "{\"too\":\"long for the limit\"}"))))
        .isInstanceOf(HistoryTooLargeException.class);
    Conversation c = getAll(k);
    assertThat(c.summary().cacheInfo()).isEqualTo(Map.of("in", 1L));
    assertThat(c.summary().version()).isEqualTo(v);
    assertThat(ids(c)).containsExactly("a");
  }

  @Test
  void aRetriedTurnStoresNothingTwiceAndLeavesTheCountersOfTheFirstAttempt() {
    ThreadKey k = key("retried-turn");
    AppendResult first = store.append(turnCmd(k, Map.of("in", 10L), msg("u1", "{\"u\":1}"), msg("a1", "{\"a\":1}")));
    StoreStats before = store.stats();
    // The retry of the same request: nothing written, counters as the first attempt set them (as a retried Save
    // setting the same values would leave them).
    AppendResult retry = store.append(turnCmd(k, Map.of("in", 10L), msg("u1", "{\"u\":1}"), msg("a1", "{\"a\":1}")));
    assertThat(retry.appendedCount()).isZero();
    assertThat(retry.version()).isEqualTo(first.version());
    assertThat(store.stats().committedWrites()).isEqualTo(before.committedWrites());
    // A late retry does not undo a write made after the first attempt.
    long later = store.updateCache(new UpdateCacheCommand(k, Map.of("in", 99L), OptionalLong.empty()));
    AppendResult late = store.append(turnCmd(k, Map.of("in", 10L), msg("u1", "{\"u\":1}"), msg("a1", "{\"a\":1}")));
    assertThat(late.version()).isEqualTo(later);
    Conversation c = getAll(k);
    assertThat(c.summary().cacheInfo()).isEqualTo(Map.of("in", 99L));
    assertThat(ids(c)).containsExactly("u1", "a1");
    // A partly new retry stores the new message once and sets its counters.
    AppendResult partly = store.append(turnCmd(k, Map.of("in", 11L), msg("a1", "{\"a\":1}"), msg("u2", "{}")));
    assertThat(partly.appendedCount()).isEqualTo(1);
    assertThat(getAll(k).summary().cacheInfo()).isEqualTo(Map.of("in", 11L));
    assertThat(ids(getAll(k))).containsExactly("u1", "a1", "u2");
  }

  @Test
  void appendWithCountersSurvivesAReopen() {
    ThreadKey k = key("durable-turn");
    store.append(turnCmd(k, Map.of("in", 5L, "out", -6L), msg("a")));
    Optional<ConversationStore> reopened = reopen(store);
    assumeThat(reopened).as("backend keeps data across a restart").isPresent();
    store = track(reopened.get());
    assertThat(getAll(k).summary().cacheInfo()).isEqualTo(Map.of("in", 5L, "out", -6L));
  }

  @Test
  void appendSkipsIdsAlreadyStoredOrRepeatedInTheRequest() {
    ThreadKey k = key("dedupe");
    store.append(appendCmd(k, msg("x", "{\"v\":1}"), msg("y", "{\"v\":2}")));

    AppendResult r = store.append(appendCmd(k,
        msg("y", "{\"v\":\"changed\"}"), // stored: skipped, the stored text stays
        msg("z", "{\"v\":3}"),
        msg("z", "{\"v\":\"again\"}"), // repeated in the request: skipped
        msg("", "{\"v\":4}"),
        msg("", "{\"v\":4}"))); // no id: never de-duplicated
    assertThat(r.appendedCount()).isEqualTo(3);
    assertThat(r.messageCount()).isEqualTo(5);

    Conversation c = getAll(k);
    assertThat(ids(c)).containsExactly("x", "y", "z", "", "");
    assertThat(jsons(c)).containsExactly("{\"v\":1}", "{\"v\":2}", "{\"v\":3}", "{\"v\":4}", "{\"v\":4}");
    assertThat(positions(c)).containsExactly(0L, 1L, 2L, 3L, 4L);
  }

  @Test
  void idsStoredBySaveAreDedupedByAppend() {
    ThreadKey k = key("save-then-append");
    store.save(saveCmd(k, List.of(msg("a", "{\"a\":1}"), msg("b", "{\"b\":1}"))));
    AppendResult r = store.append(appendCmd(k, msg("b", "{\"b\":1}"), msg("c", "{\"c\":1}")));
    assertThat(r.appendedCount()).isEqualTo(1);
    assertThat(ids(getAll(k))).containsExactly("a", "b", "c");

    // After a save drops an id from the history, appending it stores it again.
    store.save(saveCmd(k, List.of(msg("a", "{\"a\":1}"))));
    AppendResult again = store.append(appendCmd(k, msg("b", "{\"b\":2}")));
    assertThat(again.appendedCount()).isEqualTo(1);
    assertThat(ids(getAll(k))).containsExactly("a", "b");
    assertThat(jsons(getAll(k))).containsExactly("{\"a\":1}", "{\"b\":2}");
  }

  @Test
  void replayOfAStoredAppendReturnsTheCurrentVersionEvenWithAStaleExpectedVersion() {
    ThreadKey k = key("retry");
    long v0 = store.save(saveCmd(k, List.of(msg("s", "{\"s\":0}")))).version();
    AppendResult done = store.append(appendCmd(k, OptionalLong.of(v0), msg("p", "{\"p\":1}"), msg("q", "{\"q\":2}")));
    assertThat(done.appendedCount()).isEqualTo(2);

    AppendResult replay = store.append(appendCmd(k, OptionalLong.of(v0), msg("p", "{\"p\":1}"),
        msg("q", "{\"q\":2}")));
    assertThat(replay.version()).isEqualTo(done.version());
    assertThat(replay.appendedCount()).isZero();
    assertThat(replay.messageCount()).isEqualTo(3);
    assertThat(replay.created()).isFalse();

    AppendResult plainReplay = store.append(appendCmd(k, msg("q", "{\"q\":2}")));
    assertThat(plainReplay.version()).isEqualTo(done.version());
    assertThat(plainReplay.appendedCount()).isZero();

    Conversation c = getAll(k);
    assertThat(c.summary().version()).isEqualTo(done.version());
    assertThat(ids(c)).containsExactly("s", "p", "q");

    // Partly new with a stale version is a real conflict.
    assertMismatch(() -> store.append(appendCmd(k, OptionalLong.of(v0), msg("p", "{\"p\":1}"), msg("r", "{}"))),
        done.version(), v0);
    // Without a version check, only the new one is stored.
    AppendResult partly = store.append(appendCmd(k, msg("p", "{\"p\":1}"), msg("r", "{}")));
    assertThat(partly.appendedCount()).isEqualTo(1);
    assertThat(ids(getAll(k))).containsExactly("s", "p", "q", "r");
  }

  @Test
  void aReplayedAppendWritesNothing() {
    ThreadKey k = key("replay-stats");
    store.append(appendCmd(k, msg("p", "{\"p\":1}")));
    StoreStats before = store.stats();
    AppendResult replay = store.append(appendCmd(k, msg("p", "{\"p\":1}")));
    assertThat(replay.appendedCount()).isZero();
    StoreStats after = store.stats();
    assertThat(after.committedWrites()).as("committed writes after a replay").isEqualTo(before.committedWrites());
    assertThat(after.syncs()).as("syncs after a replay").isEqualTo(before.syncs());
  }

  // ---- history size limit ---------------------------------------------------------------------------------

  @Test
  void historyLimitAppliesToSaveAndAppendInUtf8Bytes() {
    store = open(100);
    ThreadKey k = key("limited");
    // 2-byte characters: 40 chars of é are 80 bytes; with {"e":""} (8 bytes), 88 bytes.
    String eighty8 = "{\"e\":\"" + "é".repeat(40) + "\"}";
    assertThat(utf8(eighty8)).isEqualTo(88);
    String twelve = "{\"e\":\"abcd\"}";
    assertThat(utf8(twelve)).isEqualTo(12);
    String thirteen = "{\"e\":\"abcde\"}";

    assertThatThrownBy(() -> store.save(saveCmd(k, List.of(msg("", eighty8), msg("", thirteen)))))
        .isInstanceOf(HistoryTooLargeException.class)
        .satisfies(e -> {
          HistoryTooLargeException h = (HistoryTooLargeException) e;
          assertThat(h.limitBytes()).isEqualTo(100);
          assertThat(h.resultingBytes()).isEqualTo(101);
        });
    // Exactly at the limit is fine.
    store.save(saveCmd(k, List.of(msg("a", eighty8), msg("b", twelve))));
    assertThat(getAll(k).summary().historyBytes()).isEqualTo(100);

    assertThatThrownBy(() -> store.append(appendCmd(k, msg("", "{}"))))
        .isInstanceOf(HistoryTooLargeException.class)
        .satisfies(e -> assertThat(((HistoryTooLargeException) e).resultingBytes()).isEqualTo(102));
    // A duplicate costs nothing.
    assertThat(store.append(appendCmd(k, msg("b", twelve))).appendedCount()).isZero();
    // A save that shrinks the history makes room.
    store.save(saveCmd(k, List.of(msg("a", eighty8))));
    assertThat(store.append(appendCmd(k, msg("", twelve))).messageCount()).isEqualTo(2);
    assertThat(getAll(k).summary().historyBytes()).isEqualTo(100);
  }

  @Test
  void historyLimitCountsFourByteCharacters() {
    store = open(10);
    ThreadKey k = key("emoji");
    String emoji = "{\"e\":\"😀\"}"; // 8 ASCII bytes + 4
    assertThat(utf8(emoji)).isEqualTo(12);
    assertThatThrownBy(() -> store.append(appendCmd(k, msg("", emoji))))
        .isInstanceOf(HistoryTooLargeException.class);
    store = open(12);
    store.append(appendCmd(k, msg("", emoji)));
    assertThat(getAll(k).summary().historyBytes()).isEqualTo(12);
  }

  // ---- save: prefix detection -----------------------------------------------------------------------------

  @Test
  void saveWritesOnlyWhatChanged() {
    ThreadKey k = key("prefix");
    NewMessage a = msg("a", "{\"a\":1}");
    NewMessage b = msg("b", "{\"b\":1}");
    NewMessage c = msg("", "{\"c\":1}");
    NewMessage d = msg("d", "{\"d\":1}");
    assertThat(store.save(saveCmd(k, List.of(a, b))).messagesWritten()).isEqualTo(2);
    Instant aCreated = getAll(k).messages().get(0).createTime();

    SaveResult extended = store.save(saveCmd(k, List.of(a, b, c, d)));
    assertThat(extended.messagesWritten()).isEqualTo(2);
    assertThat(extended.messageCount()).isEqualTo(4);
    assertThat(getAll(k).messages().get(0).createTime()).isEqualTo(aCreated);

    SaveResult same = store.save(saveCmd(k, List.of(a, b, c, d)));
    assertThat(same.messagesWritten()).isZero();
    assertThat(same.messageCount()).isEqualTo(4);

    NewMessage bChanged = msg("b", "{\"b\":2}");
    SaveResult middle = store.save(saveCmd(k, List.of(a, bChanged, c, d)));
    assertThat(middle.messagesWritten()).isEqualTo(3);
    assertThat(jsons(getAll(k))).containsExactly("{\"a\":1}", "{\"b\":2}", "{\"c\":1}", "{\"d\":1}");

    // Same JSON, different id: a different message.
    SaveResult idChanged = store.save(saveCmd(k, List.of(a, bChanged, msg("c-id", "{\"c\":1}"), d)));
    assertThat(idChanged.messagesWritten()).isEqualTo(2);
    assertThat(ids(getAll(k))).containsExactly("a", "b", "c-id", "d");

    SaveResult shorter = store.save(saveCmd(k, List.of(a)));
    assertThat(shorter.messagesWritten()).isZero();
    assertThat(shorter.messageCount()).isEqualTo(1);
    Conversation now = getAll(k);
    assertThat(jsons(now)).containsExactly("{\"a\":1}");
    assertThat(now.summary().historyBytes()).isEqualTo(utf8("{\"a\":1}"));

    // Reordering rewrites from the first difference and keeps positions dense.
    store.save(saveCmd(k, List.of(a, b, d)));
    SaveResult swapped = store.save(saveCmd(k, List.of(a, d, b)));
    assertThat(swapped.messagesWritten()).isEqualTo(2);
    Conversation last = getAll(k);
    assertThat(ids(last)).containsExactly("a", "d", "b");
    assertThat(positions(last)).containsExactly(0L, 1L, 2L);
  }

  // ---- list -----------------------------------------------------------------------------------------------

  @Test
  void listReturnsNewestVersionFirstWithSummaries() {
    ThreadKey a = key("a");
    ThreadKey b = key("b");
    ThreadKey c = key("c");
    store.save(saveCmd(a, List.of(msg("1"))));
    store.save(saveCmd(b, List.of(msg("1"), msg("2")), Map.of("t", 5L), Map.of("title", "B")));
    store.save(saveCmd(c, List.of()));
    store.append(appendCmd(a, msg("2"), msg("3")));

    List<ConversationSummary> all = store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, Long.MAX_VALUE, Map.of()));
    assertThat(all).extracting(ConversationSummary::key).containsExactly(a, c, b);
    assertThat(all).extracting(ConversationSummary::version).isSortedAccordingTo((x, y) -> Long.compare(y, x));
    ConversationSummary sa = all.get(0);
    assertThat(sa.messageCount()).isEqualTo(3);
    assertThat(sa.historyBytes()).isEqualTo(3 * utf8("{\"n\":\"1\"}"));
    assertThat(sa).isEqualTo(getAll(a).summary());
    ConversationSummary sb = all.get(2);
    assertThat(sb.cacheInfo()).isEqualTo(Map.of("t", 5L));
    assertThat(sb.metadata()).isEqualTo(Map.of("title", "B"));
    assertThat(sb).isEqualTo(getAll(b).summary());

    assertThat(store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 2, Long.MAX_VALUE, Map.of())))
        .extracting(ConversationSummary::key).containsExactly(a, c);
    assertThat(store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, sa.version(), Map.of())))
        .extracting(ConversationSummary::key).containsExactly(c, b);
    assertThat(store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, sb.version(), Map.of()))).isEmpty();
    assertThat(store.list(new ListQuery("empty-tenant", 10, Long.MAX_VALUE, Map.of()))).isEmpty();
  }

  @Test
  void listPagingWithBeforeVersionCoversEverythingOnce() {
    Set<ThreadKey> created = new HashSet<>();
    for (int i = 0; i < 37; i++) {
      ThreadKey k = key("page-" + i);
      created.add(k);
      store.append(appendCmd(k, msg("x")));
    }
    // Some conversations move to the front: still listed once.
    store.append(appendCmd(key("page-3"), msg("y")));
    store.updateCache(new UpdateCacheCommand(key("page-10"), Map.of("a", 1L), OptionalLong.empty()));

    List<ThreadKey> seen = new ArrayList<>();
    long before = Long.MAX_VALUE;
    int pages = 0;
    while (true) {
      List<ConversationSummary> page = store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 5, before, Map.of()));
      if (page.isEmpty()) {
        break;
      }
      pages++;
      assertThat(page.size()).isLessThanOrEqualTo(5);
      page.forEach(s -> seen.add(s.key()));
      before = page.get(page.size() - 1).version();
    }
    assertThat(pages).isEqualTo(8);
    assertThat(seen).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(created);
    assertThat(seen.subList(0, 2)).containsExactly(key("page-10"), key("page-3"));
  }

  @Test
  void listFiltersByMetadata() {
    store.save(saveCmd(key("a"), List.of(), Map.of(), Map.of("project_root", "/src/app", "user", "ann")));
    store.save(saveCmd(key("b"), List.of(), Map.of(), Map.of("project_root", "/src/app", "user", "bob")));
    store.save(saveCmd(key("c"), List.of(), Map.of(), Map.of("project_root", "/src/other", "user", "ann")));
    store.save(saveCmd(key("d"), List.of(), Map.of(), Map.of()));

    assertThat(keysWith(Map.of("project_root", "/src/app"))).containsExactly(key("b"), key("a"));
    assertThat(keysWith(Map.of("user", "ann"))).containsExactly(key("c"), key("a"));
    assertThat(keysWith(Map.of("project_root", "/src/app", "user", "ann"))).containsExactly(key("a"));
    assertThat(keysWith(Map.of("project_root", "/src/other", "user", "bob"))).isEmpty();
    assertThat(keysWith(Map.of("project_root", "/src"))).isEmpty();
    assertThat(keysWith(Map.of("PROJECT_ROOT", "/src/app"))).isEmpty();
    assertThat(keysWith(Map.of("missing", ""))).isEmpty();

    // Metadata changed by a later save is what the filter sees.
    store.save(saveCmd(key("b"), List.of(), Map.of(), Map.of("project_root", "/src/other")));
    assertThat(keysWith(Map.of("project_root", "/src/app"))).containsExactly(key("a"));
    assertThat(keysWith(Map.of("project_root", "/src/other"))).containsExactly(key("b"), key("c"));
  }

  private List<ThreadKey> keysWith(Map<String, String> filter) {
    return store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 100, Long.MAX_VALUE, filter)).stream()
        .map(ConversationSummary::key).toList();
  }

  // ---- update metadata ------------------------------------------------------------------------------------

  private static UpdateMetadataCommand metaCmd(ThreadKey key, Map<String, String> set, Set<String> remove,
      Map<String, Long> cacheSet, Set<String> cacheRemove, OptionalLong expected) {
    return new UpdateMetadataCommand(key, set, remove, cacheSet, cacheRemove, expected);
  }

  @Test
  void updateMetadataSetsAndRemovesKeysAndKeepsTheMessages() {
    ThreadKey k = key("meta");
    SaveResult saved = store.save(saveCmd(k, List.of(msg("a"), msg("b")), Map.of("in", 5L, "out", 7L),
        Map.of("title", "old", "project_root", "/src", "gone", "x")));
    long v = store.updateMetadata(metaCmd(k, Map.of("title", "new", "added", "y"), Set.of("gone", "never-stored"),
        Map.of("out", 9L, "cached", 3L), Set.of("in"), OptionalLong.of(saved.version())));
    assertThat(v).isGreaterThan(saved.version());
    Conversation c = getAll(k);
    assertThat(c.summary().metadata())
        .containsExactlyInAnyOrderEntriesOf(Map.of("title", "new", "project_root", "/src", "added", "y"));
    assertThat(c.summary().cacheInfo()).containsExactlyInAnyOrderEntriesOf(Map.of("out", 9L, "cached", 3L));
    assertThat(c.summary().version()).isEqualTo(v);
    assertThat(jsons(c)).containsExactly("{\"n\":\"a\"}", "{\"n\":\"b\"}");
    assertThat(c.summary().historyBytes()).isEqualTo(utf8("{\"n\":\"a\"}") + utf8("{\"n\":\"b\"}"));
    // The removed key no longer matches a filter.
    assertThat(store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, Long.MAX_VALUE, Map.of("gone", "x"))))
        .isEmpty();
  }

  @Test
  void updateMetadataCanRemoveEveryCounterAndKey() {
    ThreadKey k = key("meta-all");
    store.save(saveCmd(k, List.of(), Map.of("a", 1L, "b\"]'$.x", 2L), Map.of("m", "1")));
    store.updateMetadata(metaCmd(k, Map.of(), Set.of("m"), Map.of(), Set.of("a", "b\"]'$.x"), OptionalLong.empty()));
    Conversation c = getAll(k);
    assertThat(c.summary().metadata()).isEmpty();
    assertThat(c.summary().cacheInfo()).isEmpty();
  }

  @Test
  void updateMetadataWithNothingToChangeStillTakesAVersion() {
    ThreadKey k = key("meta-none");
    long before = store.save(saveCmd(k, List.of(msg("a")))).version();
    long after = store.updateMetadata(metaCmd(k, Map.of(), Set.of(), Map.of(), Set.of(), OptionalLong.empty()));
    assertThat(after).isGreaterThan(before);
    assertThat(getAll(k).summary().version()).isEqualTo(after);
  }

  @Test
  void updateMetadataOfAnUnknownThreadIsNotFoundAndCreatesNothing() {
    ThreadKey k = key("meta-missing");
    assertThatThrownBy(() -> store.updateMetadata(
        metaCmd(k, Map.of("a", "b"), Set.of(), Map.of(), Set.of(), OptionalLong.empty())))
        .isInstanceOf(ConversationNotFoundException.class);
    assertThat(store.get(k, MessageWindow.ALL)).isEmpty();
  }

  @Test
  void updateMetadataWithAStaleVersionChangesNothing() {
    ThreadKey k = key("meta-stale");
    long v1 = store.save(saveCmd(k, List.of(), Map.of(), Map.of("keep", "me"))).version();
    long v2 = store.save(saveCmd(k, List.of(msg("a")))).version();
    assertThatThrownBy(() -> store.updateMetadata(
        metaCmd(k, Map.of("x", "y"), Set.of("keep"), Map.of(), Set.of(), OptionalLong.of(v1))))
        .isInstanceOfSatisfying(VersionMismatchException.class, e -> assertThat(e.currentVersion()).isEqualTo(v2));
    Conversation c = getAll(k);
    assertThat(c.summary().metadata()).containsExactlyEntriesOf(Map.of("keep", "me"));
    assertThat(c.summary().version()).isEqualTo(v2);
  }

  @Test
  void updateMetadataAsyncCompletesLikeTheBlockingCall() throws Exception {
    ThreadKey k = key("meta-async");
    store.save(saveCmd(k, List.of(), Map.of(), Map.of("a", "1")));
    long v = store.updateMetadataAsync(metaCmd(k, Map.of(), Set.of("a"), Map.of(), Set.of(), OptionalLong.empty()))
        .get(30, TimeUnit.SECONDS);
    assertThat(getAll(k).summary().version()).isEqualTo(v);
    assertThat(getAll(k).summary().metadata()).isEmpty();
  }

  // ---- fork -----------------------------------------------------------------------------------------------

  private static ForkCommand forkCmd(ThreadKey from, ThreadKey to, OptionalLong end) {
    return new ForkCommand(from, to, end, OptionalLong.empty());
  }

  @Test
  void forkCopiesThePrefixAndMetadataAndLeavesTheSourceAlone() {
    ThreadKey src = key("fork-src");
    ThreadKey dst = key("fork-dst");
    SaveResult saved = store.save(saveCmd(src, numbered(0, 5), Map.of("in", 4L), Map.of("title", "t", "p", "/x")));
    ForkResult r = store.fork(forkCmd(src, dst, OptionalLong.of(3)));
    assertThat(r.messageCount()).isEqualTo(3);
    assertThat(r.sourceVersion()).isEqualTo(saved.version());
    assertThat(r.version()).isGreaterThan(saved.version());

    Conversation copy = getAll(dst);
    assertThat(jsons(copy)).containsExactly("{\"i\":0}", "{\"i\":1}", "{\"i\":2}");
    assertThat(ids(copy)).containsExactly("m0", "m1", "m2");
    assertThat(positions(copy)).containsExactly(0L, 1L, 2L);
    Conversation source = getAll(src);
    assertThat(copy.messages().get(1).createTime()).isEqualTo(source.messages().get(1).createTime());
    assertThat(copy.summary().messageCount()).isEqualTo(3);
    assertThat(copy.summary().historyBytes()).isEqualTo(utf8("{\"i\":0}") * 3);
    assertThat(copy.summary().version()).isEqualTo(r.version());
    assertThat(copy.summary().cacheInfo()).isEmpty();
    assertThat(copy.summary().metadata()).containsExactlyInAnyOrderEntriesOf(Map.of("title", "t", "p", "/x",
        "forked_from", "fork-src", "forked_from_version", Long.toString(saved.version())));

    assertThat(source.summary().version()).isEqualTo(saved.version());
    assertThat(jsons(source)).hasSize(5);
    assertThat(store.stats().messages()).isEqualTo(8);

    // The copy is a conversation of its own: appends de-duplicate against its copied ids, and it can be changed
    // without touching the source.
    AppendResult appended = store.append(appendCmd(dst, msg("m2", "{\"i\":2}"), msg("m9", "{\"i\":9}")));
    assertThat(appended.appendedCount()).isEqualTo(1);
    assertThat(appended.messageCount()).isEqualTo(4);
    assertThat(ids(getAll(dst))).containsExactly("m0", "m1", "m2", "m9");
    assertThat(ids(getAll(src))).containsExactly("m0", "m1", "m2", "m3", "m4");
  }

  @Test
  void forkWithoutAnEndCopiesEverythingAndWithEndZeroNothing() {
    ThreadKey src = key("fork-all");
    store.save(saveCmd(src, numbered(0, 4)));
    assertThat(store.fork(forkCmd(src, key("fork-all-copy"), OptionalLong.empty())).messageCount()).isEqualTo(4);
    assertThat(jsons(getAll(key("fork-all-copy")))).hasSize(4);
    assertThat(store.fork(forkCmd(src, key("fork-none"), OptionalLong.of(0))).messageCount()).isZero();
    Conversation empty = getAll(key("fork-none"));
    assertThat(empty.messages()).isEmpty();
    assertThat(empty.summary().historyBytes()).isZero();
    assertThat(empty.summary().metadata()).containsEntry("forked_from", "fork-all");
  }

  @Test
  void forkRefusesAMissingSourceAnExistingTargetAndAnEndBeyondTheHistory() {
    ThreadKey src = key("fork-e-src");
    ThreadKey taken = key("fork-e-taken");
    long srcVersion = store.save(saveCmd(src, numbered(0, 2))).version();
    long takenVersion = store.save(saveCmd(taken, List.of(msg("mine")))).version();

    assertThatThrownBy(() -> store.fork(forkCmd(key("fork-e-none"), key("fork-e-new"), OptionalLong.empty())))
        .isInstanceOf(ConversationNotFoundException.class);
    assertThatThrownBy(() -> store.fork(forkCmd(src, taken, OptionalLong.empty())))
        .isInstanceOfSatisfying(ConversationExistsException.class, e -> assertThat(e.key()).isEqualTo(taken));
    assertThatThrownBy(() -> store.fork(forkCmd(src, src, OptionalLong.empty())))
        .isInstanceOf(ConversationExistsException.class);
    assertThatThrownBy(() -> store.fork(forkCmd(src, key("fork-e-new"), OptionalLong.of(3))))
        .isInstanceOfSatisfying(PositionOutOfRangeException.class, e -> {
          assertThat(e.position()).isEqualTo(3);
          assertThat(e.messageCount()).isEqualTo(2);
        });
    assertThatThrownBy(() -> store.fork(new ForkCommand(src, key("fork-e-new"), OptionalLong.empty(),
        OptionalLong.of(srcVersion + 1000))))
        .isInstanceOf(VersionMismatchException.class);

    assertThat(store.get(key("fork-e-new"), MessageWindow.ALL)).isEmpty();
    assertThat(jsons(getAll(taken))).containsExactly("{\"n\":\"mine\"}");
    assertThat(getAll(taken).summary().version()).isEqualTo(takenVersion);
    assertThat(store.stats().conversations()).isEqualTo(2);
  }

  @Test
  void forkCountsAgainstTheTenantsLimit() {
    store = track(newStoreWithConversationLimit(1));
    ThreadKey src = key("fork-limit");
    store.save(saveCmd(src, List.of(msg("a"))));
    assertThatThrownBy(() -> store.fork(forkCmd(src, key("fork-limit-2"), OptionalLong.empty())))
        .isInstanceOf(TenantConversationLimitException.class);
    assertThat(store.get(key("fork-limit-2"), MessageWindow.ALL)).isEmpty();
  }

  @Test
  void forkStaysInItsTenant() {
    ThreadKey mine = new ThreadKey("alice", "fork-t");
    store.save(saveCmd(mine, List.of(msg("a"))));
    assertThatThrownBy(() -> store.fork(forkCmd(new ThreadKey("bob", "fork-t"), new ThreadKey("bob", "copy"),
        OptionalLong.empty()))).isInstanceOf(ConversationNotFoundException.class);
    store.fork(forkCmd(mine, new ThreadKey("alice", "copy"), OptionalLong.empty()));
    assertThat(store.get(new ThreadKey("bob", "copy"), MessageWindow.ALL)).isEmpty();
    assertThat(jsons(store.get(new ThreadKey("alice", "copy"), MessageWindow.ALL).orElseThrow()))
        .containsExactly("{\"n\":\"a\"}");
  }

  // ---- search ---------------------------------------------------------------------------------------------

  private List<SearchHit> search(String tenant, String query, Map<String, String> filter, int limit, long offset) {
    return store.search(new SearchQuery(tenant, SearchText.phrases(query), filter, limit, offset));
  }

  private List<String> found(String query) {
    return search(ThreadKey.DEFAULT_TENANT, query, Map.of(), 100, 0).stream()
        .map(h -> h.threadId() + "@" + h.position()).toList();
  }

  /** A small agent corpus: roles, tool calls whose arguments are JSON in a string, unicode, identifiers. */
  private void saveCorpus() {
    store.save(saveCmd(key("s-agent"), List.of(
        msg("", "{\"role\":\"system\",\"content\":\"You are a coding assistant.\"}"),
        msg("", "{\"role\":\"user\",\"content\":\"Why does get_user_name crash in src/main.py?\"}"),
        msg("", "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
            + "\"function\":{\"name\":\"read_file\",\"arguments\":\"{\\\"path\\\": \\\"/srv/app/config.yaml\\\"}\"}}]}"),
        msg("", "{\"role\":\"tool\",\"content\":\"retries: 12345\",\"count\":67890}"))));
    store.save(saveCmd(key("s-unicode"), List.of(
        msg("", "{\"role\":\"user\",\"content\":\"Привет, мир! Сколько стоит 日本語 перевод?\"}"),
        msg("", "{\"role\":\"assistant\",\"content\":\"\\u00e9t\\u00e9 \\u2014 summer 🌞 in French\"}")),
        Map.of(), Map.of("project", "intl")));
  }

  @Test
  void searchFindsTextInsideJsonStringsOnly() {
    saveCorpus();
    assertThat(found("assistant")).containsExactlyInAnyOrder("s-agent@0", "s-agent@2", "s-unicode@1");
    assertThat(found("role")).as("a key is not text").isEmpty();
    assertThat(found("content")).as("a key is not text").isEmpty();
    assertThat(found("67890")).as("a number is not text").isEmpty();
    assertThat(found("12345")).as("a number inside a string is").containsExactly("s-agent@3");
    assertThat(found("null")).isEmpty();
  }

  @Test
  void searchFindsCodeIdentifiersAndToolCallArguments() {
    saveCorpus();
    assertThat(found("get_user_name")).containsExactly("s-agent@1");
    assertThat(found("src/main.py")).containsExactly("s-agent@1");
    assertThat(found("main.py/src")).as("the words of a part in that order").isEmpty();
    assertThat(found("read_file")).containsExactly("s-agent@2");
    assertThat(found("config.yaml")).as("inside a tool call's arguments").containsExactly("s-agent@2");
    assertThat(found("path srv")).as("a key of the JSON in an arguments string is text").containsExactly("s-agent@2");
    assertThat(found("function")).as("a string value").containsExactly("s-agent@2");
    assertThat(found("tool_calls")).as("a key").isEmpty();
    assertThat(found("CRASH Why")).as("case is ignored; every part must occur").containsExactly("s-agent@1");
    assertThat(found("crash summer")).as("parts in one message").isEmpty();
    assertThat(found("crash, !")).as("parts without a word are dropped").containsExactly("s-agent@1");
  }

  @Test
  void searchFindsUnicodeWordsCaseInsensitivelyButKeepsAccents() {
    saveCorpus();
    assertThat(found("ПРИВЕТ")).containsExactly("s-unicode@0");
    assertThat(found("мир")).containsExactly("s-unicode@0");
    assertThat(found("日本語")).containsExactly("s-unicode@0");
    assertThat(found("été")).as("an escaped \\u00e9 is the letter").containsExactly("s-unicode@1");
    assertThat(found("ete")).as("accents are kept").isEmpty();
    assertThat(found("summer")).containsExactly("s-unicode@1");
    assertThat(found("перево")).as("whole words, not prefixes").isEmpty();
  }

  @Test
  void searchGivesASnippetAroundTheMatchAndAPositiveScore() {
    saveCorpus();
    List<SearchHit> hits = search(ThreadKey.DEFAULT_TENANT, "get_user_name", Map.of(), 10, 0);
    assertThat(hits).hasSize(1);
    assertThat(hits.get(0).snippet()).contains("get_user_name crash").doesNotContain("role").doesNotContain("{");
    assertThat(hits.get(0).score()).isPositive();
    store.save(saveCmd(key("s-long"), List.of(msg("", "{\"t\":\"" + "filler ".repeat(200) + "needle "
        + "filler ".repeat(200) + "\"}"))));
    String snippet = search(ThreadKey.DEFAULT_TENANT, "needle", Map.of(), 10, 0).get(0).snippet();
    assertThat(snippet).startsWith("…").endsWith("…").contains("needle").hasSizeLessThan(330);
  }

  @Test
  void searchStaysInTheTenantAndHonoursTheMetadataFilter() {
    saveCorpus();
    store.save(saveCmd(new ThreadKey("other", "s-other"), List.of(msg("", "{\"c\":\"summer crash\"}"))));
    assertThat(found("summer")).containsExactly("s-unicode@1");
    assertThat(search("other", "summer", Map.of(), 10, 0)).extracting(SearchHit::threadId).containsExactly("s-other");
    assertThat(search(ThreadKey.DEFAULT_TENANT, "assistant", Map.of("project", "intl"), 10, 0))
        .extracting(SearchHit::threadId).containsExactly("s-unicode");
    assertThat(search(ThreadKey.DEFAULT_TENANT, "assistant", Map.of("project", "none"), 10, 0)).isEmpty();
  }

  @Test
  void theIndexFollowsEveryWrite() {
    ThreadKey k = key("s-writes");
    store.save(saveCmd(k, List.of(msg("", "{\"c\":\"alpha\"}"), msg("", "{\"c\":\"beta\"}"))));
    assertThat(found("beta")).containsExactly("s-writes@1");
    store.save(saveCmd(k, List.of(msg("", "{\"c\":\"alpha\"}"), msg("", "{\"c\":\"gamma\"}"))));
    assertThat(found("beta")).as("replaced by a Save").isEmpty();
    assertThat(found("gamma")).containsExactly("s-writes@1");
    store.append(appendCmd(k, msg("", "{\"c\":\"delta\"}")));
    assertThat(found("delta")).containsExactly("s-writes@2");
    store.fork(new ForkCommand(k, key("s-fork"), OptionalLong.of(2), OptionalLong.empty()));
    assertThat(found("gamma")).containsExactlyInAnyOrder("s-writes@1", "s-fork@1");
    assertThat(found("delta")).as("not copied").containsExactly("s-writes@2");
    store.clear(new ClearCommand(k, OptionalLong.empty()));
    assertThat(found("alpha")).containsExactly("s-fork@0");
    store.clear(new ClearCommand(key("s-fork"), OptionalLong.empty()));
    // New rows may reuse the storage's keys of the deleted ones: nothing deleted may still be found.
    store.save(saveCmd(key("s-new"), List.of(msg("", "{\"c\":\"omega\"}"), msg("", "{\"c\":\"psi\"}"),
        msg("", "{\"c\":\"chi\"}"))));
    assertThat(found("alpha")).isEmpty();
    assertThat(found("gamma")).isEmpty();
    assertThat(found("omega")).containsExactly("s-new@0");
  }

  @Test
  void aMessageNestedDeeperThanTheIndexParsesIsStillStoredAndLaterOnesFound() {
    // The server's --max-json-depth may exceed what a database's JSON functions parse (SQLite: 1000 levels).
    String deep = "{\"c\":\"shallow words\",\"d\":" + "[".repeat(1500) + "\"deep\"" + "]".repeat(1500) + "}";
    ThreadKey k = key("s-deep");
    store.save(saveCmd(k, List.of(msg("", deep))));
    assertThat(jsons(getAll(k))).containsExactly(deep);
    store.append(appendCmd(k, msg("", "{\"c\":\"after\"}")));
    assertThat(found("after")).containsExactly("s-deep@1");
  }

  @Test
  void searchPagesCoverEveryHitOnce() {
    for (int t = 0; t < 5; t++) {
      List<NewMessage> messages = new ArrayList<>();
      for (int i = 0; i < 7; i++) {
        messages.add(msg("", "{\"c\":\"common word " + "again ".repeat(i % 3) + "\"}"));
      }
      store.save(saveCmd(key("s-page-" + t), messages));
    }
    Set<String> seen = new HashSet<>();
    int pages = 0;
    for (long offset = 0; ; offset += 4) {
      List<SearchHit> page = search(ThreadKey.DEFAULT_TENANT, "common word", Map.of(), 4, offset);
      page.forEach(h -> assertThat(seen.add(h.threadId() + "@" + h.position())).as("seen once").isTrue());
      pages++;
      if (page.size() < 4) {
        break;
      }
    }
    assertThat(seen).hasSize(35);
    assertThat(pages).isEqualTo(9);
  }

  @Test
  void searchSurvivesAReopen() {
    saveCorpus();
    Optional<ConversationStore> reopened = reopen(store);
    assumeThat(reopened).isPresent();
    store = track(reopened.get());
    assertThat(found("config.yaml")).containsExactly("s-agent@2");
  }

  // ---- tenants --------------------------------------------------------------------------------------------

  @Test
  void theSameThreadIdInTwoTenantsIsTwoConversations() {
    ThreadKey mine = new ThreadKey("alice", "shared-id");
    ThreadKey theirs = new ThreadKey("bob", "shared-id");

    SaveResult s1 = store.save(saveCmd(mine, List.of(msg("m1", "{\"who\":\"alice\"}")), Map.of("c", 1L),
        Map.of("p", "/a")));
    SaveResult s2 = store.save(saveCmd(theirs, List.of(msg("m1", "{\"who\":\"bob\"}")), Map.of("c", 2L),
        Map.of("p", "/a")));
    assertThat(s1.created()).isTrue();
    assertThat(s2.created()).isTrue();
    assertThat(store.get(ThreadKey.of("shared-id"), MessageWindow.ALL)).isEmpty();

    // Append: the id stored for alice is not a duplicate for bob.
    AppendResult a = store.append(appendCmd(theirs, msg("m2", "{\"who\":\"bob2\"}")));
    assertThat(a.messageCount()).isEqualTo(2);
    AppendResult mineAppend = store.append(appendCmd(mine, msg("m2", "{\"who\":\"alice2\"}")));
    assertThat(mineAppend.appendedCount()).isEqualTo(1);

    // Version checks look at the conversation of the right tenant (each tenant counts its own versions: one more
    // write of bob's makes his version one no conversation of alice's has).
    store.updateCache(new UpdateCacheCommand(theirs, Map.of("c", 2L), OptionalLong.empty()));
    long bobVersion = getAll(theirs).summary().version();
    assertThat(bobVersion).isNotEqualTo(getAll(mine).summary().version());
    assertThatThrownBy(() -> store.updateCache(new UpdateCacheCommand(mine, Map.of(), OptionalLong.of(bobVersion))))
        .isInstanceOf(VersionMismatchException.class);
    store.updateCache(new UpdateCacheCommand(theirs, Map.of("c", 20L), OptionalLong.of(bobVersion)));

    assertThat(jsons(getAll(mine))).containsExactly("{\"who\":\"alice\"}", "{\"who\":\"alice2\"}");
    assertThat(jsons(getAll(theirs))).containsExactly("{\"who\":\"bob\"}", "{\"who\":\"bob2\"}");
    assertThat(getAll(mine).summary().cacheInfo()).isEqualTo(Map.of("c", 1L));
    assertThat(getAll(theirs).summary().cacheInfo()).isEqualTo(Map.of("c", 20L));

    // List never crosses tenants, with or without a filter.
    assertThat(listAll("alice")).containsExactly(mine);
    assertThat(listAll("bob")).containsExactly(theirs);
    assertThat(store.list(new ListQuery("alice", 10, Long.MAX_VALUE, Map.of("p", "/a"))))
        .extracting(ConversationSummary::key).containsExactly(mine);
    assertThat(listAll(ThreadKey.DEFAULT_TENANT)).isEmpty();

    // Clear removes one tenant's conversation only.
    assertThat(store.clear(new ClearCommand(mine, OptionalLong.empty()))).isTrue();
    assertThat(store.get(mine, MessageWindow.ALL)).isEmpty();
    assertThat(jsons(getAll(theirs))).hasSize(2);
    assertThat(listAll("bob")).containsExactly(theirs);
    assertThat(store.clear(new ClearCommand(mine, OptionalLong.empty()))).isFalse();
    assertThatThrownBy(() -> store.updateCache(new UpdateCacheCommand(mine, Map.of(), OptionalLong.empty())))
        .isInstanceOf(ConversationNotFoundException.class);
  }

  @Test
  void creatingMoreConversationsThanTheTenantsLimitFailsAndChangesNothing() {
    ConversationStore s = track(newStoreWithConversationLimit(2));
    ThreadKey a1 = new ThreadKey("alice", "a1");
    ThreadKey a2 = new ThreadKey("alice", "a2");
    ThreadKey a3 = new ThreadKey("alice", "a3");
    s.save(saveCmd(a1, List.of(msg("x"))));
    s.append(appendCmd(a2, msg("y")));

    assertThatThrownBy(() -> s.save(saveCmd(a3, List.of(msg("z")))))
        .isInstanceOfSatisfying(TenantConversationLimitException.class, e -> {
          assertThat(e.limit()).isEqualTo(2);
          assertThat(e.key()).isEqualTo(a3);
        });
    assertThatThrownBy(() -> s.append(appendCmd(a3, msg("z"))))
        .isInstanceOf(TenantConversationLimitException.class);
    assertThat(s.get(a3, MessageWindow.ALL)).isEmpty();
    assertThat(s.stats().conversations()).isEqualTo(2);

    // Conversations that exist can still be written; other tenants have limits of their own.
    s.save(saveCmd(a1, List.of(msg("x"), msg("x2"))));
    s.append(appendCmd(a2, msg("y2")));
    s.updateCache(new UpdateCacheCommand(a1, Map.of("c", 1L), OptionalLong.empty()));
    s.save(saveCmd(new ThreadKey("bob", "a1"), List.of()));
    s.append(appendCmd(new ThreadKey("bob", "a3"), msg("b")));

    // Clearing one frees its place.
    assertThat(s.clear(new ClearCommand(a1, OptionalLong.empty()))).isTrue();
    assertThat(s.save(saveCmd(a3, List.of(msg("z")))).created()).isTrue();
    assertThatThrownBy(() -> s.save(saveCmd(a1, List.of()))).isInstanceOf(TenantConversationLimitException.class);
    assertThat(s.stats().conversations()).isEqualTo(4);
  }

  @Test
  @Timeout(60)
  void concurrentCreationsNeverExceedTheTenantsLimit() throws Exception {
    ConversationStore s = track(newStoreWithConversationLimit(10));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        ThreadKey k = new ThreadKey("busy", "t" + i);
        results.add(pool.submit(() -> {
          try {
            s.append(appendCmd(k, msg("m")));
            return true;
          } catch (TenantConversationLimitException e) {
            return false;
          }
        }));
      }
      int created = 0;
      for (Future<Boolean> f : results) {
        created += f.get() ? 1 : 0;
      }
      assertThat(created).isEqualTo(10);
      assertThat(s.list(new ListQuery("busy", 100, Long.MAX_VALUE, Map.of()))).hasSize(10);
    } finally {
      pool.shutdownNow();
    }
  }

  // ---- stats, health, lifecycle ---------------------------------------------------------------------------

  @Test
  void statsCountConversationsMessagesAndBytes() {
    StoreStats empty = store.stats();
    assertThat(empty.conversations()).isZero();
    assertThat(empty.messages()).isZero();
    assertThat(empty.historyBytes()).isZero();

    store.save(saveCmd(key("a"), List.of(msg("", "{\"x\":\"é\"}"), msg("", "{}"))));
    store.append(appendCmd(new ThreadKey("t2", "b"), msg("", "{\"y\":1}")));
    store.save(saveCmd(key("c"), List.of()));
    StoreStats s = store.stats();
    assertThat(s.conversations()).isEqualTo(3);
    assertThat(s.messages()).isEqualTo(3);
    assertThat(s.historyBytes()).isEqualTo(utf8("{\"x\":\"é\"}") + 2 + utf8("{\"y\":1}"));
    assertThat(s.committedWrites()).isEqualTo(3);

    store.clear(new ClearCommand(key("a"), OptionalLong.empty()));
    StoreStats afterClear = store.stats();
    assertThat(afterClear.conversations()).isEqualTo(2);
    assertThat(afterClear.messages()).isEqualTo(1);
    assertThat(afterClear.historyBytes()).isEqualTo(utf8("{\"y\":1}"));
    assertThat(afterClear.committedWrites()).isEqualTo(4);
  }

  @Test
  void aClosedStoreIsUnavailable() {
    ConversationStore s = open(DEFAULT_LIMIT);
    s.save(saveCmd(key("a"), List.of(msg("a"))));
    s.checkHealth();
    s.close();
    assertThatThrownBy(s::checkHealth).isInstanceOf(StoreUnavailableException.class);
    assertThatThrownBy(() -> s.save(saveCmd(key("a"), List.of()))).isInstanceOf(StoreUnavailableException.class);
    assertThatThrownBy(() -> s.append(appendCmd(key("a"), msg("b")))).isInstanceOf(StoreUnavailableException.class);
    assertThatThrownBy(() -> s.get(key("a"), MessageWindow.ALL)).isInstanceOf(StoreUnavailableException.class);
  }

  // ---- persistence (skipped by backends that keep nothing) ------------------------------------------------

  @Test
  void everythingSurvivesAReopenByteForByte() {
    ThreadKey k = key("durable");
    ThreadKey t = new ThreadKey("tenant-2", "durable");
    List<NewMessage> messages = new ArrayList<>();
    for (int i = 0; i < TRICKY_JSON.size(); i++) {
      messages.add(msg("id-" + i, TRICKY_JSON.get(i)));
    }
    store.save(saveCmd(k, messages, Map.of("input_tokens", 9007199254740993L), Map.of("project_root", "/p/ü")));
    store.append(appendCmd(t, msg("x", "{\"t\":2}")));
    store.clear(new ClearCommand(t, OptionalLong.empty()));
    long highest = store.append(appendCmd(t, msg("y", "{\"t\":3}"))).version();
    Conversation before = getAll(k);
    Conversation beforeT = getAll(t);

    Optional<ConversationStore> reopened = reopen(store);
    assumeThat(reopened).as("backend keeps data across a restart").isPresent();
    store = track(reopened.get());

    assertThat(getAll(k)).isEqualTo(before);
    assertThat(getAll(t)).isEqualTo(beforeT);
    for (int i = 0; i < TRICKY_JSON.size(); i++) {
      assertThat(utf8(getAll(k).messages().get(i).json()))
          .isEqualTo(TRICKY_JSON.get(i).getBytes(StandardCharsets.UTF_8));
    }
    // Stored ids still de-duplicate.
    assertThat(store.append(appendCmd(t, msg("y", "{\"t\":3}"))).appendedCount()).isZero();
    // The tenants' version counters survive too: new versions are above every version given out before.
    assertThat(store.append(appendCmd(t, msg("after", "{}"))).version()).isGreaterThan(highest);
    assertThat(store.append(appendCmd(k, msg("after", "{}"))).version()).isGreaterThan(before.summary().version());
  }

  @Test
  void aCounterRaisedOnlyByAClearSurvivesAReopen() {
    ThreadKey k = key("cleared-last");
    long v = store.save(saveCmd(k, List.of(msg("a")))).version();
    store.clear(new ClearCommand(k, OptionalLong.empty()));
    Optional<ConversationStore> reopened = reopen(store);
    assumeThat(reopened).isPresent();
    store = track(reopened.get());
    // The clear used version v + 1; a version handed out after the restart must not reuse it... nor v.
    long after = store.save(saveCmd(k, List.of(msg("a")))).version();
    assertThat(after).isGreaterThan(v + 1);
  }

  // ---- concurrency ----------------------------------------------------------------------------------------

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void concurrentAppendsKeepEveryMessageOnceAndVersionsUnique() throws Exception {
    int threads = 8;
    int perThread = 200;
    List<ThreadKey> keys = List.of(key("hot-0"), key("hot-1"), key("hot-2"));
    Set<Long> versions = ConcurrentHashMap.newKeySet();
    List<Long> allVersions = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int w = 0; w < threads; w++) {
        int worker = w;
        futures.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < perThread; i++) {
            ThreadKey k = keys.get((worker + i) % keys.size());
            AppendResult r = store.append(appendCmd(k, msg("w" + worker + "-" + i, "{\"w\":" + worker + ",\"i\":" + i
                + "}")));
            if (r.appendedCount() != 1) {
              throw new AssertionError("appended " + r.appendedCount());
            }
            versions.add(r.version());
            allVersions.add(r.version());
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

    assertThat(allVersions).hasSize(threads * perThread);
    assertThat(versions).hasSize(threads * perThread);
    Map<String, Integer> seen = new HashMap<>();
    long total = 0;
    for (ThreadKey k : keys) {
      Conversation c = getAll(k);
      total += c.messages().size();
      assertThat(positions(c)).containsExactlyElementsOf(
          IntStream.range(0, c.messages().size()).mapToObj(i -> (long) i).toList());
      assertThat(c.summary().messageCount()).isEqualTo(c.messages().size());
      assertThat(c.summary().version()).isIn(versions);
      for (StoredMessage m : c.messages()) {
        seen.merge(m.id(), 1, Integer::sum);
      }
      // Each worker's messages to one conversation stay in the order it sent them.
      Map<String, Integer> lastByWorker = new LinkedHashMap<>();
      for (StoredMessage m : c.messages()) {
        String[] parts = m.id().substring(1).split("-");
        int i = Integer.parseInt(parts[1]);
        Integer previous = lastByWorker.put(parts[0], i);
        assertThat(previous == null || previous < i).as("order of %s", m.id()).isTrue();
      }
    }
    assertThat(total).isEqualTo(threads * perThread);
    assertThat(seen).hasSize(threads * perThread);
    assertThat(seen.values()).allMatch(n -> n == 1);
    assertThat(store.stats().messages()).isEqualTo(threads * perThread);
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void concurrentRetriesOfTheSameAppendStoreItOnce() throws Exception {
    ThreadKey k = key("retried");
    int threads = 8;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<AppendResult>> futures = new ArrayList<>();
    try {
      for (int w = 0; w < threads; w++) {
        futures.add(pool.submit(() -> {
          start.await();
          return store.append(appendCmd(k, msg("one", "{\"x\":1}"), msg("two", "{\"x\":2}")));
        }));
      }
      start.countDown();
      int appended = 0;
      int created = 0;
      for (Future<AppendResult> f : futures) {
        AppendResult r = f.get(100, TimeUnit.SECONDS);
        appended += r.appendedCount();
        created += r.created() ? 1 : 0;
      }
      assertThat(appended).isEqualTo(2);
      assertThat(created).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
    assertThat(ids(getAll(k))).containsExactly("one", "two");
  }

  // ---- import and export --------------------------------------------------------------------------------

  private static final Instant T0 = Instant.parse("2024-01-02T03:04:05.123456Z");
  private static final Instant T1 = Instant.parse("2024-01-02T03:05:00.000001Z");
  private static final Instant T2 = Instant.parse("2024-02-01T00:00:00Z");

  private static ImportCommand importCmd(ThreadKey key, List<NewMessage> messages, Map<String, Long> cache,
      Map<String, String> metadata, ExistingPolicy policy) {
    return importCmd(key, messages, cache, metadata, null, policy);
  }

  private static ImportCommand importCmd(ThreadKey key, List<NewMessage> messages, Map<String, Long> cache,
      Map<String, String> metadata, Instant expireTime, ExistingPolicy policy) {
    List<ImportedMessage> timed = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      timed.add(new ImportedMessage(messages.get(i), i < 2 ? T0 : T1));
    }
    return new ImportCommand(key, timed, cache, metadata, T0, T2, expireTime, policy);
  }

  private static ImportCommand importCmd(String threadId, ExistingPolicy policy, String... texts) {
    List<NewMessage> messages = new ArrayList<>();
    for (String t : texts) {
      messages.add(msg("id-" + t, "{\"t\": \"" + t + "\", \"big\": 123456789012345678901234567890}"));
    }
    return importCmd(key(threadId), messages, Map.of("input_tokens", Long.MAX_VALUE), Map.of("project_root", "/p"),
        policy);
  }

  @Test
  void importStoresTheConversationWithItsOwnTimes() {
    assertThat(store.importConversation(importCmd("imp", ExistingPolicy.FAIL, "a", "b", "c")))
        .isEqualTo(ImportOutcome.CREATED);
    Conversation c = store.get(key("imp"), MessageWindow.ALL).orElseThrow();
    assertThat(c.summary().createTime()).isEqualTo(T0);
    assertThat(c.summary().updateTime()).isEqualTo(T2);
    assertThat(c.summary().cacheInfo()).isEqualTo(Map.of("input_tokens", Long.MAX_VALUE));
    assertThat(c.summary().metadata()).isEqualTo(Map.of("project_root", "/p"));
    assertThat(c.summary().version()).isPositive();
    assertThat(c.messages()).extracting(StoredMessage::createTime).containsExactly(T0, T0, T1);
    assertThat(c.messages()).extracting(StoredMessage::id).containsExactly("id-a", "id-b", "id-c");
    assertThat(c.messages().get(2).json().text()).isEqualTo("{\"t\": \"c\", \"big\": 123456789012345678901234567890}");
    assertThat(c.messages()).extracting(StoredMessage::position).containsExactly(0L, 1L, 2L);
  }

  @Test
  void importingTheSameRecordTwiceChangesNothing() {
    store.importConversation(importCmd("twice", ExistingPolicy.FAIL, "a", "b"));
    long version = store.get(key("twice"), MessageWindow.ALL).orElseThrow().summary().version();
    assertThat(store.importConversation(importCmd("twice", ExistingPolicy.FAIL, "a", "b")))
        .isEqualTo(ImportOutcome.UNCHANGED);
    assertThat(store.get(key("twice"), MessageWindow.ALL).orElseThrow().summary().version()).isEqualTo(version);
  }

  @Test
  void importOfADifferentConversationFollowsThePolicy() {
    store.importConversation(importCmd("differs", ExistingPolicy.FAIL, "a", "b"));
    long version = store.get(key("differs"), MessageWindow.ALL).orElseThrow().summary().version();

    assertThatThrownBy(() -> store.importConversation(importCmd("differs", ExistingPolicy.FAIL, "a", "x")))
        .isInstanceOf(ConversationExistsException.class);
    assertThat(store.importConversation(importCmd("differs", ExistingPolicy.SKIP, "a", "x")))
        .isEqualTo(ImportOutcome.KEPT_EXISTING);
    assertThat(store.get(key("differs"), MessageWindow.ALL).orElseThrow().summary().version()).isEqualTo(version);

    assertThat(store.importConversation(importCmd("differs", ExistingPolicy.REPLACE, "x")))
        .isEqualTo(ImportOutcome.REPLACED);
    Conversation c = store.get(key("differs"), MessageWindow.ALL).orElseThrow();
    assertThat(c.messages()).extracting(StoredMessage::id).containsExactly("id-x");
    assertThat(c.summary().version()).isGreaterThan(version);
    assertThat(store.status(ThreadKey.DEFAULT_TENANT).conversations()).isEqualTo(1);
  }

  @Test
  void importSeesDifferentCountersAndMetadataAsDifferent() {
    NewMessage m = msg("1", "{}");
    store.importConversation(importCmd(key("meta"), List.of(m), Map.of("a", 1L), Map.of("k", "v"),
        ExistingPolicy.FAIL));
    assertThatThrownBy(() -> store.importConversation(importCmd(key("meta"), List.of(m), Map.of("a", 2L),
        Map.of("k", "v"), ExistingPolicy.FAIL))).isInstanceOf(ConversationExistsException.class);
    assertThatThrownBy(() -> store.importConversation(importCmd(key("meta"), List.of(m), Map.of("a", 1L),
        Map.of("k", "w"), ExistingPolicy.FAIL))).isInstanceOf(ConversationExistsException.class);
  }

  @Test
  void importOverTheHistoryLimitStoresNothing() {
    ConversationStore small = open(10);
    ImportCommand big = importCmd("big", ExistingPolicy.FAIL, "a", "b");
    assertThatThrownBy(() -> small.importConversation(big)).isInstanceOf(HistoryTooLargeException.class);
    assertThat(small.get(key("big"), MessageWindow.ALL)).isEmpty();
  }

  private List<String> exportIds(ExportQuery q) {
    return store.listByThreadId(q).stream().map(s -> s.key().threadId()).toList();
  }

  private static ExportQuery everything(String after, int limit) {
    return new ExportQuery(ThreadKey.DEFAULT_TENANT, after, limit, Map.of(), Optional.empty(), Optional.empty(),
        Set.of());
  }

  @Test
  void listByThreadIdPagesInCodePointOrder() {
    // U+1F600 (a surrogate pair in UTF-16) sorts after U+FFFD by code point, before it by UTF-16 units.
    List<String> ids = List.of("b", "a", "\uD83D\uDE00", "\uFFFD", "a/b", "Z");
    for (String id : ids) {
      store.save(saveCmd(key(id), List.of(msg("x"))));
    }
    store.save(saveCmd(new ThreadKey("other", "aa"), List.of(msg("x"))));
    List<String> expected = List.of("Z", "a", "a/b", "b", "\uFFFD", "\uD83D\uDE00");
    assertThat(exportIds(everything("", 100))).isEqualTo(expected);
    assertThat(exportIds(everything("", 2))).isEqualTo(expected.subList(0, 2));
    assertThat(exportIds(everything("a", 2))).isEqualTo(expected.subList(2, 4));
    assertThat(exportIds(everything("b", 10))).isEqualTo(expected.subList(4, 6));
    assertThat(exportIds(everything("\uD83D\uDE00", 10))).isEmpty();
  }

  @Test
  void listByThreadIdFilters() {
    store.importConversation(importCmd(key("old"), List.of(msg("o")), Map.of(), Map.of("p", "1"),
        ExistingPolicy.FAIL));
    store.save(saveCmd(key("new1"), List.of(msg("x")), Map.of(), Map.of("p", "1")));
    store.save(saveCmd(key("new2"), List.of(msg("x")), Map.of(), Map.of("p", "2")));
    String t = ThreadKey.DEFAULT_TENANT;
    assertThat(exportIds(new ExportQuery(t, "", 10, Map.of("p", "1"), Optional.empty(), Optional.empty(),
        Set.of()))).containsExactly("new1", "old");
    assertThat(exportIds(new ExportQuery(t, "", 10, Map.of(), Optional.of(T2.plusSeconds(1)), Optional.empty(),
        Set.of()))).containsExactly("new1", "new2");
    assertThat(exportIds(new ExportQuery(t, "", 10, Map.of(), Optional.empty(), Optional.of(T2.plusSeconds(1)),
        Set.of()))).containsExactly("old");
    assertThat(exportIds(new ExportQuery(t, "", 10, Map.of(), Optional.of(T2), Optional.empty(),
        Set.of("old", "new2", "missing")))).containsExactly("new2", "old");
  }

  @Test
  void statusCountsTheTenantsConversationsAndMessages() {
    store.save(saveCmd(key("s1"), List.of(msg("a"), msg("b"))));
    store.save(saveCmd(key("s2"), List.of(msg("c"))));
    store.save(saveCmd(new ThreadKey("other", "s3"), List.of(msg("d"))));
    StoreStatus status = store.status(ThreadKey.DEFAULT_TENANT);
    assertThat(status.conversations()).isEqualTo(2);
    assertThat(status.messages()).isEqualTo(3);
    assertThat(status.backend()).isIn("memory", "sqlite", "postgres");
  }

  /** The totals the SQL backends keep with the rows (V18) follow every kind of write that changes a size. */
  @Test
  void statusAndStoreTotalsFollowAppendsReplacementsForksAndClears() {
    ThreadKey a = key("totals-a");
    store.save(saveCmd(a, List.of(msg("a"), msg("b"), msg("c"))));
    store.append(appendCmd(a, msg("d")));
    store.save(saveCmd(a, List.of(msg("a")))); // replaced by a shorter history
    ThreadKey b = key("totals-b");
    store.save(saveCmd(b, List.of(msg("x"), msg("y"))));
    store.fork(forkCmd(b, key("totals-fork"), OptionalLong.empty()));
    store.save(saveCmd(new ThreadKey("totals-other", "o"), List.of(msg("o"), msg("p"), msg("q"))));
    store.clear(new ClearCommand(b, OptionalLong.empty()));

    StoreStatus status = store.status(ThreadKey.DEFAULT_TENANT);
    assertThat(status.conversations()).as("totals-a and the fork").isEqualTo(2);
    assertThat(status.messages()).isEqualTo(1 + 2);
    assertThat(store.status("totals-other").messages()).isEqualTo(3);
    assertThat(store.status("never-wrote").conversations()).isZero();
    StoreStats stats = store.stats();
    assertThat(stats.conversations()).isEqualTo(3);
    assertThat(stats.messages()).isEqualTo(6);
    assertThat(stats.historyBytes()).as("six messages of 9 bytes").isEqualTo(6 * 9);
  }

  // ---- the change log (Watch) ------------------------------------------------------------------------------

  private List<ChangeEvent> changes(String tenant, String threadId, long after) {
    return store.changeFeed().changes(new ChangeQuery(tenant, threadId, after, 1000));
  }

  @Test
  void everyMutationLogsOneChangeWithItsVersionKindAndMessages() {
    ThreadKey k = key("logged");
    SaveResult created = store.save(saveCmd(k, List.of(msg("a", "{\"n\":1}"))));
    AppendResult appended = store.append(appendCmd(k, msg("b", "{\"n\":2}"), msg("", "{\"n\":3}")));
    long cached = store.updateCache(new UpdateCacheCommand(k, Map.of("in", 4L), OptionalLong.empty()));
    SaveResult metadataOnly = store.save(saveCmd(k, getAllNewMessages(k), Map.of(), Map.of("title", "t")));
    SaveResult replaced = store.save(saveCmd(k, List.of(msg("a", "{\"n\":1}"), msg("x", "{\"n\":9}"))));
    SaveResult extended = store.save(saveCmd(k, List.of(msg("a", "{\"n\":1}"), msg("x", "{\"n\":9}"),
        msg("y", "{\"n\":10}"))));
    assertThat(store.clear(new ClearCommand(k, OptionalLong.empty()))).isTrue();

    List<ChangeEvent> log = changes(ThreadKey.DEFAULT_TENANT, "", 0);
    assertThat(log).extracting(ChangeEvent::kind).containsExactly(ChangeKind.APPENDED, ChangeKind.APPENDED,
        ChangeKind.CACHE_UPDATED, ChangeKind.METADATA_UPDATED, ChangeKind.REPLACED, ChangeKind.APPENDED,
        ChangeKind.CLEARED);
    assertThat(log).extracting(ChangeEvent::version).startsWith(created.version(), appended.version(), cached,
        metadataOnly.version(), replaced.version(), extended.version()).isSorted().doesNotHaveDuplicates();
    assertThat(log).allMatch(e -> e.key().equals(k));
    ChangeEvent append = log.get(1);
    assertThat(append.firstPosition()).isEqualTo(1);
    assertThat(append.messageCount()).isEqualTo(3);
    assertThat(append.messages()).extracting(StoredMessage::id).containsExactly("b", "");
    assertThat(append.messages()).extracting(m -> m.json().text()).containsExactly("{\"n\":2}", "{\"n\":3}");
    assertThat(append.messages()).extracting(StoredMessage::position).containsExactly(1L, 2L);
    ChangeEvent replace = log.get(4);
    assertThat(replace.firstPosition()).isEqualTo(1);
    assertThat(replace.messageCount()).isEqualTo(2);
    assertThat(replace.messages()).extracting(m -> m.json().text()).containsExactly("{\"n\":9}");
    ChangeEvent extend = log.get(5);
    assertThat(extend.firstPosition()).isEqualTo(2);
    assertThat(extend.messages()).extracting(StoredMessage::id).containsExactly("y");
    assertThat(log.get(6).messageCount()).isZero();
    assertThat(log.get(6).messages()).isEmpty();
    assertThat(log.get(6).version()).isGreaterThan(extended.version());
  }

  @Test
  void updateMetadataForkAndImportLogTheirChangesToo() {
    ThreadKey k = key("logged-too");
    store.append(appendCmd(k, msg("a", "{\"n\":1}"), msg("b", "{\"n\":2}")));
    long edited = store.updateMetadata(new UpdateMetadataCommand(k, Map.of("title", "t"), Set.of(), Map.of(),
        Set.of(), OptionalLong.empty()));
    ForkResult forked = store.fork(new ForkCommand(k, key("logged-copy"), OptionalLong.of(1), OptionalLong.empty()));
    assertThat(store.importConversation(importCmd("logged-import", ExistingPolicy.FAIL, "x", "y", "z")))
        .isEqualTo(ImportOutcome.CREATED);
    long imported = getAll(key("logged-import")).summary().version();

    List<ChangeEvent> log = changes(ThreadKey.DEFAULT_TENANT, "", 0);
    assertThat(log).extracting(ChangeEvent::kind).containsExactly(ChangeKind.APPENDED, ChangeKind.METADATA_UPDATED,
        ChangeKind.REWRITTEN, ChangeKind.REWRITTEN);
    assertThat(log).extracting(ChangeEvent::version).containsExactly(log.get(0).version(), edited, forked.version(),
        imported);
    assertThat(log).extracting(e -> e.key().threadId())
        .containsExactly("logged-too", "logged-too", "logged-copy", "logged-import");
    assertThat(log).extracting(ChangeEvent::messageCount).containsExactly(2L, 2L, 1L, 3L);
    assertThat(log.get(2).messages()).isEmpty();
    assertThat(log.get(3).messages()).isEmpty();
  }

  /** The kinds of the entries of {@code threadId} (after {@code after}) that a watcher with {@code filter} gets. */
  private List<ChangeKind> selected(String threadId, long after, Map<String, String> filter) {
    return changes(ThreadKey.DEFAULT_TENANT, threadId, after).stream().filter(e -> e.selectedBy(filter))
        .map(ChangeEvent::kind).toList();
  }

  @Test
  void everyEntryRecordsTheMetadataAsItWasThenSoAFilterSelectsTheSameEntriesLater() {
    ThreadKey k = key("filtered");
    long start = store.append(appendCmd(k, msg("a", "{}"))).version() - 1;
    store.save(saveCmd(k, List.of(msg("a", "{}")), Map.of(), Map.of("project", "p1")));
    store.append(appendCmd(k, msg("b", "{}")));
    store.updateCache(new UpdateCacheCommand(k, Map.of("in", 1L), OptionalLong.empty()));
    store.updateMetadata(new UpdateMetadataCommand(k, Map.of("project", "p2"), Set.of(), Map.of(), Set.of(),
        OptionalLong.empty()));
    store.append(appendCmd(k, msg("c", "{}")));
    store.updateMetadata(new UpdateMetadataCommand(k, Map.of("project", "p1"), Set.of(), Map.of(), Set.of(),
        OptionalLong.empty()));
    assertThat(store.clear(new ClearCommand(k, OptionalLong.empty()))).isTrue();

    List<ChangeEvent> log = changes(ThreadKey.DEFAULT_TENANT, "filtered", start);
    assertThat(log).extracting(ChangeEvent::metadata).containsExactly(Map.of(), Map.of("project", "p1"),
        Map.of("project", "p1"), Map.of("project", "p1"), Map.of("project", "p2"), Map.of("project", "p2"),
        Map.of("project", "p1"), Map.of("project", "p1"));
    // Only the changes that may have changed the metadata carry what it was before.
    assertThat(log).extracting(ChangeEvent::metadataBefore).containsExactly(null, Map.of(), null, null,
        Map.of("project", "p1"), null, Map.of("project", "p2"), null);
    Map<String, String> p1 = Map.of("project", "p1");
    // Starts matching with the Save that set the key; the move to p2 is sent (and leaves), the append under p2 is
    // not; the move back is sent; the Clear of a matching conversation is sent.
    assertThat(selected("filtered", start, p1)).containsExactly(ChangeKind.METADATA_UPDATED, ChangeKind.APPENDED,
        ChangeKind.CACHE_UPDATED, ChangeKind.METADATA_UPDATED, ChangeKind.METADATA_UPDATED, ChangeKind.CLEARED);
    assertThat(log).extracting(e -> e.leaves(p1)).containsExactly(false, false, false, false, true, false, false,
        false);
    assertThat(selected("filtered", start, Map.of("project", "p2"))).containsExactly(ChangeKind.METADATA_UPDATED,
        ChangeKind.APPENDED, ChangeKind.METADATA_UPDATED);
    assertThat(selected("filtered", start, Map.of())).hasSize(log.size());
    assertThat(selected("filtered", start, Map.of("project", "p3"))).isEmpty();
  }

  @Test
  void forkImportAndSweepEntriesRecordTheMetadataTheyWrote() {
    ThreadKey k = key("filtered-source");
    store.save(saveCmd(k, List.of(msg("a", "{}")), Map.of(), Map.of("team", "red")));
    store.fork(new ForkCommand(k, key("filtered-fork"), OptionalLong.empty(), OptionalLong.empty()));
    List<ChangeEvent> fork = changes(ThreadKey.DEFAULT_TENANT, "filtered-fork", 0);
    assertThat(fork).singleElement().satisfies(e -> {
      assertThat(e.metadata()).containsEntry("team", "red").containsEntry(WriteRules.FORKED_FROM, "filtered-source");
      assertThat(e.selectedBy(Map.of("team", "red"))).isTrue();
    });

    assertThat(store.importConversation(importCmd("filtered-import", ExistingPolicy.FAIL, "x")))
        .isEqualTo(ImportOutcome.CREATED);
    ChangeEvent imported = changes(ThreadKey.DEFAULT_TENANT, "filtered-import", 0).get(0);
    assertThat(imported.metadata()).isEqualTo(getAll(key("filtered-import")).summary().metadata());
    assertThat(imported.metadataBefore()).isNull();

    Instant cutoff = after(getAll(key("filtered-fork")).summary().updateTime());
    assertThat(store.sweepIdle(cutoff, 100)).contains(key("filtered-fork"));
    assertThat(changes(ThreadKey.DEFAULT_TENANT, "filtered-fork", fork.get(0).version())).singleElement()
        .satisfies(e -> {
          assertThat(e.kind()).isEqualTo(ChangeKind.CLEARED);
          assertThat(e.metadata()).containsEntry("team", "red");
          assertThat(e.selectedBy(Map.of("team", "red"))).isTrue();
          assertThat(e.leaves(Map.of("team", "red"))).isFalse();
        });
  }

  private List<NewMessage> getAllNewMessages(ThreadKey k) {
    return getAll(k).messages().stream().map(m -> new NewMessage(m.id(), m.json().text())).toList();
  }

  @Test
  void writesThatChangeNothingLogNothing() {
    ThreadKey k = key("quiet");
    AppendResult first = store.append(appendCmd(k, msg("a", "{}")));
    store.append(appendCmd(k, msg("a", "{}")));
    assertThatThrownBy(() -> store.append(appendCmd(k, OptionalLong.of(first.version() + 1000), msg("b", "{}"))))
        .isInstanceOf(VersionMismatchException.class);
    assertThat(store.clear(new ClearCommand(key("never-there"), OptionalLong.empty()))).isFalse();
    assertThat(changes(ThreadKey.DEFAULT_TENANT, "", 0)).extracting(ChangeEvent::version)
        .containsExactly(first.version());
  }

  @Test
  void changesAreReadAfterAVersionPerThreadAndPerTenantOnly() {
    ThreadKey a = key("a");
    ThreadKey b = key("b");
    ThreadKey other = new ThreadKey("other-tenant", "a");
    long v1 = store.append(appendCmd(a, msg("1"))).version();
    long v2 = store.append(appendCmd(b, msg("2"))).version();
    long v3 = store.append(appendCmd(a, msg("3"))).version();
    store.append(appendCmd(other, msg("4")));

    assertThat(changes(ThreadKey.DEFAULT_TENANT, "", 0)).extracting(ChangeEvent::version)
        .containsExactly(v1, v2, v3);
    assertThat(changes(ThreadKey.DEFAULT_TENANT, "", v1)).extracting(ChangeEvent::version).containsExactly(v2, v3);
    assertThat(changes(ThreadKey.DEFAULT_TENANT, "a", 0)).extracting(ChangeEvent::version).containsExactly(v1, v3);
    assertThat(changes(ThreadKey.DEFAULT_TENANT, "a", v3)).isEmpty();
    assertThat(changes("other-tenant", "", 0)).hasSize(1).allMatch(e -> e.key().equals(other));
    assertThat(store.changeFeed().changes(new ChangeQuery(ThreadKey.DEFAULT_TENANT, "", 0, 2)))
        .extracting(ChangeEvent::version).containsExactly(v1, v2);
  }

  @Test
  void prunedChangesAreReportedNeverSkipped() {
    ThreadKey k = key("pruned");
    List<Long> versions = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      versions.add(store.append(appendCmd(k, msg(Integer.toString(i)))).version());
    }
    Instant future = Instant.now().plusSeconds(3600);
    assertThat(store.changeFeed().prune(future, 3)).isEqualTo(3);
    // The first three are gone: from before the third, the log cannot say what happened; from it on, it can.
    assertThatThrownBy(() -> changes(ThreadKey.DEFAULT_TENANT, "", 0))
        .isInstanceOf(ChangeLogPrunedException.class);
    assertThatThrownBy(() -> changes(ThreadKey.DEFAULT_TENANT, "pruned", versions.get(1)))
        .isInstanceOf(ChangeLogPrunedException.class)
        .satisfies(e -> assertThat(((ChangeLogPrunedException) e).prunedThroughVersion()).isEqualTo(versions.get(2)));
    assertThat(changes(ThreadKey.DEFAULT_TENANT, "", versions.get(2))).extracting(ChangeEvent::version)
        .containsExactly(versions.get(3), versions.get(4));
    // Nothing newer than the cut-off goes, and another tenant's log is untouched by this one's pruning mark.
    assertThat(store.changeFeed().prune(Instant.now().minusSeconds(3600), 100)).isZero();
    assertThat(changes("someone-else", "", 0)).isEmpty();
    assertThat(store.changeFeed().prune(future, 100)).isEqualTo(2);
    assertThat(changes(ThreadKey.DEFAULT_TENANT, "", versions.get(4))).isEmpty();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aCommitSignalsTheSubscribersOfItsTenant() throws Exception {
    List<ThreadKey> signalled = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch got = new CountDownLatch(1);
    List<ThreadKey> others = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (ChangeFeed.Subscription s = store.changeFeed().subscribe(ThreadKey.DEFAULT_TENANT, key -> {
          signalled.add(key);
          got.countDown();
        });
        ChangeFeed.Subscription o = store.changeFeed().subscribe("quiet-tenant", others::add)) {
      store.append(appendCmd(key("signalled"), msg("x")));
      assertThat(got.await(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(signalled).contains(key("signalled"));
    assertThat(others).isEmpty();
  }

  @Test
  void updateMetadataForkAndImportSignalTheSubscribersToo() throws Exception {
    ThreadKey k = key("signalled-edit");
    store.append(appendCmd(k, msg("x")));
    java.util.Set<ThreadKey> signalled = java.util.concurrent.ConcurrentHashMap.newKeySet();
    CountDownLatch all = new CountDownLatch(3);
    try (ChangeFeed.Subscription s = store.changeFeed().subscribe(ThreadKey.DEFAULT_TENANT, key -> {
      if (signalled.add(key)) {
        all.countDown();
      }
    })) {
      store.updateMetadata(new UpdateMetadataCommand(k, Map.of("t", "1"), Set.of(), Map.of(), Set.of(),
          OptionalLong.empty()));
      store.fork(new ForkCommand(k, key("signalled-fork"), OptionalLong.empty(), OptionalLong.empty()));
      store.importConversation(importCmd("signalled-import", ExistingPolicy.FAIL, "y"));
      // Without a signal a live watcher would see these only with the next other write.
      assertThat(all.await(30, TimeUnit.SECONDS)).as("signalled: %s", signalled).isTrue();
    }
    assertThat(signalled).contains(k, key("signalled-fork"), key("signalled-import"));
  }

  @Test
  void theChangeLogOutlivesARestart() {
    ThreadKey k = key("kept-log");
    long v1 = store.append(appendCmd(k, msg("1"))).version();
    Optional<ConversationStore> reopened = reopen(store);
    assumeThat(reopened).as("backend keeps data across a restart").isPresent();
    store = track(reopened.get());
    long v2 = store.append(appendCmd(k, msg("2"))).version();
    assertThat(changes(ThreadKey.DEFAULT_TENANT, "kept-log", 0)).extracting(ChangeEvent::version)
        .containsExactly(v1, v2);
  }

  // ---- retention ([retention] max_idle) --------------------------------------------------------------------

  /** Waits (without sleeping) until the clock, at the stores' microsecond resolution, is past {@code t}. */
  private static Instant after(Instant t) {
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    while (!now.isAfter(t)) {
      Thread.onSpinWait();
      now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
    return now;
  }

  /** A reader's view with max_idle one hour at a clock one hour past {@code cutoff}: older updates have expired. */
  private ConversationStore expiringAt(Instant cutoff) {
    return new ExpiringReads(store, Duration.ofHours(1), Clock.fixed(cutoff.plus(Duration.ofHours(1)), ZoneOffset.UTC));
  }

  @Test
  void sweepDeletesIdleConversationsOfEveryTenantAndKeepsRecentOnes() {
    ThreadKey idle = key("idle");
    ThreadKey idleElsewhere = new ThreadKey("tenant-b", "idle");
    ThreadKey recent = key("recent");
    store.save(saveCmd(idle, List.of(msg("a"))));
    store.save(saveCmd(idleElsewhere, List.of(msg("b"))));
    Instant cutoff = after(getAll(idleElsewhere).summary().updateTime());
    store.save(saveCmd(recent, List.of(msg("c"))));

    assertThat(store.sweepIdle(cutoff, 100)).containsExactlyInAnyOrder(idle, idleElsewhere);
    assertThat(store.get(idle, MessageWindow.ALL)).isEmpty();
    assertThat(store.get(idleElsewhere, MessageWindow.ALL)).isEmpty();
    assertThat(getAll(recent).messages()).hasSize(1);
    assertThat(store.sweepIdle(cutoff, 100)).isEmpty();
    assertThat(store.status(ThreadKey.DEFAULT_TENANT).conversations()).isEqualTo(1);
  }

  @Test
  void aSweptConversationTakesAVersionAndLogsCleared() {
    ThreadKey idle = key("idle-logged");
    long saved = store.save(saveCmd(idle, List.of(msg("a"), msg("b")))).version();
    Instant cutoff = after(getAll(idle).summary().updateTime());

    assertThat(store.sweepIdle(cutoff, 100)).containsExactly(idle);
    List<ChangeEvent> logged = changes(ThreadKey.DEFAULT_TENANT, "idle-logged", saved);
    assertThat(logged).singleElement().satisfies(e -> {
      assertThat(e.kind()).isEqualTo(ChangeKind.CLEARED);
      assertThat(e.version()).isGreaterThan(saved);
    });
    // A conversation created again under the thread id gets a version after the sweep's.
    long again = store.save(saveCmd(idle, List.of(msg("c")))).version();
    assertThat(again).isGreaterThan(logged.get(0).version());
  }

  @Test
  void sweepGoesInBatchesOldestFirst() {
    List<ThreadKey> keys = new ArrayList<>();
    Instant last = Instant.EPOCH;
    for (int i = 0; i < 5; i++) {
      after(last);
      ThreadKey k = key("batch-" + i);
      store.save(saveCmd(k, List.of(msg("m" + i))));
      last = getAll(k).summary().updateTime();
      keys.add(k);
    }
    Instant cutoff = after(last);
    store.save(saveCmd(key("batch-recent"), List.of(msg("r"))));

    assertThat(store.sweepIdle(cutoff, 2)).containsExactlyInAnyOrder(keys.get(0), keys.get(1));
    assertThat(store.sweepIdle(cutoff, 2)).containsExactlyInAnyOrder(keys.get(2), keys.get(3));
    assertThat(store.sweepIdle(cutoff, 2)).containsExactly(keys.get(4));
    assertThat(store.sweepIdle(cutoff, 2)).isEmpty();
    assertThat(store.get(key("batch-recent"), MessageWindow.ALL)).isPresent();
  }

  @Test
  void theSweeperRunsBatchAfterBatchUntilNoIdleOneIsLeft() {
    ThreadKey last = null;
    for (int i = 0; i < 5; i++) {
      last = key("swept-" + i);
      store.save(saveCmd(last, List.of(msg("m" + i))));
    }
    Instant cutoff = after(getAll(last).summary().updateTime());
    store.save(saveCmd(key("kept"), List.of(msg("k"))));
    RetentionSweeper sweeper = RetentionSweeper.unscheduled(store, Duration.ofHours(1),
        Clock.fixed(cutoff.plus(Duration.ofHours(1)), ZoneOffset.UTC), 2);

    assertThat(sweeper.sweepNow()).isEqualTo(5);
    assertThat(sweeper.deleted()).isEqualTo(5);
    assertThat(store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, Long.MAX_VALUE, Map.of())))
        .extracting(s -> s.key().threadId()).containsExactly("kept");
  }

  @Test
  void anIdleConversationIsGoneForEveryReaderBeforeTheSweepReachesIt() {
    ThreadKey idle = key("idle-unswept");
    ThreadKey recent = key("recent-read");
    store.save(saveCmd(idle, List.of(msg("zebra"))));
    Instant cutoff = after(getAll(idle).summary().updateTime());
    store.save(saveCmd(recent, List.of(msg("zebra"))));
    ConversationStore view = expiringAt(cutoff);

    assertThat(view.get(idle, MessageWindow.ALL)).isEmpty();
    assertThat(view.get(recent, MessageWindow.ALL)).isPresent();
    assertThat(view.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, Long.MAX_VALUE, Map.of())))
        .extracting(s -> s.key().threadId()).containsExactly("recent-read");
    // A page of one still has the recent conversation: the cutoff is in the query, not applied after the limit.
    assertThat(view.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 1, Long.MAX_VALUE, Map.of())))
        .extracting(s -> s.key().threadId()).containsExactly("recent-read");
    assertThat(view.search(new SearchQuery(ThreadKey.DEFAULT_TENANT, List.of(List.of("zebra")), Map.of(), 10, 0)))
        .extracting(SearchHit::threadId).containsExactly("recent-read");
    assertThat(view.listByThreadId(new ExportQuery(ThreadKey.DEFAULT_TENANT, "", 10, Map.of(), Optional.empty(),
        Optional.empty(), Set.of()))).extracting(s -> s.key().threadId()).containsExactly("recent-read");
    // Not deleted yet: the store itself still holds it until a sweep.
    assertThat(store.get(idle, MessageWindow.ALL)).isPresent();
  }

  // ---- expired conversations are absent to writes; a write's own expiry ---------------------------------------

  /** Waits (spinning, no sleep) until {@code d} has passed since {@code t} at the stores' resolution. */
  private static void past(Instant t, Duration d) {
    after(t.plus(d));
  }

  /** A store where every conversation expires a millisecond after its last update. */
  private ConversationStore idleAfterAMillisecond() {
    return track(newStoreWithRetention(Retention.maxIdle(Duration.ofMillis(1))));
  }

  @Test
  void aSaveExpectingNoConversationReplacesAnIdleOneTheSweepHasNotReached() {
    ConversationStore s = idleAfterAMillisecond();
    ThreadKey k = key("stale-save");
    SaveResult first = s.save(new SaveCommand(k, List.of(msg("old")), Map.of("tokens", 5L), Map.of("m", "1"),
        OptionalLong.empty()));
    past(s.get(k, MessageWindow.ALL).orElseThrow().summary().updateTime(), Duration.ofMillis(2));

    SaveResult again = s.save(saveCmd(k, List.of(msg("new")), OptionalLong.of(0)));

    assertThat(again.created()).isTrue();
    assertThat(again.version()).isGreaterThan(first.version());
    Conversation now = s.get(k, MessageWindow.ALL).orElseThrow();
    assertThat(jsons(now)).containsExactly("{\"n\":\"new\"}");
    assertThat(now.summary().metadata()).isEmpty();
    assertThat(now.summary().cacheInfo()).isEmpty();
    // Watchers see the stale one go and the new one come, in that order.
    assertThat(s.changeFeed().changes(new ChangeQuery(ThreadKey.DEFAULT_TENANT, "stale-save", first.version(), 10)))
        .extracting(ChangeEvent::kind).containsExactly(ChangeKind.CLEARED, ChangeKind.APPENDED);
    // One row left (the stale one went in the Save's transaction), which has expired by now as well.
    assertThat(s.sweepIdle(Instant.now().plus(Duration.ofHours(1)), 100)).containsExactly(k);
  }

  @Test
  void anAppendToAnIdleConversationStartsANewOne() {
    ConversationStore s = idleAfterAMillisecond();
    ThreadKey k = key("stale-append");
    s.append(appendCmd(k, msg("m1", "{\"n\":1}"), msg("", "{\"n\":2}")));
    past(s.get(k, MessageWindow.ALL).orElseThrow().summary().updateTime(), Duration.ofMillis(2));

    // Even a message whose id the stale conversation holds is new: the stale one is gone.
    AppendResult r = s.append(appendCmd(k, msg("m1", "{\"n\":3}")));

    assertThat(r.created()).isTrue();
    assertThat(r.messageCount()).isEqualTo(1);
    assertThat(jsons(s.get(k, MessageWindow.ALL).orElseThrow())).containsExactly("{\"n\":3}");
  }

  @Test
  void writesToAnExistingConversationDoNotFindAnIdleOne() {
    ConversationStore s = idleAfterAMillisecond();
    ThreadKey k = key("stale-update");
    long v = s.save(saveCmd(k, List.of(msg("a")))).version();
    past(s.get(k, MessageWindow.ALL).orElseThrow().summary().updateTime(), Duration.ofMillis(2));

    assertThatThrownBy(() -> s.updateCache(new UpdateCacheCommand(k, Map.of("t", 1L), OptionalLong.of(v))))
        .isInstanceOf(ConversationNotFoundException.class);
    assertThatThrownBy(() -> s.updateMetadata(new UpdateMetadataCommand(k, Map.of("a", "b"), Set.of(), Map.of(),
        Set.of(), OptionalLong.empty()))).isInstanceOf(ConversationNotFoundException.class);
    assertThatThrownBy(() -> s.fork(new ForkCommand(k, key("stale-fork"), OptionalLong.empty(), OptionalLong.empty())))
        .isInstanceOf(ConversationNotFoundException.class);
    // A Clear expecting the stale version is told there is none (version 0), and one expecting none succeeds.
    assertThatThrownBy(() -> s.clear(new ClearCommand(k, OptionalLong.of(v))))
        .isInstanceOf(VersionMismatchException.class);
    assertThat(s.clear(new ClearCommand(k, OptionalLong.of(0)))).isFalse();
    assertThat(s.get(k, MessageWindow.ALL)).isEmpty();
  }

  @Test
  void aRecentConversationIsFoundByWritesUnderRetention() {
    ConversationStore s = track(newStoreWithRetention(Retention.maxIdle(Duration.ofHours(1))));
    ThreadKey k = key("fresh");
    long v = s.save(saveCmd(k, List.of(msg("a")))).version();
    assertThatThrownBy(() -> s.save(saveCmd(k, List.of(msg("b")), OptionalLong.of(0))))
        .isInstanceOf(VersionMismatchException.class);
    assertThat(s.append(appendCmd(k, OptionalLong.of(v), msg("b"))).messageCount()).isEqualTo(2);
  }

  @Test
  void aConversationPastItsOwnExpireTimeIsGoneForReadersAndWritersAndSwept() {
    ThreadKey k = key("ttl");
    ThreadKey kept = key("ttl-kept");
    store.save(new SaveCommand(k, List.of(msg("zebra")), Map.of(), Map.of(), OptionalLong.empty(),
        ExpiryChange.after(Duration.ofMillis(1))));
    store.save(new SaveCommand(kept, List.of(msg("zebra")), Map.of(), Map.of(), OptionalLong.empty(),
        ExpiryChange.after(Duration.ofHours(1))));
    past(getAll(kept).summary().updateTime(), Duration.ofMillis(2));

    assertThat(store.get(k, MessageWindow.ALL)).isEmpty();
    assertThat(store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, Long.MAX_VALUE, Map.of())))
        .extracting(c -> c.key().threadId()).containsExactly("ttl-kept");
    assertThat(store.search(new SearchQuery(ThreadKey.DEFAULT_TENANT, List.of(List.of("zebra")), Map.of(), 10, 0)))
        .extracting(SearchHit::threadId).containsExactly("ttl-kept");
    assertThat(store.listByThreadId(new ExportQuery(ThreadKey.DEFAULT_TENANT, "", 10, Map.of(), Optional.empty(),
        Optional.empty(), Set.of()))).extracting(c -> c.key().threadId()).containsExactly("ttl-kept");
    assertThatThrownBy(() -> store.updateMetadata(new UpdateMetadataCommand(k, Map.of("a", "b"), Set.of(),
        Map.of(), Set.of(), OptionalLong.empty()))).isInstanceOf(ConversationNotFoundException.class);
    // GetServerStatus does not count it either, though it is not deleted yet.
    assertThat(store.status(ThreadKey.DEFAULT_TENANT).conversations()).isEqualTo(1);

    assertThat(store.sweepExpired(100)).containsExactly(k);
    assertThat(store.sweepExpired(100)).isEmpty();
    assertThat(store.status(ThreadKey.DEFAULT_TENANT).conversations()).isEqualTo(1);
  }

  @Test
  void anAppendWithoutAnExpiryChangeKeepsTheExpireTime() {
    ThreadKey k = key("expiry-kept");
    Instant soon = Instant.now().plus(Duration.ofMillis(1)).truncatedTo(ChronoUnit.MICROS);
    store.save(new SaveCommand(k, List.of(msg("a")), Map.of(), Map.of(), OptionalLong.empty(),
        ExpiryChange.at(soon)));
    // Made before it passed, or else a new conversation (created: true) without an expire time.
    boolean appendedToIt = !store.append(appendCmd(k, msg("b"))).created();
    after(soon);

    assertThat(store.get(k, MessageWindow.ALL).isEmpty()).isEqualTo(appendedToIt);
    assertThat(store.sweepExpired(100)).hasSize(appendedToIt ? 1 : 0);
  }

  // ---- the expire time as readers see it, cleared, exported and imported ---------------------------------------

  @Test
  void readersSeeTheExpireTimeAWriteSet() {
    ThreadKey k = key("expire-shown");
    Instant at = Instant.now().plus(Duration.ofDays(3)).truncatedTo(ChronoUnit.MICROS);
    store.save(new SaveCommand(k, List.of(msg("a")), Map.of(), Map.of(), OptionalLong.empty(), ExpiryChange.at(at)));
    store.save(saveCmd(key("no-expiry"), List.of(msg("b"))));

    assertThat(getAll(k).summary().expireTime()).isEqualTo(at);
    assertThat(getAll(key("no-expiry")).summary().expireTime()).isNull();
    assertThat(store.list(new ListQuery(ThreadKey.DEFAULT_TENANT, 10, Long.MAX_VALUE, Map.of())))
        .filteredOn(c -> c.key().equals(k)).singleElement().extracting(ConversationSummary::expireTime)
        .isEqualTo(at);
    assertThat(store.listByThreadId(new ExportQuery(ThreadKey.DEFAULT_TENANT, "", 10, Map.of(), Optional.empty(),
        Optional.empty(), Set.of()))).extracting(ConversationSummary::expireTime).containsExactly(at, null);
  }

  @Test
  void aClearedExpiryKeepsTheConversationPastItsFormerExpireTime() {
    ThreadKey k = key("expiry-cleared");
    ThreadKey other = key("expiry-not-cleared");
    Instant soon = Instant.now().plus(Duration.ofMillis(200)).truncatedTo(ChronoUnit.MICROS);
    store.save(new SaveCommand(k, List.of(msg("a")), Map.of(), Map.of(), OptionalLong.empty(), ExpiryChange.at(soon)));
    store.save(new SaveCommand(other, List.of(msg("a")), Map.of(), Map.of(), OptionalLong.empty(),
        ExpiryChange.at(soon)));
    // Made before it passed, or else a new conversation (created: true), which has no expire time either.
    AppendResult cleared = store.append(new AppendCommand(k, List.of(msg("b")), OptionalLong.empty(),
        ExpiryChange.CLEAR));
    assertThat(getAll(k).summary().expireTime()).isNull();
    long otherVersion = store.updateMetadata(new UpdateMetadataCommand(other, Map.of("k", "v"), Set.of(), Map.of(),
        Set.of(), OptionalLong.empty(), ExpiryChange.CLEAR));
    assertThat(otherVersion).isPositive();
    assertThat(getAll(other).summary().expireTime()).isNull();
    after(soon);

    assertThat(getAll(k).messages()).hasSize(cleared.created() ? 1 : 2);
    assertThat(getAll(other).summary().metadata()).containsEntry("k", "v");
    assertThat(store.sweepExpired(100)).isEmpty();
    // A Save clears it too, and a Save without an expiry change keeps none.
    store.save(new SaveCommand(k, List.of(msg("c")), Map.of(), Map.of(), OptionalLong.empty(),
        ExpiryChange.after(Duration.ofHours(1))));
    assertThat(getAll(k).summary().expireTime()).isNotNull();
    store.save(new SaveCommand(k, List.of(msg("d")), Map.of(), Map.of(), OptionalLong.empty(), ExpiryChange.CLEAR));
    assertThat(getAll(k).summary().expireTime()).isNull();
  }

  @Test
  void importRestoresTheExpireTimeAndComparesIt() {
    Instant at = Instant.now().plus(Duration.ofDays(1)).truncatedTo(ChronoUnit.MICROS);
    NewMessage m = msg("1", "{}");
    assertThat(store.importConversation(importCmd(key("imp-expiry"), List.of(m), Map.of(), Map.of(), at,
        ExistingPolicy.FAIL))).isEqualTo(ImportOutcome.CREATED);
    assertThat(getAll(key("imp-expiry")).summary().expireTime()).isEqualTo(at);
    assertThat(store.importConversation(importCmd(key("imp-expiry"), List.of(m), Map.of(), Map.of(), at,
        ExistingPolicy.FAIL))).isEqualTo(ImportOutcome.UNCHANGED);
    // Another expire time (or none) is another conversation: the policy decides.
    assertThatThrownBy(() -> store.importConversation(importCmd(key("imp-expiry"), List.of(m), Map.of(), Map.of(),
        null, ExistingPolicy.FAIL))).isInstanceOf(ConversationExistsException.class);
    assertThat(store.importConversation(importCmd(key("imp-expiry"), List.of(m), Map.of(), Map.of(),
        at.plus(Duration.ofDays(1)), ExistingPolicy.REPLACE))).isEqualTo(ImportOutcome.REPLACED);
    assertThat(getAll(key("imp-expiry")).summary().expireTime()).isEqualTo(at.plus(Duration.ofDays(1)));
  }

  @Test
  void anImportOfAnExpiredRecordStoresNothingAndLeavesAStoredOneAlone() {
    Instant past = Instant.now().minus(Duration.ofMinutes(1)).truncatedTo(ChronoUnit.MICROS);
    NewMessage m = msg("1", "{}");
    assertThat(store.importConversation(importCmd(key("imp-expired"), List.of(m), Map.of(), Map.of(), past,
        ExistingPolicy.REPLACE))).isEqualTo(ImportOutcome.EXPIRED);
    assertThat(store.get(key("imp-expired"), MessageWindow.ALL)).isEmpty();
    assertThat(store.sweepExpired(100)).isEmpty();

    long v = store.save(saveCmd(key("imp-live"), List.of(msg("live")))).version();
    assertThat(store.importConversation(importCmd(key("imp-live"), List.of(m), Map.of(), Map.of(), past,
        ExistingPolicy.REPLACE))).isEqualTo(ImportOutcome.EXPIRED);
    assertThat(getAll(key("imp-live")).summary().version()).isEqualTo(v);
  }

  // ---- per-tenant max_idle ---------------------------------------------------------------------------------

  @Test
  void eachTenantExpiresByItsOwnMaxIdleOrTheServerWideOne() {
    ThreadKey oldDefault = key("old");
    ThreadKey oldLonger = new ThreadKey("tenant-longer", "old");
    ThreadKey oldOff = new ThreadKey("tenant-off", "old");
    store.save(saveCmd(oldDefault, List.of(msg("zebra"))));
    store.save(saveCmd(oldLonger, List.of(msg("zebra"))));
    store.save(saveCmd(oldOff, List.of(msg("zebra"))));
    Instant cutoff = after(getAll(oldOff).summary().updateTime());
    ThreadKey recentDefault = key("recent");
    ThreadKey recentShorter = new ThreadKey("tenant-shorter", "recent");
    store.save(saveCmd(recentDefault, List.of(msg("zebra"))));
    store.save(saveCmd(recentShorter, List.of(msg("zebra"))));
    // At cutoff + 1 h: the server-wide max_idle (1 h) expires what was updated before the cutoff; tenant-longer's
    // (2 h) nothing; tenant-off's never; tenant-shorter's (30 min) everything it has.
    Retention retention = new Retention(Optional.of(Duration.ofHours(1)), Map.of(
        "tenant-longer", Optional.of(Duration.ofHours(2)), "tenant-off", Optional.empty(),
        "tenant-shorter", Optional.of(Duration.ofMinutes(30))));
    Clock clock = Clock.fixed(cutoff.plus(Duration.ofHours(1)), ZoneOffset.UTC);
    ConversationStore view = new ExpiringReads(store, retention, clock);

    assertThat(view.get(oldDefault, MessageWindow.ALL)).isEmpty();
    assertThat(view.get(oldLonger, MessageWindow.ALL)).isPresent();
    assertThat(view.get(oldOff, MessageWindow.ALL)).isPresent();
    assertThat(view.get(recentDefault, MessageWindow.ALL)).isPresent();
    assertThat(view.get(recentShorter, MessageWindow.ALL)).isEmpty();
    assertThat(view.list(new ListQuery("tenant-shorter", 10, Long.MAX_VALUE, Map.of()))).isEmpty();
    assertThat(view.list(new ListQuery("tenant-off", 10, Long.MAX_VALUE, Map.of()))).hasSize(1);
    assertThat(view.search(new SearchQuery(ThreadKey.DEFAULT_TENANT, List.of(List.of("zebra")), Map.of(), 10, 0)))
        .extracting(SearchHit::threadId).containsExactly("recent");

    RetentionSweeper sweeper = RetentionSweeper.unscheduled(store, retention, clock, 1);
    assertThat(sweeper.sweepNow()).isEqualTo(2);
    assertThat(store.get(oldDefault, MessageWindow.ALL)).isEmpty();
    assertThat(store.get(recentShorter, MessageWindow.ALL)).isEmpty();
    assertThat(store.get(oldLonger, MessageWindow.ALL)).isPresent();
    assertThat(store.get(oldOff, MessageWindow.ALL)).isPresent();
    assertThat(store.get(recentDefault, MessageWindow.ALL)).isPresent();
    assertThat(sweeper.sweepNow()).isZero();
  }

  @Test
  void theIdleSweepOfOneScopeLeavesTheOtherTenantsAlone() {
    ThreadKey a = new ThreadKey("tenant-a", "idle");
    ThreadKey b = new ThreadKey("tenant-b", "idle");
    ThreadKey c = new ThreadKey("tenant-c", "idle");
    store.save(saveCmd(a, List.of(msg("a"))));
    store.save(saveCmd(b, List.of(msg("b"))));
    store.save(saveCmd(c, List.of(msg("c"))));
    Instant cutoff = after(getAll(c).summary().updateTime());

    assertThat(store.sweepIdle(cutoff, TenantScope.only("tenant-b"), 100)).containsExactly(b);
    assertThat(store.sweepIdle(cutoff, TenantScope.allExcept(Set.of("tenant-a")), 100)).containsExactly(c);
    assertThat(store.get(a, MessageWindow.ALL)).isPresent();
    assertThat(store.sweepIdle(cutoff, TenantScope.allExcept(Set.of("tenant-a", "tenant-x")), 100)).isEmpty();
    assertThat(store.sweepIdle(cutoff, TenantScope.ALL, 100)).containsExactly(a);
  }

  @Test
  void writesSeeATenantsOwnMaxIdle() {
    ConversationStore s = track(newStoreWithRetention(new Retention(Optional.of(Duration.ofMillis(1)),
        Map.of("tenant-off", Optional.empty(), "tenant-hour", Optional.of(Duration.ofHours(1))))));
    ThreadKey expiring = key("w-expiring");
    ThreadKey off = new ThreadKey("tenant-off", "w-kept");
    ThreadKey hour = new ThreadKey("tenant-hour", "w-kept");
    s.append(appendCmd(expiring, msg("1")));
    s.append(appendCmd(off, msg("1")));
    s.append(appendCmd(hour, msg("1")));
    past(s.get(hour, MessageWindow.ALL).orElseThrow().summary().updateTime(), Duration.ofMillis(2));

    assertThat(s.append(appendCmd(expiring, msg("2"))).created()).isTrue();
    assertThat(s.append(appendCmd(off, msg("2"))).messageCount()).isEqualTo(2);
    assertThat(s.append(appendCmd(hour, msg("2"))).messageCount()).isEqualTo(2);
  }
}

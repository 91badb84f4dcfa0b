package io.vmpilot.conversation.server.store.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.store.Conversation;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.Retention;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.ForkCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateMetadataCommand;
import io.vmpilot.conversation.server.store.error.StorageFullException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The memory backend's budget ({@code [memory] max_bytes}): refused before the heap fills, and a Clear makes room. */
class MemoryBudgetTest {
  private static final long BUDGET = 256 * 1024;
  private static final String SECRET = "secret-user-text-";

  private final MemoryConversationStore store =
      new MemoryConversationStore(1L << 30, Long.MAX_VALUE, Retention.NONE, BUDGET);

  private static ThreadKey key(String id) {
    return new ThreadKey(ThreadKey.DEFAULT_TENANT, id);
  }

  private static NewMessage message(String id, int chars) {
    String json = "{\"text\":\"" + SECRET + "x".repeat(chars) + "\"}";
    return new NewMessage(id, json, json.getBytes(StandardCharsets.UTF_8).length);
  }

  private static AppendCommand append(ThreadKey key, NewMessage m) {
    return new AppendCommand(key, List.of(m), OptionalLong.empty());
  }

  private Conversation get(ThreadKey key) {
    return store.get(key, MessageWindow.ALL).orElseThrow();
  }

  private static List<String> texts(Conversation c) {
    return c.messages().stream().map(StoredMessage::json).map(Object::toString).toList();
  }

  /** Appends 8 KiB messages to "big" until one is refused; returns the refusal. */
  private StorageFullException fillUp() {
    for (int i = 0; i < 1000; i++) {
      try {
        store.append(append(key("big"), message("m" + i, 8192)));
      } catch (StorageFullException full) {
        return full;
      }
    }
    throw new AssertionError("1,000 appends of 8 KiB were never refused by a budget of " + BUDGET);
  }

  @Test
  void writesPastTheBudgetAreRefusedWithoutChangingAnythingAndAClearMakesRoom() {
    store.save(new SaveCommand(key("keep"), List.of(message("k0", 100), message("k1", 100)), Map.of("turns", 2L),
        Map.of("owner", "ops"), OptionalLong.empty()));
    Conversation keep = get(key("keep"));
    long keepVersion = keep.summary().version();

    StorageFullException full = fillUp();
    assertThat(full.getMessage()).contains(Long.toString(BUDGET)).contains("[memory] max_bytes")
        .doesNotContain(SECRET);
    assertThat(store.usedBytes()).isLessThanOrEqualTo(BUDGET);
    assertThat(full.getMessage()).contains("holds about " + store.usedBytes() + " bytes");

    Conversation bigBefore = get(key("big"));
    long used = store.usedBytes();
    // Each kind of growing write is refused, and leaves everything as it was.
    assertThatThrownBy(() -> store.append(append(key("big"), message("more", 8192))))
        .isInstanceOf(StorageFullException.class);
    assertThatThrownBy(() -> store.append(append(key("new"), message("n0", 8192))))
        .isInstanceOf(StorageFullException.class);
    List<NewMessage> longer = new ArrayList<>(List.of(message("k0", 100), message("k1", 100)));
    longer.add(message("k2", 64 * 1024));
    assertThatThrownBy(() -> store.save(new SaveCommand(key("keep"), longer, Map.of("turns", 3L),
        Map.of("owner", "someone-else"), OptionalLong.empty()))).isInstanceOf(StorageFullException.class);
    assertThatThrownBy(() -> store.fork(new ForkCommand(key("big"), key("copy"), OptionalLong.empty(),
        OptionalLong.empty()))).isInstanceOf(StorageFullException.class);
    assertThatThrownBy(() -> store.updateMetadata(new UpdateMetadataCommand(key("keep"),
        Map.of("note", "y".repeat(64 * 1024)), Set.of("owner"), Map.of(), Set.of(), OptionalLong.empty())))
        .isInstanceOf(StorageFullException.class);

    assertThat(store.usedBytes()).isEqualTo(used);
    assertThat(store.get(key("new"), MessageWindow.ALL)).isEmpty();
    assertThat(store.get(key("copy"), MessageWindow.ALL)).isEmpty();
    Conversation keepAfter = get(key("keep"));
    assertThat(texts(keepAfter)).isEqualTo(texts(keep));
    assertThat(keepAfter.summary().version()).isEqualTo(keepVersion);
    assertThat(keepAfter.summary().metadata()).isEqualTo(Map.of("owner", "ops"));
    assertThat(keepAfter.summary().cacheInfo()).isEqualTo(Map.of("turns", 2L));
    Conversation bigAfter = get(key("big"));
    assertThat(texts(bigAfter)).isEqualTo(texts(bigBefore));
    assertThat(bigAfter.summary().version()).isEqualTo(bigBefore.summary().version());

    // A replay of a stored message stores nothing, so it still succeeds; so do writes that free space.
    assertThat(store.append(append(key("big"), message("m0", 8192))).appendedCount()).isZero();
    store.save(new SaveCommand(key("keep"), List.of(message("k0", 100)), Map.of(), Map.of(), OptionalLong.empty()));
    assertThat(texts(get(key("keep")))).hasSize(1);
    assertThat(store.clear(new ClearCommand(key("big"), OptionalLong.empty()))).isTrue();

    assertThat(store.usedBytes()).isLessThan(BUDGET / 2);
    store.append(append(key("new"), message("n0", 8192)));
    assertThat(texts(get(key("new")))).hasSize(1);
    assertThat(fillUp()).isInstanceOf(StorageFullException.class);
  }

  @Test
  void whatTheStoreHoldsIsCountedAndGoesBackToNothingWhenEmptied() {
    MemoryConversationStore unbounded =
        new MemoryConversationStore(1L << 30, Long.MAX_VALUE, Retention.NONE, Long.MAX_VALUE, 1);
    long empty = unbounded.usedBytes();
    unbounded.append(append(key("a"), message("a0", 10_000)));
    // At least the JSON itself, and the change log's entry holding it too.
    assertThat(unbounded.usedBytes() - empty).isGreaterThan(10_000);
    unbounded.clear(new ClearCommand(key("a"), OptionalLong.empty()));
    // The Clear's own entry pushed the append's out of the one-entry change log.
    assertThat(unbounded.usedBytes() - empty).isLessThan(1_000);
  }

  /**
   * Each change-log entry keeps a copy of the conversation's metadata, so rewriting one big value over and over kept
   * every old value in the heap though the conversation holds one: the log counts its copies, and gives way.
   */
  @Test
  void oldMetadataValuesTheChangeLogKeepsAreCountedAndTheLogGivesWay() {
    store.save(new SaveCommand(key("meta"), List.of(message("a", 10)), Map.of(), Map.of("big", "v".repeat(16 * 1024)),
        OptionalLong.empty()));
    for (int i = 0; i < 100; i++) {
      store.updateMetadata(new UpdateMetadataCommand(key("meta"), Map.of("big", i + "w".repeat(16 * 1024)),
          Set.of(), Map.of(), Set.of(), OptionalLong.empty()));
      assertThat(store.usedBytes()).isLessThanOrEqualTo(BUDGET);
    }
    // 100 entries of 32 KiB of metadata each (before and after) do not fit in 256 KiB: the oldest went.
    assertThatThrownBy(() -> store.changeFeed().changes(
        new io.vmpilot.conversation.server.store.ChangeQuery(ThreadKey.DEFAULT_TENANT, "meta", 0, 1000)))
        .isInstanceOf(io.vmpilot.conversation.server.store.error.ChangeLogPrunedException.class);
    assertThat(get(key("meta")).summary().metadata().get("big")).startsWith("99w");
  }
}

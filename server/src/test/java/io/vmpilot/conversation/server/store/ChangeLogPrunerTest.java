package io.vmpilot.conversation.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.error.ChangeLogPrunedException;
import io.vmpilot.conversation.server.store.memory.MemoryConversationStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The pruner's batches and window, over the memory store's log. */
class ChangeLogPrunerTest {
  private final MemoryConversationStore store = new MemoryConversationStore(1 << 20);

  private long append(int i) {
    return store.append(new AppendCommand(ThreadKey.of("t"), List.of(new NewMessage("", "{\"i\":" + i + "}")),
        OptionalLong.empty())).version();
  }

  @Test
  void prunesBatchAfterBatchEverythingOlderThanTheWindowAndNothingNewer() {
    int n = ChangeLogPruner.BATCH * 2 + 7;
    long last = 0;
    for (int i = 0; i < n; i++) {
      last = append(i);
    }
    Clock now = Clock.systemUTC();
    try (ChangeLogPruner inWindow = ChangeLogPruner.unscheduled(store.changeFeed(), Duration.ofHours(1), now)) {
      assertThat(inWindow.pruneNow()).isZero();
    }
    Clock later = Clock.fixed(Instant.now().plus(Duration.ofHours(2)), ZoneOffset.UTC);
    try (ChangeLogPruner pastWindow = ChangeLogPruner.unscheduled(store.changeFeed(), Duration.ofHours(1), later)) {
      assertThat(pastWindow.pruneNow()).isEqualTo(n);
    }
    assertThatThrownBy(() -> store.changeFeed().changes(new ChangeQuery(ThreadKey.DEFAULT_TENANT, "", 0, 10)))
        .isInstanceOf(ChangeLogPrunedException.class);
    assertThat(store.changeFeed().changes(new ChangeQuery(ThreadKey.DEFAULT_TENANT, "", last, 10))).isEmpty();
  }

  @Test
  void runsAtATenthOfTheWindowBetweenOneSecondAndOneMinute() {
    assertThat(ChangeLogPruner.interval(Duration.ofSeconds(3))).isEqualTo(Duration.ofSeconds(1));
    assertThat(ChangeLogPruner.interval(Duration.ofMinutes(5))).isEqualTo(Duration.ofSeconds(30));
    assertThat(ChangeLogPruner.interval(Duration.ofDays(1))).isEqualTo(Duration.ofMinutes(1));
  }
}

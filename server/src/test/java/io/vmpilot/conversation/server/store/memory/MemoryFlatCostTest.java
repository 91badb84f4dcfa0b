package io.vmpilot.conversation.server.store.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.store.ChangeEvent;
import io.vmpilot.conversation.server.store.ChangeQuery;
import io.vmpilot.conversation.server.store.ConversationSummary;
import io.vmpilot.conversation.server.store.ListQuery;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.Retention;
import io.vmpilot.conversation.server.store.SearchQuery;
import io.vmpilot.conversation.server.store.StoreStatus;
import io.vmpilot.conversation.server.store.TenantScope;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.ExpiryChange;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.Test;

/**
 * The memory backend's reads and sweeps cost what they return, not what the store holds: each runs under the
 * store's one lock, so a scan of every conversation stalled every write for its length. Counted as the
 * conversations a call looks at ({@link MemoryConversationStore#conversationsRead}), with a small tenant beside
 * one that holds few or many conversations (and change-log entries).
 */
class MemoryFlatCostTest {
  private static final String SMALL = "small";
  private static final String BIG = "big";
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  /** A clock the test moves. */
  private static final class MovableClock extends Clock {
    Instant now = T0;

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  /**
   * A store with max_idle one day for SMALL only, where BIG has {@code bigCount} conversations (half of them with
   * an expire time of their own, all idle for longer than SMALL's max_idle) and SMALL has 5, one of which expired.
   */
  private static MemoryConversationStore store(MovableClock clock, int bigCount) {
    Retention retention = new Retention(java.util.Optional.empty(),
        Map.of(SMALL, java.util.Optional.of(Duration.ofDays(1))));
    MemoryConversationStore s = new MemoryConversationStore(1 << 20, Long.MAX_VALUE, retention, clock, 1000);
    for (int i = 0; i < bigCount; i++) {
      ExpiryChange expiry = i % 2 == 0 ? ExpiryChange.at(T0.plus(Duration.ofDays(30))) : ExpiryChange.KEEP;
      s.save(save(BIG, "b" + i, expiry));
    }
    clock.now = T0.plus(Duration.ofDays(2));
    s.save(save(SMALL, "gone", ExpiryChange.at(clock.now.plusSeconds(1))));
    for (int i = 0; i < 4; i++) {
      s.save(save(SMALL, "s" + i, ExpiryChange.KEEP));
    }
    clock.now = clock.now.plusSeconds(2);
    return s;
  }

  private static SaveCommand save(String tenant, String threadId, ExpiryChange expiry) {
    return new SaveCommand(new ThreadKey(tenant, threadId),
        List.of(new NewMessage("m", "{\"text\":\"hello " + threadId + "\"}")), Map.of(), Map.of(),
        OptionalLong.empty(), expiry);
  }

  /** How many conversations {@code call} looks at in a store where BIG holds 10, and in one where it holds 20,000. */
  private static long[] readsAt10And20000(ToLongFunction<MemoryConversationStore> call) {
    long[] reads = new long[2];
    int[] sizes = {10, 20_000};
    for (int i = 0; i < 2; i++) {
      MemoryConversationStore s = store(new MovableClock(), sizes[i]);
      long before = s.conversationsRead();
      call.applyAsLong(s);
      reads[i] = s.conversationsRead() - before;
    }
    return reads;
  }

  @Test
  void statusOfATenantLooksOnlyAtItsExpiredConversations() {
    MemoryConversationStore s = store(new MovableClock(), 100);
    StoreStatus status = s.status(SMALL);
    assertThat(status.conversations()).as("the expired one is left out").isEqualTo(4);
    assertThat(status.messages()).isEqualTo(4);
    assertThat(s.status(BIG).conversations()).isEqualTo(100);
    assertThat(readsAt10And20000(m -> m.status(SMALL).conversations())).containsExactly(1, 1);
  }

  @Test
  void storeTotalsReadNoConversation() {
    MemoryConversationStore s = store(new MovableClock(), 100);
    assertThat(s.stats().conversations()).isEqualTo(105);
    assertThat(s.stats().messages()).isEqualTo(105);
    assertThat(readsAt10And20000(m -> m.stats().messages())).containsExactly(0, 0);
  }

  @Test
  void aPageOfListLooksAtThePageOnly() {
    MemoryConversationStore s = store(new MovableClock(), 100);
    List<ConversationSummary> page = s.list(new ListQuery(BIG, 10, Long.MAX_VALUE, Map.of()));
    assertThat(page).extracting(c -> c.key().threadId()).startsWith("b99", "b98").hasSize(10);
    List<ConversationSummary> next = s.list(new ListQuery(BIG, 10, page.get(9).version(), Map.of()));
    assertThat(next.get(0).key().threadId()).isEqualTo("b89");
    assertThat(readsAt10And20000(m -> m.list(new ListQuery(BIG, 10, Long.MAX_VALUE, Map.of())).size()))
        .containsExactly(10, 10);
    assertThat(readsAt10And20000(m -> m.list(new ListQuery(SMALL, 10, Long.MAX_VALUE, Map.of())).size()))
        .as("the expired one is looked at and left out").containsExactly(5, 5);
  }

  @Test
  void searchLooksOnlyAtItsTenantsConversations() {
    assertThat(readsAt10And20000(m -> m.search(new SearchQuery(SMALL, List.of(List.of("hello")), Map.of(), 10, 0))
        .size())).containsExactly(5, 5);
  }

  @Test
  void sweepsLookOnlyAtWhatTheyDelete() {
    MemoryConversationStore s = store(new MovableClock(), 100);
    assertThat(s.sweepExpired(100)).containsExactly(new ThreadKey(SMALL, "gone"));
    assertThat(s.sweepIdle(T0.plus(Duration.ofDays(1)), TenantScope.only(SMALL), 100)).isEmpty();
    assertThat(s.sweepIdle(T0.plus(Duration.ofDays(1)), TenantScope.allExcept(java.util.Set.of(SMALL)), 3))
        .hasSize(3).allMatch(k -> k.tenant().equals(BIG));
    long[] expired = readsAt10And20000(m -> m.sweepExpired(100).size());
    long[] idleSmall = readsAt10And20000(m -> m.sweepIdle(T0.plus(Duration.ofDays(1)), TenantScope.only(SMALL),
        100).size());
    assertThat(expired[1]).as("reads by the expired sweep").isEqualTo(expired[0]);
    assertThat(idleSmall[1]).as("reads by SMALL's idle sweep").isEqualTo(idleSmall[0]);
  }

  @Test
  void aWatchersReadOfTheChangeLogLooksOnlyAtItsTenantsEntriesAfterItsVersion() {
    long[][] reads = new long[2][];
    int[] sizes = {10, 20_000};
    for (int i = 0; i < 2; i++) {
      MemoryConversationStore s = new MemoryConversationStore(1 << 20, Long.MAX_VALUE, Retention.NONE,
          Clock.systemUTC(), 30_000);
      long last = 0;
      for (int j = 0; j < sizes[i]; j++) {
        last = s.save(save(BIG, "b" + j, ExpiryChange.KEEP)).version();
      }
      for (int j = 0; j < 5; j++) {
        s.save(save(SMALL, "s" + j, ExpiryChange.KEEP));
      }
      long before = s.changeEntriesRead();
      assertThat(s.changeFeed().changes(new ChangeQuery(SMALL, "", 0, 100))).hasSize(5);
      long small = s.changeEntriesRead() - before;
      assertThat(s.changeFeed().changes(new ChangeQuery(BIG, "", last - 3, 100)))
          .extracting(ChangeEvent::version).containsExactly(last - 2, last - 1, last);
      reads[i] = new long[] {small, s.changeEntriesRead() - before - small};
    }
    assertThat(reads[0]).containsExactly(5, 3);
    assertThat(reads[1]).containsExactly(5, 3);
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log is synced after writes, not while nothing is written, and a failed sync leaves its writes counted and its
 * failure reported (for health) until a sync succeeds.
 */
class PeriodicLogSyncTest {
  private static final long INTERVAL_MILLIS = 5;

  private final AtomicLong committed = new AtomicLong(7);
  private final AtomicInteger syncCalls = new AtomicInteger();
  private final AtomicBoolean failing = new AtomicBoolean();
  private final LogSync log = () -> {
    syncCalls.incrementAndGet();
    if (failing.get()) {
      throw new IOException("disk gone");
    }
  };

  @Test
  void syncsOnlyWhenSomethingWasCommittedSinceTheLastSync() {
    try (PeriodicLogSync sync = PeriodicLogSync.start(log, committed::get, INTERVAL_MILLIS)) {
      waitForPasses(sync, 3);
      assertThat(syncCalls).as("what was there at start needs no sync").hasValue(0);
      assertThat(sync.unsyncedWrites()).isZero();

      committed.addAndGet(2);
      assertThat(sync.unsyncedWrites()).isEqualTo(2);
      waitUntil(() -> sync.syncs() == 1, "a sync after two writes");
      assertThat(sync.unsyncedWrites()).isZero();
      waitForPasses(sync, 3);
      assertThat(syncCalls).as("no writes since: no more syncs").hasValue(1);
    }
  }

  @Test
  void aFailedSyncLeavesItsWritesUnsyncedAndIsRetried() {
    failing.set(true);
    try (PeriodicLogSync sync = PeriodicLogSync.start(log, committed::get, INTERVAL_MILLIS)) {
      committed.incrementAndGet();
      waitUntil(() -> syncCalls.get() >= 2, "the failed sync tried again");
      assertThat(sync.syncs()).isZero();
      assertThat(sync.unsyncedWrites()).isEqualTo(1);
      assertThat(sync.failure()).contains("disk gone");

      failing.set(false);
      waitUntil(() -> sync.syncs() == 1, "a sync once the disk takes it");
      assertThat(sync.unsyncedWrites()).isZero();
      assertThat(sync.failure()).isNull();
    }
  }

  /** Through the store: writes at normal do not wait for the sync, but health fails while it does. */
  @Test
  void theStoreAnswersWritesButIsUnhealthyWhileTheLogSyncFails(@TempDir Path dir) {
    failing.set(true);
    SqliteSettings settings = new SqliteSettings(dir.resolve("c.db"), Durability.NORMAL, 5000, 2, 16, 1 << 20);
    try (SqliteConversationStore store = SqliteConversationStore.open(settings, log)) {
      store.append(new AppendCommand(ThreadKey.of("t"), List.of(new NewMessage("m1", "{}")), OptionalLong.empty()));
      // Until the health check, not until the sync was called: the failure is recorded only after the call.
      waitUntil(() -> unhealthy(store), "health to fail while the periodic sync fails");
      assertThat(syncCalls).hasPositiveValue();
      assertThatThrownBy(store::checkHealth).isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("syncing the write-ahead log fails").hasMessageContaining("disk gone");
      assertThat(store.stats().unsyncedWrites()).isEqualTo(1);

      failing.set(false);
      waitUntil(() -> store.stats().unsyncedWrites() == 0, "a sync once the disk takes it");
      store.checkHealth();
    }
  }

  private static boolean unhealthy(SqliteConversationStore store) {
    try {
      store.checkHealth();
      return false;
    } catch (StoreUnavailableException e) {
      return true;
    }
  }

  private static void waitForPasses(PeriodicLogSync sync, int passes) {
    long target = sync.passes() + passes;
    waitUntil(() -> sync.passes() >= target, passes + " passes");
  }

  private static void waitUntil(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting for %s", what).isLessThan(deadline);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }
}

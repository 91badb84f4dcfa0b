package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The log is synced after writes, not while nothing is written, and a failed sync leaves its writes counted. */
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

      failing.set(false);
      waitUntil(() -> sync.syncs() == 1, "a sync once the disk takes it");
      assertThat(sync.unsyncedWrites()).isZero();
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

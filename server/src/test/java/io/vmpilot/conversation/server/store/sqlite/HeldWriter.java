package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a store's one writer busy with a task of its own, so that the writes a test queues meanwhile (each from a
 * {@link Submitter}, parked once queued) run as one batch when it is released.
 */
final class HeldWriter {
  private final CountDownLatch release = new CountDownLatch(1);
  private final Submitter<Object> blocker;

  private HeldWriter(GroupCommitWriter writer) throws InterruptedException {
    CountDownLatch running = new CountDownLatch(1);
    blocker = Submitter.startAndAwaitParked("blocker", () -> writer.submit(tx -> {
      running.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      tx.nextVersion(); // a real mutation, so that its batch commits
      return null;
    }));
    assertThat(running.await(30, TimeUnit.SECONDS)).as("the writer took the blocking task").isTrue();
  }

  /** Returns once the store's writer runs the blocking task. */
  static HeldWriter hold(SqliteConversationStore s) throws ReflectiveOperationException, InterruptedException {
    return new HeldWriter(writerOf(s));
  }

  static GroupCommitWriter writerOf(SqliteConversationStore s) throws ReflectiveOperationException {
    Field f = SqliteConversationStore.class.getDeclaredField("writer");
    f.setAccessible(true);
    return (GroupCommitWriter) f.get(s);
  }

  /** Lets the writer go on (to the writes queued meanwhile) and waits for the blocking task's own commit. */
  void release() throws InterruptedException {
    release.countDown();
    blocker.result();
  }
}

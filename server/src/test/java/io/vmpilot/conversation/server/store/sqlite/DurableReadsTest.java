package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.store.AppendResult;
import io.vmpilot.conversation.server.store.Conversation;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * With durability=full a reader is never shown a write that is committed but not yet synced, which a power loss
 * could still take back: the read answers once the sync that covers it is done. Before, commits were visible to
 * readers as soon as the writer committed.
 */
@Timeout(60)
class DurableReadsTest {
  @TempDir
  Path dir;

  /** A log sync the test holds until {@link #release}. */
  private static final class HeldSync implements LogSync {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public void sync() throws InterruptedIOException {
      entered.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new InterruptedIOException();
      }
    }
  }

  @Test
  void aReadOfACommittedWriteAnswersOnlyOnceItsSyncIsDone() throws Exception {
    HeldSync sync = new HeldSync();
    SqliteSettings settings = new SqliteSettings(dir.resolve("durable.db"), Durability.FULL, 5000, 2, 64, 1 << 20);
    ThreadKey key = ThreadKey.of("t");
    try (SqliteConversationStore store = SqliteConversationStore.open(settings, sync)) {
      CompletableFuture<AppendResult> write = store.appendAsync(new AppendCommand(key,
          List.of(new NewMessage("m1", "{\"role\":\"user\"}")), OptionalLong.empty()));
      assertThat(sync.entered.await(30, TimeUnit.SECONDS)).as("the write is committed and its sync started").isTrue();

      Submitter<Optional<Conversation>> read = Submitter.startAndAwaitParked("read",
          () -> store.get(key, MessageWindow.ALL));
      assertThat(read.isAlive()).as("the read waits for the sync").isTrue();
      assertThat(write).isNotDone();

      sync.release.countDown();
      assertThat(write.get(30, TimeUnit.SECONDS).messageCount()).isEqualTo(1);
      assertThat(read.result()).hasValueSatisfying(c -> assertThat(c.messages()).hasSize(1));
    }
  }

  @Test
  void withDurabilityNormalReadsDoNotWait() throws Exception {
    SqliteSettings settings = new SqliteSettings(dir.resolve("normal.db"), Durability.NORMAL, 5000, 2, 64, 1 << 20);
    ThreadKey key = ThreadKey.of("t");
    try (SqliteConversationStore store = SqliteConversationStore.open(settings)) {
      store.append(new AppendCommand(key, List.of(new NewMessage("m1", "{}")), OptionalLong.empty()));
      assertThat(store.get(key, MessageWindow.ALL)).hasValueSatisfying(c -> assertThat(c.messages()).hasSize(1));
    }
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One database file, one server: a second store on the same file is refused until the first is closed. */
class DatabaseLockTest {
  @TempDir
  Path dir;

  private SqliteSettings settings(Path file) {
    return new SqliteSettings(file, Durability.FULL, 5000, 2, 64, 1 << 20);
  }

  @Test
  void aSecondStoreOnTheSameFileIsRefusedUntilTheFirstIsClosed() {
    Path file = dir.resolve("one.db");
    ThreadKey key = ThreadKey.of("t");
    long version;
    try (SqliteConversationStore first = SqliteConversationStore.open(settings(file))) {
      version = first.append(new AppendCommand(key, List.of(new NewMessage("m1", "{}")), OptionalLong.empty()))
          .version();
      assertThatThrownBy(() -> SqliteConversationStore.open(settings(file)))
          .hasMessageContaining("in use by another conversation server")
          .hasMessageContaining("one.db.lock");
      // The refused open changed nothing: the first store goes on writing.
      assertThat(first.updateCache(new UpdateCacheCommand(key, Map.of("n", 2L), OptionalLong.of(version)))).isGreaterThan(version);
    }
    try (SqliteConversationStore second = SqliteConversationStore.open(settings(file))) {
      assertThat(second.get(key, MessageWindow.ALL)).get()
          .satisfies(c -> assertThat(c.summary().version()).isGreaterThan(version));
    }
  }

  @Test
  void aSymbolicLinkToTheFileIsTheSameFile() throws Exception {
    Path file = dir.resolve("real.db");
    try (SqliteConversationStore first = SqliteConversationStore.open(settings(file))) {
      Path link = Files.createSymbolicLink(dir.resolve("link.db"), file);
      assertThat(DatabaseLock.lockFileOf(link)).isEqualTo(DatabaseLock.lockFileOf(file));
      assertThatThrownBy(() -> SqliteConversationStore.open(settings(link)))
          .hasMessageContaining("in use by another conversation server");
    }
  }

  @Test
  void differentFilesInOneDirectoryDoNotShareALock() {
    try (SqliteConversationStore a = SqliteConversationStore.open(settings(dir.resolve("a.db")));
        SqliteConversationStore b = SqliteConversationStore.open(settings(dir.resolve("b.db")))) {
      assertThat(List.of(a, b)).doesNotContainNull();
    }
  }
}

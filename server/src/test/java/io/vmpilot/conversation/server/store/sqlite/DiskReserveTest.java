package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.store.error.StorageFullException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reserve file's life: written, given up, written again; and what it says about a full disk. */
class DiskReserveTest {
  @TempDir
  Path dir;

  @Test
  void theReserveIsWrittenGivenUpAndWrittenAgain() throws Exception {
    DiskReserve reserve = new DiskReserve(dir.resolve("c.db"), 3 * (1 << 20) + 5);
    assertThat(reserve.file()).isEqualTo(dir.resolve("c.db.reserve").toAbsolutePath());
    assertThat(reserve.ensure()).isTrue();
    assertThat(Files.size(reserve.file())).isEqualTo(3 * (1 << 20) + 5);
    reserve.checkNotFull(); // a roomy disk

    assertThat(reserve.release()).isTrue();
    assertThat(reserve.file()).doesNotExist();
    assertThat(reserve.release()).as("nothing left to give up").isFalse();

    reserve.checkNotFull(); // writes it again, there is room
    assertThat(Files.size(reserve.file())).isEqualTo(3 * (1 << 20) + 5);

    // A short file (a crash while writing it) is written whole again.
    Files.write(reserve.file(), new byte[10]);
    assertThat(reserve.ensure()).isTrue();
    assertThat(Files.size(reserve.file())).isEqualTo(3 * (1 << 20) + 5);
  }

  @Test
  void aReserveTheDiskHasNoRoomForMakesTheDiskCountAsFull() throws Exception {
    long free = Files.getFileStore(dir).getUsableSpace();
    DiskReserve tooBig = new DiskReserve(dir.resolve("c.db"), free * 2);
    assertThat(tooBig.ensure()).isFalse();
    assertThat(tooBig.file()).doesNotExist();
    assertThatThrownBy(tooBig::checkNotFull).isInstanceOf(StorageFullException.class)
        .hasMessageContaining("not enough for the disk reserve");
  }

  @Test
  void noReserveKeepsNoFile() {
    DiskReserve none = new DiskReserve(dir.resolve("c.db"), 0);
    assertThat(none.ensure()).isTrue();
    none.checkNotFull();
    assertThat(none.file()).doesNotExist();
  }
}

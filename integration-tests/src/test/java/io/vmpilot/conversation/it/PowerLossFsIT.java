package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The power-cut file system itself (PowerLossFs): what was not synced is gone after a cut, what was synced stays.
 * Without this, PowerLossIT could pass on a file system that never loses anything.
 */
class PowerLossFsIT {
  @TempDir
  Path dir;

  private PowerLossFs fs;
  private Path root;

  /** Mounts with syncs that take {@code syncMicros} (0: a memory copy; else the slow path PowerLossIT uses). */
  private void mount(int syncMicros) throws Exception {
    Path mnt = Files.createDirectory(dir.resolve("mnt"));
    fs = PowerLossFs.mount(mnt, syncMicros);
    root = fs.root();
  }

  @AfterEach
  void unmount() throws Exception {
    if (fs != null) {
      fs.close();
    }
  }

  @ParameterizedTest(name = "syncMicros={0}")
  @ValueSource(ints = {0, 1000})
  void unsyncedWritesAreGoneAfterACutAndSyncedOnesStay(int syncMicros) throws Exception {
    mount(syncMicros);
    Path synced = root.resolve("synced");
    Path unsynced = root.resolve("unsynced");
    try (FileChannel a = create(synced); FileChannel b = create(unsynced)) {
      write(a, 0, "durable");
      a.force(false); // fdatasync
      write(b, 0, "volatile");
    }
    syncDirectory(root);
    // Written after the syncs: an overwrite at an offset and an append, neither synced.
    try (FileChannel a = FileChannel.open(synced, StandardOpenOption.WRITE)) {
      write(a, 0, "DUR");
      write(a, 7, "-and-more");
    }
    assertThat(Files.readString(synced)).isEqualTo("DURable-and-more");

    fs.cut();

    assertThat(Files.readString(synced)).as("content as of its fdatasync").isEqualTo("durable");
    assertThat(Files.exists(unsynced)).as("named by the synced directory").isTrue();
    assertThat(Files.size(unsynced)).as("but its data never synced").isZero();
    assertThat(fs.counters()).containsEntry("cuts", 1L);
    assertThat(fs.counters().get("dropped_bytes")).isPositive();
  }

  @ParameterizedTest(name = "syncMicros={0}")
  @ValueSource(ints = {0, 1000})
  void truncateAndFsyncFollowEachOther(int syncMicros) throws Exception {
    mount(syncMicros);
    Path file = root.resolve("wal");
    try (FileChannel ch = create(file)) {
      write(ch, 0, "0123456789");
      ch.force(true); // fsync
    }
    syncDirectory(root);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(4);
      ch.force(false);
      ch.truncate(0);
      write(ch, 6, "xy"); // a hole, then data: not synced
    }
    fs.cut();
    assertThat(Files.readString(file)).as("the truncation was synced, the rest not").isEqualTo("0123");
  }

  @ParameterizedTest(name = "syncMicros={0}")
  @ValueSource(ints = {0, 1000})
  void namesAreDurableOnlyOnceTheirDirectoryIsSynced(int syncMicros) throws Exception {
    mount(syncMicros);
    Path kept = root.resolve("kept");
    try (FileChannel ch = create(kept)) {
      write(ch, 0, "kept");
      ch.force(true);
    }
    syncDirectory(root);
    // Each change below is synced as a file but not in its directory.
    Path fresh = root.resolve("fresh");
    try (FileChannel ch = create(fresh)) {
      write(ch, 0, "fresh");
      ch.force(true);
    }
    Files.move(kept, root.resolve("renamed"), StandardCopyOption.ATOMIC_MOVE);
    assertThat(Files.exists(kept)).isFalse();

    fs.cut();

    assertThat(Files.exists(fresh)).as("created, file synced, directory not").isFalse();
    assertThat(Files.exists(root.resolve("renamed"))).as("rename not synced").isFalse();
    assertThat(Files.readString(kept)).isEqualTo("kept");

    // Now the same with the directory synced: the names stay.
    Files.move(kept, root.resolve("renamed"), StandardCopyOption.ATOMIC_MOVE);
    syncDirectory(root);
    Files.delete(root.resolve("renamed"));
    fs.cut();
    assertThat(Files.readString(root.resolve("renamed"))).as("deletion not synced").isEqualTo("kept");
    assertThat(Files.exists(kept)).isFalse();
  }

  @ParameterizedTest(name = "syncMicros={0}")
  @ValueSource(ints = {0, 1000})
  void aHandleOpenedBeforeTheCutChangesNothingAfterIt(int syncMicros) throws Exception {
    mount(syncMicros);
    Path file = root.resolve("f");
    try (FileChannel ch = create(file)) {
      write(ch, 0, "before");
      ch.force(true);
      syncDirectory(root);
      fs.cut();
      // The process that opened it "died with the power": its late writes must not land.
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> write(ch, 0, "AFTER")).isInstanceOf(IOException.class);
    }
    assertThat(Files.readString(file)).isEqualTo("before");
  }

  @ParameterizedTest(name = "syncMicros={0}")
  @ValueSource(ints = {0, 1000})
  void syncAllMakesEverythingDurable(int syncMicros) throws Exception {
    mount(syncMicros);
    Files.createDirectories(root.resolve("d/e"));
    Files.writeString(root.resolve("d/e/x"), "x");
    fs.syncAll();
    fs.cut();
    assertThat(Files.readString(root.resolve("d/e/x"))).isEqualTo("x");
  }

  /**
   * The slow sync PowerLossIT relies on to find reads of unsynced data: what was written before fdatasync was called
   * is durable when it returns; what was written while it ran is not (until the next sync).
   */
  @Test
  void aSlowSyncMakesDurableWhatWasWrittenBeforeTheCallNotDuringIt() throws Exception {
    mount(1_500_000);
    Path file = root.resolve("log");
    try (FileChannel syncer = create(file); FileChannel writer = FileChannel.open(file, StandardOpenOption.WRITE)) {
      write(syncer, 0, "before");
      syncDirectory(root);
      CompletableFuture<Void> sync = CompletableFuture.runAsync(() -> {
        try {
          syncer.force(false);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      // The file system counts a sync as running from its call on: write only once it has been called.
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (fs.counters().get("syncing") == 0 && !sync.isDone() && System.nanoTime() < end) {
        Thread.sleep(5); // polling interval; the loop ends on the observed state
      }
      assertThat(sync.isDone()).as("the sync still runs when the write is made").isFalse();
      write(writer, 6, "-during");
      sync.get(30, TimeUnit.SECONDS);
      assertThat(Files.readString(file)).isEqualTo("before-during");
    }
    fs.cut();
    assertThat(Files.readString(file)).isEqualTo("before");
  }

  private static FileChannel create(Path file) throws IOException {
    return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  private static void write(FileChannel ch, long position, String text) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    while (buf.hasRemaining()) {
      ch.write(buf, position + buf.position());
    }
  }

  /** fsync of a directory, as SQLite does after creating its log: open it read-only and force it (Linux). */
  private static void syncDirectory(Path directory) throws IOException {
    try (FileChannel ch = FileChannel.open(directory, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}

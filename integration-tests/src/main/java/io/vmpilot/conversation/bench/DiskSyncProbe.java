package io.vmpilot.conversation.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * How long the disk under the SQLite file takes to make a W1-sized batch durable: {@value #PAGES} pages of 4 KiB
 * written and {@code fdatasync}ed, {@value #SYNCS} times. SQLite's `full` figures follow this latency (each turn
 * waits for two syncs), so a run's table is comparable with another machine's only together with it.
 *
 * <p>The pages overwrite a file written (and synced) beforehand, as a write-ahead log in steady use is: SQLite
 * starts it over from the beginning rather than growing it, and a sync of appended pages also commits the file
 * system's allocation of them (p50 0.29 against 0.15 ms on the machine of docs/benchmark.md).
 */
final class DiskSyncProbe {
  static final int PAGES = 30;
  static final int SYNCS = 200;
  private static final int PAGE = 4096;

  /** Latencies of one sync, in milliseconds. */
  record Latency(String directory, double p50Ms, double p99Ms, double maxMs) {}

  private DiskSyncProbe() {}

  /** Measures in a scratch file in {@code directory}, deleted afterwards, on an otherwise idle machine. */
  static Latency measure(Path directory) throws IOException {
    Path file = Files.createTempFile(directory, "disk-sync-probe", ".tmp");
    long[] nanos = new long[SYNCS];
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ByteBuffer pages = ByteBuffer.allocateDirect(PAGES * PAGE);
      for (int i = 0; i < SYNCS; i++) {
        write(channel, pages, (long) i * PAGES * PAGE);
      }
      channel.force(true);
      for (int i = 0; i < SYNCS; i++) {
        write(channel, pages, (long) i * PAGES * PAGE);
        long start = System.nanoTime();
        channel.force(false); // fdatasync, as the acknowledger's log sync
        nanos[i] = System.nanoTime() - start;
      }
    } finally {
      Files.deleteIfExists(file);
    }
    Arrays.sort(nanos);
    return new Latency(directory.toString(), percentile(nanos, 50), percentile(nanos, 99), nanos[SYNCS - 1] / 1e6);
  }

  private static void write(FileChannel channel, ByteBuffer pages, long position) throws IOException {
    pages.clear();
    while (pages.hasRemaining()) {
      channel.write(pages, position + pages.position());
    }
  }

  private static double percentile(long[] sorted, int percent) {
    return sorted[(int) Math.ceil(percent / 100.0 * sorted.length) - 1] / 1e6;
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * How many frames of the write-ahead log are not yet copied into the database file, read from the WAL index
 * ({@code <file>-shm}) without a connection and without taking any lock. The layout is SQLite's documented
 * WAL-index format: the header's {@code mxFrame} (the last valid frame) at byte 16 and the checkpoint's
 * {@code nBackfill} (frames copied) at byte 96, in the machine's byte order. A read that races a commit may be a
 * frame or two behind, which is all {@link WalCheckpointer} needs to decide whether a pass is worth it.
 */
final class WalBacklog implements AutoCloseable {
  private static final int MX_FRAME = 16;
  private static final int N_BACKFILL = 96;
  private static final int HEADER_BYTES = 100;

  private final Path index;
  private final ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.nativeOrder());
  private FileChannel channel;

  /** The backlog of the database at {@code database} (its real path: SQLite puts the index beside it). */
  static WalBacklog of(Path database) throws IOException {
    return new WalBacklog(Path.of(database.toRealPath() + "-shm"));
  }

  WalBacklog(Path index) {
    this.index = index;
  }

  /** The frames in the log and how many of them are copied. */
  record Frames(long inLog, long copied) {
    long notCopied() {
      return Math.max(0, inLog - copied);
    }
  }

  /** The log's frames now; empty when the index cannot be read (not created yet, or unreadable). */
  Optional<Frames> read() {
    try {
      if (channel == null) {
        channel = FileChannel.open(index, StandardOpenOption.READ);
      }
      header.clear();
      while (header.hasRemaining()) {
        if (channel.read(header, header.position()) < 0) {
          return Optional.empty();
        }
      }
      return Optional.of(new Frames(Integer.toUnsignedLong(header.getInt(MX_FRAME)),
          Integer.toUnsignedLong(header.getInt(N_BACKFILL))));
    } catch (IOException e) {
      close();
      return Optional.empty();
    }
  }

  @Override
  public void close() {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // a read-only handle: nothing to lose
      }
      channel = null;
    }
  }
}

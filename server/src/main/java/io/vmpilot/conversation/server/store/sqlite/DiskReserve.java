package io.vmpilot.conversation.server.store.sqlite;

import io.vmpilot.conversation.server.store.error.StorageFullException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Space kept free for deletes: a file of zeros beside the database ({@code <database>.reserve}). On a full disk
 * even a Clear fails, since deleting rows writes pages to the write-ahead log; the store then deletes this file so
 * that the Clear (and any delete after it) has room, and writes the file again once the filesystem has room for it.
 *
 * <p>It also tells whether the disk is full, for health: less than {@link #MIN_FREE_BYTES} free, or no room to
 * keep the reserve. A server started on a full disk is therefore not healthy from its first check, rather than
 * from its first failed write. Safe for any thread.
 */
final class DiskReserve {
  private static final Logger LOG = Logger.getLogger(DiskReserve.class.getName());
  /** Below this much free space the disk counts as full: no write of any size can be promised. */
  static final long MIN_FREE_BYTES = 1L << 20;
  private static final int CHUNK = 1 << 20;

  private final Path file;
  private final Path directory;
  private final long bytes;
  private boolean warned;

  /** @param bytes the reserve's size; 0 keeps none (the disk-full check still applies) */
  DiskReserve(Path database, long bytes) {
    Path absolute = database.toAbsolutePath();
    this.file = absolute.resolveSibling(absolute.getFileName() + ".reserve");
    this.directory = absolute.getParent();
    this.bytes = bytes;
  }

  Path file() {
    return file;
  }

  /** Free bytes for this process on the database's filesystem. */
  long usableBytes() throws IOException {
    return Files.getFileStore(directory).getUsableSpace();
  }

  /**
   * Writes the reserve if it is missing (or short) and the filesystem has room for it and {@link #MIN_FREE_BYTES}
   * more; returns whether it is in place. A failure to write it is logged once and leaves no partial file.
   */
  synchronized boolean ensure() {
    if (bytes == 0) {
      return true;
    }
    try {
      if (Files.exists(file) && Files.size(file) >= bytes) {
        return true;
      }
      if (usableBytes() < bytes + MIN_FREE_BYTES) {
        return false;
      }
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        // Zeros written, not a sparse file: the space must really be taken, so that deleting the file frees it.
        ByteBuffer zeros = ByteBuffer.allocate(CHUNK);
        long written = 0;
        while (written < bytes) {
          zeros.clear().limit((int) Math.min(CHUNK, bytes - written));
          while (zeros.hasRemaining()) {
            written += ch.write(zeros);
          }
        }
        // Not synced (that cost ~0.5 s per start here): the filesystem counts the space as taken once written,
        // and a file cut short by a crash is found by the size check above and written again.
      }
      LOG.info("disk reserve of " + bytes + " bytes in place at " + file);
      warned = false;
      return true;
    } catch (IOException e) {
      deleteQuietly();
      if (!warned) {
        LOG.log(Level.WARNING, "cannot write the disk reserve " + file + ": " + e);
        warned = true;
      }
      return false;
    }
  }

  /** Deletes the reserve so that a delete can proceed on a full disk; returns whether there was one to delete. */
  synchronized boolean release() {
    try {
      Files.delete(file);
      LOG.warning("the disk is full: released the disk reserve (" + bytes + " bytes) so that deletes can proceed;"
          + " it is written again once the filesystem has room");
      return true;
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot delete the disk reserve " + file + ": " + e);
      return false;
    }
  }

  /**
   * Throws when the disk is full: less than {@link #MIN_FREE_BYTES} free, or the reserve missing (given up for
   * deletes, or never written) and no room to write it again. Writes it again when there is room.
   */
  void checkNotFull() {
    long usable;
    try {
      usable = usableBytes();
    } catch (IOException e) {
      throw new StorageFullException("cannot tell the free space of " + directory + ": " + e, e);
    }
    if (usable < MIN_FREE_BYTES) {
      throw new StorageFullException("the disk is full: " + usable + " bytes free on " + directory, null);
    }
    if (!ensure()) {
      throw new StorageFullException("the disk is nearly full: " + usable + " bytes free on " + directory
          + ", not enough for the disk reserve of " + bytes + " bytes that deletes need on a full disk", null);
    }
  }

  private void deleteQuietly() {
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // Nothing more to do: the next ensure() tries again.
    }
  }
}

package io.vmpilot.conversation.server.store.sqlite;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code fdatasync} of one file (the write-ahead log, or the database file) through a channel kept open from sync
 * to sync. Opening and closing the file around every sync, as this once did, made each sync ~80 µs slower on ext4
 * (docs/benchmark.md), and every acknowledged write waits for a sync of the log.
 *
 * <p>The sync must reach the file that is at the path now. SQLite deletes the log only when its last connection to
 * the database closes (the store keeps connections open while it runs) and creates a new file when one opens
 * again, so before each sync the file at the path is compared with the one open (by the file system's file key,
 * one {@code stat}); a different file is opened in its place. A missing file is reported as a failure rather than
 * taken as nothing to sync.
 */
final class FileSync implements LogSync {
  private static final Logger LOG = Logger.getLogger(FileSync.class.getName());

  private final Path file;
  private final String what;
  private FileChannel channel;
  private Object openFileKey;

  /** @param what what the file is, for errors: "write-ahead log", "database file" */
  FileSync(Path file, String what) {
    this.file = file;
    this.what = what;
  }

  @Override
  public synchronized void sync() throws IOException {
    Object key = fileKeyAtPath();
    // A channel is closed under its user when the thread is interrupted during a sync: open a new one then.
    if (channel == null || !channel.isOpen() || !key.equals(openFileKey)) {
      closeChannel();
      channel = FileChannel.open(file, StandardOpenOption.WRITE);
      openFileKey = key;
    }
    channel.force(false);
  }

  private Object fileKeyAtPath() throws IOException {
    try {
      Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
      if (key == null) {
        throw new IOException("the file system of " + file + " cannot tell whether the " + what + " was replaced");
      }
      return key;
    } catch (NoSuchFileException e) {
      throw new IOException("the " + what + " " + file + " is missing", e);
    }
  }

  private void closeChannel() {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        LOG.log(Level.FINE, "closing the " + what + " channel failed", e);
      }
      channel = null;
    }
  }

  @Override
  public synchronized void close() {
    closeChannel();
  }
}

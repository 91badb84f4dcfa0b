package io.vmpilot.conversation.server.store.sqlite;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Properties;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Copies the write-ahead log back into the database file from a thread and connection of its own, so that the
 * writer does not do it. By default SQLite checkpoints inside the COMMIT that takes the log past 1,000 pages:
 * that commit then also writes and syncs the database file, and every request waiting on it (a whole group-commit
 * batch) waits too. Here this thread runs a PASSIVE checkpoint every {@link #INTERVAL_MILLIS}, which never
 * blocks the writer or the readers, and copies nearly all of the log. The writer's own automatic checkpoint starts
 * only at {@link #WRITER_BACKSTOP_PAGES}: under steady writes this thread never finds the log fully copied at the
 * moment a write begins (which is when SQLite starts the log over), so the log grows to that size and the writer's
 * checkpoint then copies the pages left and lets the log start over (observed: the log stays at ~68 MB). While the
 * log holds {@link #HURRY_PAGES} or more and grows, passes follow each other {@link #HURRY_PAUSE_MILLIS} apart, so
 * that the pages left for the writer are a few milliseconds' worth, not up to an interval's: at 100 ms that was
 * ~2,000 pages to copy and sync inside one commit, a 10-15 ms stall for the whole batch twice a second under W1,
 * and most of its p99 (docs/benchmark.md).
 *
 * <p>A pass is skipped while fewer than {@link #MIN_FRAMES_TO_COPY} frames wait to be copied ({@link WalBacklog}) in
 * a log of less than {@link #HURRY_PAGES}.
 * A log copied to its end is started over by the next write, and starting over costs that write a sync of the
 * log's new header inside its COMMIT (SQLite syncs it even with {@code synchronous=NORMAL}): copying a small log
 * every 100 ms made every write after a pause pay two syncs instead of one (an agent pausing between turns; seen
 * with strace, docs/benchmark.md), and each pass synced the database file besides. Left alone, a small log just
 * waits for more writes. Durability is unchanged: a commit is durable once it is in the log (synced
 * before any acknowledgement with durability=full, see {@link LogSync}).
 *
 * <p>The database file is synced here too, as pages are copied into it ({@link #syncDatabaseAfter}), so that the
 * writer's checkpoint, which SQLite makes sync it, has little left to write.
 */
final class WalCheckpointer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(WalCheckpointer.class.getName());
  static final int WRITER_BACKSTOP_PAGES = 16_384; // 64 MiB of 4 KiB pages
  static final long INTERVAL_MILLIS = 100;
  static final int HURRY_PAGES = WRITER_BACKSTOP_PAGES / 2;
  static final long HURRY_PAUSE_MILLIS = 2;
  /** SQLite's own default checkpoint threshold (1,000 pages). */
  static final long MIN_FRAMES_TO_COPY = 1_000;

  /**
   * Pages copied into the database file between two syncs of it by this thread (1 MiB of 4 KiB pages): small
   * enough that a sync is short and the log's syncs, which every acknowledged write waits for, do not queue long
   * behind it on the disk.
   */
  static final long DATABASE_SYNC_PAGES = 256;

  private final Connection connection;
  private final WalBacklog backlog;
  private final LogSync databaseSync;
  private long copiedAtDatabaseSync;
  private boolean databaseSyncWarned;
  private final BackgroundThread thread;
  private volatile long passesConsidered;
  private volatile long lastLogPages;

  private WalCheckpointer(Connection connection, WalBacklog backlog, LogSync databaseSync) {
    this.connection = connection;
    this.backlog = backlog;
    this.databaseSync = databaseSync;
    this.thread = new BackgroundThread("sqlite-checkpointer", this::run);
  }

  static WalCheckpointer start(String jdbcUrl, Properties pragmas, Path database) throws SQLException {
    Path realPath;
    try {
      realPath = database.toRealPath();
    } catch (IOException e) {
      throw new SQLException("cannot find the database file " + database + ": " + e.getMessage(), e);
    }
    return start(jdbcUrl, pragmas, realPath, new FileSync(realPath, "database file"));
  }

  /** As {@link #start(String, Properties, Path)}, syncing the database file through {@code databaseSync}. */
  static WalCheckpointer start(String jdbcUrl, Properties pragmas, Path database, LogSync databaseSync)
      throws SQLException {
    WalBacklog backlog;
    try {
      backlog = WalBacklog.of(database);
    } catch (IOException e) {
      throw new SQLException("cannot find the database file " + database + ": " + e.getMessage(), e);
    }
    WalCheckpointer checkpointer = new WalCheckpointer(DriverManager.getConnection(jdbcUrl, pragmas), backlog,
        databaseSync);
    checkpointer.thread.start();
    return checkpointer;
  }

  private void run() {
    boolean warned = false;
    long logPages = 0;
    // Prepared once: a plain Statement would have SQLite compile the pragma on every pass (500 a second while
    // hurrying).
    try (PreparedStatement st = connection.prepareStatement("PRAGMA wal_checkpoint(PASSIVE)")) {
      while (thread.running()) {
        long pause = INTERVAL_MILLIS;
        try {
          long before = logPages;
          Optional<WalBacklog.Frames> frames = backlog.read();
          passesConsidered++;
          if (!worthAPass(frames)) {
            long inLog = frames.get().inLog();
            long skipPause = pauseAfter(lastLogPages, inLog);
            lastLogPages = inLog;
            Thread.sleep(skipPause);
            continue;
          }
          Pass pass = checkpoint(st);
          logPages = pass.logPages();
          lastLogPages = logPages;
          syncDatabaseAfter(pass);
          pause = pauseAfter(before, logPages);
          warned = false;
        } catch (SQLException e) {
          if (!warned) {
            LOG.log(Level.WARNING, "WAL checkpoint failed (the writer's own checkpoints take over): " + e);
            warned = true;
          }
        }
        Thread.sleep(pause);
      }
    } catch (InterruptedException e) {
      // closing
    } catch (SQLException e) {
      LOG.log(Level.WARNING, "WAL checkpointer stopped: " + e);
    }
  }

  /**
   * Whether a pass would copy enough to be worth starting the log over for; unknown backlogs are copied. A log of
   * {@link #HURRY_PAGES} or more is not small: every frame not copied by now is one the writer's checkpoint would
   * copy inside a COMMIT.
   */
  static boolean worthAPass(Optional<WalBacklog.Frames> frames) {
    if (frames.isEmpty()) {
      return true;
    }
    WalBacklog.Frames f = frames.get();
    return f.notCopied() >= MIN_FRAMES_TO_COPY || (f.inLog() >= HURRY_PAGES && f.notCopied() > 0);
  }

  /** How many times this thread has looked at the log (passes run or skipped), for tests to wait on. */
  long passesConsidered() {
    return passesConsidered;
  }

  /** The pages in the log when last looked at (what {@link LogTruncation} decides by). */
  long logPages() {
    return lastLogPages;
  }

  /** What a pass found: the pages in the log, and how many of them are copied into the database file. */
  record Pass(long logPages, long copiedPages) {}

  /** Runs one passive checkpoint. */
  static Pass checkpoint(PreparedStatement passiveCheckpoint) throws SQLException {
    try (ResultSet rs = passiveCheckpoint.executeQuery()) {
      // columns: busy, pages in the log, pages copied
      return rs.next() ? new Pass(rs.getLong(2), rs.getLong(3)) : new Pass(0, 0);
    }
  }

  /**
   * Syncs the database file once {@link #DATABASE_SYNC_PAGES} more pages have been copied into it. SQLite syncs
   * the database file only in the checkpoint that copies the log to its end, and under steady writes that is the
   * writer's own ({@link #WRITER_BACKSTOP_PAGES}), inside a COMMIT: that sync then had to write out every page
   * copied since the log began, and the whole batch waited for it. Synced here as the pages arrive, the writer's
   * sync finds little left to write. Durability does not depend on it: SQLite still syncs before it lets the log
   * start over, and a failure here is logged, once, and otherwise ignored.
   */
  private void syncDatabaseAfter(Pass pass) {
    if (pass.copiedPages() < copiedAtDatabaseSync) {
      copiedAtDatabaseSync = 0; // the log started over, after the writer's checkpoint synced the database
    }
    if (pass.copiedPages() - copiedAtDatabaseSync < DATABASE_SYNC_PAGES) {
      return;
    }
    try {
      databaseSync.sync();
      copiedAtDatabaseSync = pass.copiedPages();
      databaseSyncWarned = false;
    } catch (IOException e) {
      if (!databaseSyncWarned) {
        LOG.log(Level.WARNING, "syncing the database file after a checkpoint failed (SQLite's own sync still runs): "
            + e);
        databaseSyncWarned = true;
      }
    }
  }

  /**
   * How long to wait before the next pass, given the pages in the log after the previous pass and after this one.
   * A log that has stopped growing (no writes) needs no hurry: only a write can start it over.
   */
  static long pauseAfter(long logPagesBefore, long logPages) {
    boolean hurry = logPages >= HURRY_PAGES && logPages != logPagesBefore;
    return hurry ? HURRY_PAUSE_MILLIS : INTERVAL_MILLIS;
  }

  @Override
  public void close() {
    thread.stop();
    backlog.close();
    databaseSync.close();
    try {
      connection.close();
    } catch (SQLException e) {
      LOG.log(Level.FINE, "closing the checkpointer connection failed", e);
    }
  }
}

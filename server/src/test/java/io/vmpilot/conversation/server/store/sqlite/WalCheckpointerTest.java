package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One checkpoint pass, and the pace of passes as the log grows. */
class WalCheckpointerTest {
  @TempDir
  Path dir;

  @Test
  void eachPassCopiesTheLogAndReportsItsSize() throws SQLException {
    String url = "jdbc:sqlite:" + dir.resolve("c.db");
    try (Connection writer = DriverManager.getConnection(url);
        Statement w = writer.createStatement()) {
      // As the store opens it: in WAL mode before the checkpointer connects.
      w.execute("PRAGMA journal_mode=WAL");
      w.execute("PRAGMA wal_autocheckpoint=0");
      w.execute("CREATE TABLE t (x TEXT)");
      try (Connection checkpointer = DriverManager.getConnection(url);
          PreparedStatement pass = checkpointer.prepareStatement("PRAGMA wal_checkpoint(PASSIVE)");
          PreparedStatement insert = writer.prepareStatement("INSERT INTO t VALUES (?)")) {
        // The checkpointer prepares its statement once and runs it pass after pass. (A pass that copied the whole
        // log lets the next write start it over, so each round finds about its own pages in it.)
        for (int round = 0; round < 2; round++) {
          for (int i = 0; i < 50; i++) {
            insert.setString(1, "x".repeat(3_000)); // about a page each
            insert.executeUpdate();
          }
          long pages = WalCheckpointer.checkpoint(pass).logPages();
          assertThat(pages).as("pages in the log after round %d", round).isGreaterThanOrEqualTo(50);
          try (var rs = w.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
            rs.next();
            assertThat(rs.getLong(3)).as("nothing was left to copy").isEqualTo(rs.getLong(2)).isEqualTo(pages);
          }
        }
      }
    }
  }

  @Test
  void passesHurryWhileTheLogGrowsPastHalfWayToTheWritersBackstop() {
    long half = WalCheckpointer.HURRY_PAGES;
    assertThat(WalCheckpointer.pauseAfter(0, 0)).isEqualTo(WalCheckpointer.INTERVAL_MILLIS);
    assertThat(WalCheckpointer.pauseAfter(half - 100, half - 1)).isEqualTo(WalCheckpointer.INTERVAL_MILLIS);
    assertThat(WalCheckpointer.pauseAfter(half - 1, half)).isEqualTo(WalCheckpointer.HURRY_PAUSE_MILLIS);
    assertThat(WalCheckpointer.pauseAfter(half + 5, half + 9)).isEqualTo(WalCheckpointer.HURRY_PAUSE_MILLIS);
    assertThat(WalCheckpointer.pauseAfter(half + 9, half + 9)).as("no writes: nothing to hurry for")
        .isEqualTo(WalCheckpointer.INTERVAL_MILLIS);
    assertThat(WalCheckpointer.pauseAfter(half + 9, 3)).as("the log started over")
        .isEqualTo(WalCheckpointer.INTERVAL_MILLIS);
    assertThat(WalCheckpointer.HURRY_PAGES).isLessThan(WalCheckpointer.WRITER_BACKSTOP_PAGES);
    assertThat(WalCheckpointer.HURRY_PAUSE_MILLIS).isLessThan(WalCheckpointer.INTERVAL_MILLIS);
  }

  @Test
  void theBacklogIsWhatTheLogHoldsBeyondWhatWasCopied() throws Exception {
    Path db = dir.resolve("b.db");
    String url = "jdbc:sqlite:" + db;
    try (Connection writer = DriverManager.getConnection(url);
        Statement w = writer.createStatement();
        WalBacklog backlog = WalBacklog.of(createWal(w, db))) {
      insertPages(writer, 40);
      assertThat(backlog.read().orElseThrow().notCopied()).isGreaterThanOrEqualTo(40);
      try (var rs = w.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
        rs.next();
      }
      assertThat(backlog.read().orElseThrow().notCopied()).isZero();
    }
    assertThat(new WalBacklog(dir.resolve("missing-shm")).read()).isEmpty();
  }

  @Test
  void aSmallLogIsLeftForMoreWritesSoThatTheNextWriteNeedNotStartItOver() throws Exception {
    Path db = dir.resolve("s.db");
    String url = "jdbc:sqlite:" + db;
    try (Connection writer = DriverManager.getConnection(url);
        Statement w = writer.createStatement()) {
      createWal(w, db);
      insertPages(writer, 20);
      try (WalCheckpointer checkpointer = WalCheckpointer.start(url, new java.util.Properties(), db);
          WalBacklog backlog = WalBacklog.of(db)) {
        awaitPasses(checkpointer, 3);
        assertThat(backlog.read().orElseThrow().notCopied()).as("a small log is not copied")
            .isGreaterThanOrEqualTo(20);
        insertPages(writer, (int) WalCheckpointer.MIN_FRAMES_TO_COPY);
        long seen = checkpointer.passesConsidered();
        awaitPasses(checkpointer, seen + 3);
        // Over a thousand frames were written (a commit writes a page or two): copied once past the threshold, the
        // log started over and holds only what came after.
        assertThat(backlog.read().orElseThrow().notCopied()).as("a log of a thousand frames is copied")
            .isLessThan(WalCheckpointer.MIN_FRAMES_TO_COPY);
      }
    }
    assertThat(WalCheckpointer.worthAPass(java.util.Optional.empty())).as("an unreadable index: copy").isTrue();
    long hurry = WalCheckpointer.HURRY_PAGES;
    assertThat(WalCheckpointer.worthAPass(java.util.Optional.of(new WalBacklog.Frames(hurry, hurry - 10))))
        .as("a large log: every frame not copied yet, however few").isTrue();
    assertThat(WalCheckpointer.worthAPass(java.util.Optional.of(new WalBacklog.Frames(hurry, hurry))))
        .as("a large log copied to its end").isFalse();
    assertThat(WalCheckpointer.worthAPass(java.util.Optional.of(new WalBacklog.Frames(hurry - 1, hurry - 11))))
        .as("a log below the hurry mark, a small backlog").isFalse();
  }

  @Test
  void theDatabaseFileIsSyncedAsPagesAreCopiedNotOnlyWhenTheLogIsCopiedToItsEnd() throws Exception {
    Path db = dir.resolve("d.db");
    String url = "jdbc:sqlite:" + db;
    java.util.concurrent.atomic.AtomicInteger databaseSyncs = new java.util.concurrent.atomic.AtomicInteger();
    try (Connection writer = DriverManager.getConnection(url);
        Statement w = writer.createStatement();
        Connection reader = DriverManager.getConnection(url);
        Statement r = reader.createStatement()) {
      createWal(w, db);
      // Enough for a pass (MIN_FRAMES_TO_COPY) and for a sync of the database file after it.
      long pages = Math.max(WalCheckpointer.MIN_FRAMES_TO_COPY, WalCheckpointer.DATABASE_SYNC_PAGES) + 100;
      insertPages(writer, (int) pages);
      // A reader on this snapshot keeps SQLite from copying the frames written after it, so no pass copies the log
      // to its end, and SQLite itself never syncs the database file in these passes.
      r.execute("BEGIN");
      try (var rs = r.executeQuery("SELECT count(*) FROM t")) {
        rs.next();
      }
      insertPages(writer, 10);
      try (WalCheckpointer checkpointer = WalCheckpointer.start(url, new java.util.Properties(), db,
              databaseSyncs::incrementAndGet);
          WalBacklog backlog = WalBacklog.of(db)) {
        awaitPasses(checkpointer, 3);
        assertThat(backlog.read().orElseThrow().notCopied()).as("the frames after the reader's snapshot")
            .isBetween(10L, 30L);
        assertThat(databaseSyncs).as("a sync after the first pass, none after the passes that copied nothing")
            .hasValue(1);
      }
      r.execute("COMMIT");
    }
  }

  private static Path createWal(Statement w, Path db) throws SQLException {
    w.execute("PRAGMA journal_mode=WAL");
    w.execute("PRAGMA wal_autocheckpoint=0");
    w.execute("CREATE TABLE t (x TEXT)");
    return db;
  }

  private static void insertPages(Connection writer, int n) throws SQLException {
    try (PreparedStatement insert = writer.prepareStatement("INSERT INTO t VALUES (?)")) {
      for (int i = 0; i < n; i++) {
        insert.setString(1, "x".repeat(3_000)); // about a page each, one commit each
        insert.executeUpdate();
      }
    }
  }

  private static void awaitPasses(WalCheckpointer checkpointer, long passes) throws InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    while (checkpointer.passesConsidered() < passes) {
      assertThat(System.nanoTime()).as("the checkpointer looked %d times", passes).isLessThan(deadline);
      Thread.sleep(10); // polling an observable count, with a deadline
    }
  }
}

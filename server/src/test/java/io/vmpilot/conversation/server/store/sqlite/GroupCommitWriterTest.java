package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.error.VersionMismatchException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The group-commit writer, driven with tasks of the test's own. A task that blocks the writer lets the test queue
 * writes behind it, so which writes share a batch is known, not left to timing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GroupCommitWriterTest {
  @TempDir
  Path dir;

  private SqliteSettings settings;
  private SqliteDataSources ds;
  private final List<GroupCommitWriter> writers = new ArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);

  @BeforeEach
  void open() {
    settings = new SqliteSettings(dir.resolve("writer.db"), Durability.FULL, 5000, 2, 64, 1 << 20);
    ds = SqliteDataSources.open(settings);
  }

  @AfterEach
  void close() {
    release.countDown();
    writers.forEach(GroupCommitWriter::close);
    ds.close();
  }

  private GroupCommitWriter writer(int maxBatch) throws SQLException, IOException {
    return writer(maxBatch, LogSync.writeAheadLogOf(settings.path()));
  }

  /** Times the writer told its tasks to forget what they keep beside the database. */
  private final AtomicInteger forgotten = new AtomicInteger();

  private GroupCommitWriter writer(int maxBatch, LogSync logSync) throws SQLException {
    GroupCommitWriter w = new GroupCommitWriter(ds.writer, maxBatch, logSync, forgotten::incrementAndGet, false);
    writers.add(w);
    return w;
  }

  /** A log sync the test holds: each sync waits until {@link #release} and counts itself. */
  private static final class HeldSync implements LogSync {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger calls = new AtomicInteger();
    volatile IOException failNext;

    @Override
    public void sync() throws IOException {
      calls.incrementAndGet();
      entered.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new InterruptedIOException();
      }
      IOException failure = failNext;
      failNext = null;
      if (failure != null) {
        throw failure;
      }
    }
  }

  /** Waits (spinning, bounded by the class timeout) until {@code condition} holds. */
  private static void await(BooleanSupplier condition) {
    while (!condition.getAsBoolean()) {
      Thread.onSpinWait();
    }
  }

  /** Occupies the writer with a task that waits for {@link #release}; returns once the task runs. */
  private Submitter<Object> block(GroupCommitWriter w) {
    CountDownLatch running = new CountDownLatch(1);
    Submitter<Object> blocker = Submitter.startAndAwaitParked("blocker", () -> w.submit(tx -> {
      running.countDown();
      awaitRelease();
      tx.nextVersion(); // a real mutation, so that its batch commits
      return "blocker";
    }));
    try {
      assertThat(running.await(30, TimeUnit.SECONDS)).as("blocking task started").isTrue();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    return blocker;
  }

  private void awaitRelease() {
    try {
      release.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A task that creates a conversation row named {@code threadId} at the next version and returns the version. */
  private static GroupCommitWriter.Task<Long> insert(String threadId) {
    return tx -> {
      long version = tx.nextVersion();
      try (PreparedStatement st = tx.connection().prepareStatement(
          "INSERT INTO conversations (tenant, thread_id, version, create_time, update_time, message_count,"
              + " history_bytes) VALUES ('t', ?, ?, 0, 0, 0, 0)")) {
        st.setString(1, threadId);
        st.setLong(2, version);
        st.executeUpdate();
      }
      tx.countBytesWritten(threadId.length());
      return version;
    };
  }

  /** What another connection sees in the file: committed thread ids, in version order. */
  private List<String> committedThreadIds() throws SQLException {
    List<String> ids = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(settings.jdbcUrl());
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT thread_id FROM conversations ORDER BY version")) {
      while (rs.next()) {
        ids.add(rs.getString(1));
      }
    }
    return ids;
  }

  private long persistedRevision() throws SQLException {
    try (Connection c = DriverManager.getConnection(settings.jdbcUrl());
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT revision FROM store_revision WHERE id = 1")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void writesQueuedWhileTheWriterIsBusyShareOneCommit() throws Exception {
    GroupCommitWriter w = writer(64);
    Submitter<Object> blocker = block(w);
    List<Submitter<Long>> queued = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      queued.add(Submitter.startAndAwaitParked("w" + i, insertCall(w, "t" + i)));
    }
    assertThat(w.commits()).isZero();
    assertThat(committedThreadIds()).isEmpty();

    release.countDown();
    assertThat(blocker.result()).isEqualTo("blocker");
    List<Long> versions = new ArrayList<>();
    for (Submitter<Long> s : queued) {
      versions.add(s.result());
    }
    assertThat(versions).doesNotHaveDuplicates().allMatch(v -> v > 0);
    // In queue order: the writer keeps the order in which writes arrived.
    assertThat(versions).isSorted();
    assertThat(w.commits()).isEqualTo(2);
    assertThat(w.committedWrites()).isEqualTo(11);
    assertThat(w.bytesWritten()).isEqualTo(20);
    assertThat(committedThreadIds()).containsExactly("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9");
    assertThat(persistedRevision()).isEqualTo(versions.get(versions.size() - 1));
  }

  private static java.util.concurrent.Callable<Long> insertCall(GroupCommitWriter w, String threadId) {
    return () -> w.submit(insert(threadId));
  }

  @Test
  void aFailingTaskIsRolledBackAloneAndTheRestOfItsBatchCommits() throws Exception {
    GroupCommitWriter w = writer(64);
    Submitter<Object> blocker = block(w);
    Submitter<Long> good1 = Submitter.startAndAwaitParked("good1", insertCall(w, "good1"));
    VersionMismatchException mismatch = new VersionMismatchException(ThreadKey.of("x"), 1, 2);
    Submitter<Long> conflicting = Submitter.startAndAwaitParked("conflict", () -> w.submit(tx -> {
      insert("half-written").run(tx); // written, then the task fails: must be rolled back
      throw mismatch;
    }));
    Submitter<Long> sqlError = Submitter.startAndAwaitParked("sql", insertCall(w, "good1")); // duplicate key
    Submitter<Long> crash = Submitter.startAndAwaitParked("crash", () -> w.submit(tx -> {
      insert("crashed").run(tx);
      throw new IllegalStateException("bug in a task");
    }));
    Submitter<Long> good2 = Submitter.startAndAwaitParked("good2", insertCall(w, "good2"));

    release.countDown();
    blocker.result();
    long v1 = good1.result();
    long v2 = good2.result();
    assertThat(v2).isGreaterThan(v1);
    assertThat(conflicting.failure()).isSameAs(mismatch);
    assertThat(sqlError.failure()).isInstanceOf(StoreUnavailableException.class).hasCauseInstanceOf(SQLException.class);
    assertThat(crash.failure()).isInstanceOf(StoreUnavailableException.class)
        .hasCauseInstanceOf(IllegalStateException.class);

    assertThat(committedThreadIds()).containsExactly("good1", "good2");
    assertThat(w.commits()).isEqualTo(2);
    assertThat(w.committedWrites()).isEqualTo(3);
    assertThat(w.bytesWritten()).as("bytes of the committed tasks only").isEqualTo(10);

    // The writer goes on working after failures.
    assertThat(w.submit(insert("after"))).isGreaterThan(v2);
    assertThat(committedThreadIds()).containsExactly("good1", "good2", "after");
    assertThat(w.isRunning()).isTrue();
  }

  /** A task that inserts a row named {@code threadId} and counts how often it ran. */
  private static GroupCommitWriter.Task<Long> countedInsert(String threadId, AtomicInteger runs) {
    return tx -> {
      runs.incrementAndGet();
      return insert(threadId).run(tx);
    };
  }

  /** How a batch of "first", a failing task and "second" went: runs of "first", and rollbacks announced. */
  private record FailedBatch(int firstRuns, int forgotten) {}

  private FailedBatch batchAroundAFailure(GroupCommitWriter.Task<Long> failing) throws Exception {
    GroupCommitWriter w = writer(64);
    AtomicInteger firstRuns = new AtomicInteger();
    Submitter<Object> blocker = block(w);
    int forgottenBefore = forgotten.get();
    Submitter<Long> first = Submitter.startAndAwaitParked("first", () -> w.submit(countedInsert("first", firstRuns)));
    Submitter<Long> failed = Submitter.startAndAwaitParked("failing", () -> w.submit(failing));
    Submitter<Long> second = Submitter.startAndAwaitParked("second", insertCall(w, "second"));
    release.countDown();
    blocker.result();
    assertThat(first.result()).isPositive();
    assertThat(second.result()).isGreaterThan(first.result());
    assertThat(failed.failure()).isInstanceOf(VersionMismatchException.class);
    assertThat(committedThreadIds()).containsExactly("first", "second");
    assertThat(persistedRevision()).isEqualTo(second.result());
    assertThat(w.committedWrites()).as("the blocker, first and second").isEqualTo(3);
    return new FailedBatch(firstRuns.get(), forgotten.get() - forgottenBefore);
  }

  @Test
  void aTaskThatFailsBeforeWritingNeedsNoRollback() throws Exception {
    FailedBatch batch = batchAroundAFailure(tx -> {
      throw new VersionMismatchException(ThreadKey.of("refused"), 1, 2);
    });
    assertThat(batch.firstRuns()).as("no second run of the batch").isEqualTo(1);
    assertThat(batch.forgotten()).as("nothing was rolled back").isZero();
  }

  @Test
  void aTaskThatFailsAfterWritingIsUndoneAloneByRunningItsBatchAgainWithSavepoints() throws Exception {
    FailedBatch batch = batchAroundAFailure(tx -> {
      insert("half-written").run(tx);
      throw new VersionMismatchException(ThreadKey.of("half-written"), 1, 2);
    });
    assertThat(batch.firstRuns()).as("run again, each task in a savepoint").isEqualTo(2);
    assertThat(batch.forgotten()).as("the rollback was announced").isPositive();
  }

  @Test
  void checkpointsAndReadsByOtherConnectionsDoNotMakeTheWriterForget() throws Exception {
    GroupCommitWriter w = writer(64);
    w.submit(insert("first"));
    int forgottenBefore = forgotten.get();
    try (Connection other = DriverManager.getConnection(settings.jdbcUrl()); Statement st = other.createStatement()) {
      st.execute("PRAGMA wal_checkpoint(PASSIVE)");
      assertThat(committedThreadIds()).containsExactly("first");
      w.submit(insert("second"));
      assertThat(forgotten).as("nothing changed the data behind the writer").hasValue(forgottenBefore);

      st.executeUpdate("UPDATE conversations SET history_bytes = 1 WHERE thread_id = 'first'");
      w.submit(insert("third"));
      assertThat(forgotten.get()).as("another connection's commit").isGreaterThan(forgottenBefore);
    }
  }

  @Test
  void aBatchWhereEveryTaskFailsCommitsNothing() throws Exception {
    GroupCommitWriter w = writer(64);
    long v = w.submit(insert("first"));
    long commits = w.commits();
    assertThatThrownBy(() -> w.submit(tx -> {
      insert("doomed").run(tx);
      throw new VersionMismatchException(ThreadKey.of("doomed"), 0, 1);
    })).isInstanceOf(VersionMismatchException.class);
    assertThat(w.commits()).isEqualTo(commits);
    assertThat(w.committedWrites()).isEqualTo(1);
    assertThat(committedThreadIds()).containsExactly("first");
    assertThat(persistedRevision()).isEqualTo(v);
    // Versions handed out stay unique even though one was burnt by the failed task.
    assertThat(w.submit(insert("second"))).isGreaterThan(v);
  }

  @Test
  void batchesAreNoLargerThanMaxBatch() throws Exception {
    GroupCommitWriter w = writer(3);
    Submitter<Object> blocker = block(w);
    List<Submitter<Long>> queued = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      queued.add(Submitter.startAndAwaitParked("w" + i, insertCall(w, "t" + i)));
    }
    release.countDown();
    blocker.result();
    for (Submitter<Long> s : queued) {
      s.result();
    }
    // The blocker's batch, then 3 + 3 + 1.
    assertThat(w.commits()).isEqualTo(4);
    assertThat(w.committedWrites()).isEqualTo(8);
    assertThat(committedThreadIds()).hasSize(7);
  }

  @Test
  void theRevisionCounterContinuesInANewWriter() throws Exception {
    GroupCommitWriter first = writer(8);
    long last = 0;
    for (int i = 0; i < 5; i++) {
      last = first.submit(insert("r" + i));
    }
    first.close();
    assertThat(persistedRevision()).isEqualTo(last);
    GroupCommitWriter second = writer(8);
    assertThat(second.submit(insert("next"))).isEqualTo(last + 1);
  }

  @Test
  void closeFinishesQueuedWritesAndRefusesNewOnes() throws Exception {
    GroupCommitWriter w = writer(64);
    Submitter<Object> blocker = block(w);
    List<Submitter<Long>> queued = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      queued.add(Submitter.startAndAwaitParked("w" + i, insertCall(w, "t" + i)));
    }
    // close() waits for the writer, which is blocked, so it parks too; by then it refuses new writes.
    Submitter<Object> closer = Submitter.startAndAwaitParked("closer", () -> {
      w.close();
      return "closed";
    });
    assertThatThrownBy(() -> w.submit(insert("late"))).isInstanceOf(StoreUnavailableException.class);

    release.countDown();
    assertThat(closer.result()).isEqualTo("closed");
    blocker.result();
    for (Submitter<Long> s : queued) {
      assertThat(s.result()).isPositive();
    }
    assertThat(w.isRunning()).isFalse();
    assertThat(committedThreadIds()).containsExactly("t0", "t1", "t2");
    assertThatThrownBy(() -> w.submit(insert("after-close"))).isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void aCommittedWriteIsAcknowledgedOnlyAfterTheLogIsSynced() throws Exception {
    HeldSync sync = new HeldSync();
    GroupCommitWriter w = writer(64, sync);
    Submitter<Long> write = Submitter.startAndAwaitParked("w", insertCall(w, "t0"));
    assertThat(sync.entered.await(30, TimeUnit.SECONDS)).as("the sync started").isTrue();
    // Committed (another connection reads it), but the sync has not returned, so the caller still waits.
    assertThat(committedThreadIds()).containsExactly("t0");
    assertThat(write.isAlive()).isTrue();
    assertThat(w.committedWrites()).as("not acknowledged yet").isZero();

    sync.release.countDown();
    assertThat(write.result()).isPositive();
    assertThat(w.committedWrites()).isEqualTo(1);
    assertThat(w.syncs()).isEqualTo(1);
  }

  @Test
  void theWriterRunsOneBatchAheadOfTheSyncAndNoMore() throws Exception {
    HeldSync sync = new HeldSync();
    GroupCommitWriter w = writer(64, sync);
    Submitter<Long> first = Submitter.startAndAwaitParked("first", insertCall(w, "first"));
    assertThat(sync.entered.await(30, TimeUnit.SECONDS)).isTrue();
    // While the first batch syncs, the writer does not wait for the disk: the next batch commits.
    Submitter<Long> second = Submitter.startAndAwaitParked("second", insertCall(w, "second"));
    await(() -> w.awaitingAcknowledgement() == 1);
    assertThat(committedThreadIds()).containsExactly("first", "second");
    // But no further: later writes queue up, so that they share a commit instead of paying one each.
    List<Submitter<Long>> later = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      later.add(Submitter.startAndAwaitParked("w" + i, insertCall(w, "t" + i)));
    }
    assertThat(w.commits()).isEqualTo(2);
    assertThat(committedThreadIds()).containsExactly("first", "second");

    sync.release.countDown();
    first.result();
    second.result();
    for (Submitter<Long> s : later) {
      s.result();
    }
    assertThat(w.commits()).as("first, second, then the three queued writes together").isEqualTo(3);
    assertThat(committedThreadIds()).containsExactly("first", "second", "t0", "t1", "t2");
    assertThat(sync.calls.get()).as("at most one sync per commit").isBetween(2, 3);
    assertThat(w.syncs()).isEqualTo(sync.calls.get());
    assertThat(w.committedWrites()).isEqualTo(5);
  }

  @Test
  void aFailedSyncFailsTheWritesItCoveredAndMarksTheStorageFailed() throws Exception {
    HeldSync sync = new HeldSync();
    sync.failNext = new IOException("EIO");
    sync.release.countDown();
    GroupCommitWriter w = writer(64, sync);
    assertThatThrownBy(() -> w.submit(insert("unconfirmed"))).isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("sync").hasRootCauseMessage("EIO");
    assertThat(w.storageFailure()).isNotNull();
    assertThat(w.committedWrites()).as("not acknowledged").isZero();

    // The next write that reaches the disk clears the failure.
    assertThat(w.submit(insert("confirmed"))).isPositive();
    assertThat(w.storageFailure()).isNull();
    assertThat(w.committedWrites()).isEqualTo(1);
  }

  @Test
  void theRealLogSyncReachesTheWriteAheadLogFile() throws Exception {
    GroupCommitWriter w = writer(64);
    w.submit(insert("synced"));
    assertThat(w.syncs()).isEqualTo(1);
    assertThat(Files.size(Path.of(settings.path() + "-wal"))).as("the log holds the commit")
        .isPositive();
    // A database reached through a symbolic link has its log next to the real file, and that is what is synced.
    Path link = Files.createSymbolicLink(dir.resolve("link.db"), settings.path());
    try (LogSync throughLink = LogSync.writeAheadLogOf(link)) {
      throughLink.sync();
    }
    // A log that is not there is a failure, never silently nothing to sync.
    Path lonely = Files.createFile(dir.resolve("lonely.db"));
    try (LogSync missing = LogSync.writeAheadLogOf(lonely)) {
      assertThatThrownBy(missing::sync).isInstanceOf(IOException.class).hasMessageContaining("lonely.db-wal");
    }
  }

  @Test
  void aTaskThatThrowsAnErrorFailsAloneAndTheWriterGoesOn() throws Exception {
    GroupCommitWriter w = writer(64);
    Submitter<Object> blocker = block(w);
    Submitter<Long> before = Submitter.startAndAwaitParked("before", insertCall(w, "before"));
    Submitter<Long> broken = Submitter.startAndAwaitParked("broken", () -> w.submit(tx -> {
      insert("half-written").run(tx);
      throw new OutOfMemoryError("test: no heap left for this request");
    }));
    Submitter<Long> after = Submitter.startAndAwaitParked("after", insertCall(w, "after"));

    release.countDown();
    blocker.result();
    assertThat(before.result()).isPositive();
    assertThat(after.result()).isPositive();
    assertThat(broken.failure()).isInstanceOf(StoreUnavailableException.class)
        .hasCauseInstanceOf(OutOfMemoryError.class);
    assertThat(committedThreadIds()).containsExactly("before", "after");
    assertThat(w.isRunning()).isTrue();
    assertThat(w.storageFailure()).as("not a storage failure").isNull();
    assertThat(w.submit(insert("later"))).isGreaterThan(after.result());
  }
}

package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Power loss, simulated: the server's database lives on {@link PowerLossFs}, which keeps only what was synced.
 * Each cycle starts the server, lets appenders write (Appends of a pair of messages with ids, one at a time per
 * conversation) while readers Get the conversations, kills the server after a random number of acknowledged
 * writes, cuts the power (everything not synced is dropped), checks the files with {@code PRAGMA integrity_check}
 * and restarts on them.
 *
 * <p>With {@code durability=full}: every acknowledged write is there after the cut, and so is everything a reader
 * was shown. With {@code normal}: acknowledged writes may be lost, but each conversation is still a prefix of what
 * its client sent (whole pairs, in order, nothing torn); and once the server's periodic sync of the log has covered
 * them (its metrics say so: no unsynced writes), a cut loses none of them. Both: the file is never corrupt.
 */
class PowerLossIT {
  /**
   * Power cuts per durability: the promise of {@code full} gets the most; {@code normal} promises less and a few
   * dozen cuts show it (each cycle is a server start, about 2-4 s on the CI machine).
   */
  private static final Map<String, Integer> CYCLES = Map.of(
      "full", Integer.getInteger("powerloss.cycles.full", 50),
      "normal", Integer.getInteger("powerloss.cycles.normal", 25));
  /**
   * How long each sync takes on the power-cut file system: about what an fdatasync takes on this machine's disk
   * (docs/guarantees.md). Without it a sync is a memory copy, and the moments between a commit and its sync, in
   * which a cut loses what a reader may already have seen, would be too short to ever be hit.
   */
  private static final int SYNC_MICROS = Integer.getInteger("powerloss.syncMicros", 1000);
  private static final int APPENDERS = 4;
  private static final int READERS = Integer.getInteger("powerloss.readers", 2);

  @TempDir
  Path dir;

  /** One appender's conversation: seq 0..next-1 sent in order; what it knows of their outcome. */
  private static final class Appender {
    final int client;
    /** Sequence numbers below this were sent, each after the one before was acknowledged. */
    int next;
    /** The highest acknowledged sequence number, or -1 (read by the readers while the appender writes). */
    volatile int acked = -1;
    /** The first sequence number sent in the current cycle (acknowledged writes before it were checked). */
    int cycleStart;
    /** When each Append of this cycle was acknowledged ({@link System#nanoTime()}), from {@link #cycleStart} on. */
    final List<Long> ackNanos = new ArrayList<>();

    Appender(int client) {
      this.client = client;
    }

    String thread() {
      return "power-" + client;
    }
  }

  /** Totals printed at the end. */
  private static final class Counts {
    long acknowledged;
    long found;
    long lost;
    long reads;
    /** Reads that showed a pair its appender had not yet been told was written. */
    long readsAhead;
    long seenLost;
    long unacknowledgedPresent;
    /** How long before the kill the oldest acknowledged Append a cut lost was acknowledged, at most. */
    double oldestLostMillis;
    int integrityOk;
    /** Cuts made once the server said every acknowledged write was synced (normal only). */
    int syncedCuts;
    long keptBySyncedCuts;
  }

  /** When a cycle's load ends in the SIGKILL and power cut. */
  private enum Cut {
    /** After a random number of acknowledged Appends. */
    AFTER_ACKS,
    /** When a reader is shown a pair its appender has not had acknowledged (or after 100 Appends). */
    ON_READ_AHEAD,
    /** With normal: load stopped, and the server's metrics show that the log sync covered every write. */
    AFTER_LOG_SYNC
  }

  @ParameterizedTest(name = "durability={0}")
  @ValueSource(strings = {"full", "normal"})
  void writesSurvivePowerCuts(String durability) throws Exception {
    PowerLossFs.assumeFuse();
    boolean full = durability.equals("full");
    int cycles = CYCLES.get(durability);
    Path mnt = Files.createDirectory(dir.resolve("mnt"));
    List<Appender> appenders = new ArrayList<>();
    for (int i = 0; i < APPENDERS; i++) {
      appenders.add(new Appender(i));
    }
    // The highest sequence number a reader saw in each conversation since the last check.
    AtomicLongArray seen = new AtomicLongArray(APPENDERS);
    for (int i = 0; i < APPENDERS; i++) {
      seen.set(i, -1);
    }
    Counts counts = new Counts();
    Random random = new Random(20261202L + durability.hashCode());
    long started = System.nanoTime();
    try (PowerLossFs fs = PowerLossFs.mount(mnt, SYNC_MICROS)) {
      Path db = mnt.resolve("conversations.db");
      Cut lastCut = Cut.AFTER_ACKS;
      long killNanos = 0;
      for (int cycle = 0; cycle <= cycles; cycle++) {
        ServerProcess server = Rpc.startSqlite(db, "--database-durability", durability,
            "--metrics-enabled", "true", "--metrics-port", "0");
        try {
          ManagedChannel ch = Rpc.channel(server.target());
          try {
            boolean keepsAcknowledged = full || lastCut == Cut.AFTER_LOG_SYNC;
            for (Appender a : appenders) {
              int found = check(ch, a, seen, keepsAcknowledged, full, counts, cycle, killNanos);
              counts.keptBySyncedCuts += lastCut == Cut.AFTER_LOG_SYNC ? found : 0;
            }
          } finally {
            Rpc.close(ch);
          }
          if (cycle == cycles) {
            server.stop();
            break;
          }
          // Odd cycles cut at the moment a reader is shown a write its writer has not had acknowledged yet (if a
          // read could show a commit before its sync, this is when a cut takes it back); even cycles, and odd
          // ones where no read gets ahead, after a random number of acknowledged Appends; with normal, even
          // cycles stop the load there and cut once the server has synced the log.
          lastCut = cycle % 2 == 1 ? Cut.ON_READ_AHEAD : full ? Cut.AFTER_ACKS : Cut.AFTER_LOG_SYNC;
          killNanos = runLoad(server, appenders, seen, counts,
              lastCut == Cut.ON_READ_AHEAD ? 100 : 1 + random.nextInt(40),
              lastCut);
          if (lastCut == Cut.AFTER_LOG_SYNC) {
            counts.syncedCuts++;
          }
        } finally {
          if (server.isAlive()) {
            server.kill();
          }
        }
        fs.cut();
        assertThat(integrityCheck(db, dir.resolve("copy-" + cycle))).as("cycle %d: PRAGMA integrity_check", cycle)
            .isEqualTo("ok");
        counts.integrityOk++;
      }
      Map<String, Long> fsCounters = fs.counters();
      System.out.printf("PowerLossIT: durability=%s cycles=%d appenders=%d readers=%d acknowledged=%d found=%d"
              + " lost=%d reads=%d reads_ahead_of_ack=%d seen_then_lost=%d unacknowledged_present=%d"
              + " integrity_ok=%d synced_cuts=%d kept_by_synced_cuts=%d oldest_lost_ms=%.0f fs_cuts=%d"
              + " fs_dropped_bytes=%d"
              + " fs_dropped_files=%d seconds=%.1f%n",
          durability, cycles, APPENDERS, READERS, counts.acknowledged, counts.found, counts.lost, counts.reads,
          counts.readsAhead, counts.seenLost, counts.unacknowledgedPresent, counts.integrityOk, counts.syncedCuts,
          counts.keptBySyncedCuts, counts.oldestLostMillis,
          fsCounters.get("cuts"), fsCounters.get("dropped_bytes"), fsCounters.get("dropped_files"),
          (System.nanoTime() - started) / 1e9);
    }
    assertThat(counts.integrityOk).isEqualTo(cycles);
    if (full) {
      assertThat(counts.lost).as("acknowledged writes lost with durability=full").isZero();
      assertThat(counts.seenLost).as("writes a reader saw, lost with durability=full").isZero();
      assertThat(counts.found).isEqualTo(counts.acknowledged);
    } else {
      assertThat(counts.keptBySyncedCuts).as("acknowledged writes kept by the cuts after the log sync").isPositive();
    }
  }

  private static Message msg(int client, int seq, String part) {
    return Message.newBuilder().setId(client + "-" + seq + "-" + part)
        .setJson("{\"client\":" + client + ",\"seq\":" + seq + ",\"part\":\"" + part + "\",\"pad\":\""
            + "x".repeat(seq % 5 * 200) + "\"}")
        .build();
  }

  /**
   * After a restart: the conversation must be exactly the pairs 0..k-1 that its client sent (a prefix, whole pairs,
   * in order, byte for byte). With {@code keepsAcknowledged}, k covers every acknowledged pair; with full, also
   * everything a reader saw. The client then continues from k, so that the next cycle checks the same way.
   *
   * @return the acknowledged pairs of the last cycle found
   */
  private static int check(ManagedChannel ch, Appender a, AtomicLongArray seen, boolean keepsAcknowledged,
      boolean full, Counts counts, int cycle, long killNanos) {
    List<Message> messages;
    try {
      Conversation conv = Rpc.stub(ch).get(GetRequest.newBuilder().setThreadId(a.thread()).build()).getConversation();
      messages = conv.getMessagesList();
    } catch (RuntimeException e) {
      assertThat(Rpc.code(e)).as("Get %s", a.thread()).isEqualTo(Status.Code.NOT_FOUND);
      messages = List.of();
    }
    assertThat(messages.size() % 2).as("cycle %d %s: a torn pair", cycle, a.thread()).isZero();
    int k = messages.size() / 2;
    assertThat(k).as("cycle %d %s holds more pairs than were sent", cycle, a.thread()).isLessThanOrEqualTo(a.next);
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
      Message expected = msg(a.client, i / 2, i % 2 == 0 ? "a" : "b");
      assertThat(m.toBuilder().clearCreateTime().clearPosition().build())
          .as("cycle %d %s message %d: the conversation is a prefix of what was sent", cycle, a.thread(), i)
          .isEqualTo(expected);
    }
    int ackedThisCycle = Math.max(0, a.acked + 1 - a.cycleStart);
    int foundThisCycle = Math.max(0, Math.min(k, a.acked + 1) - a.cycleStart);
    counts.found += foundThisCycle;
    counts.lost += ackedThisCycle - foundThisCycle;
    if (ackedThisCycle > foundThisCycle) {
      long oldestLostAck = a.ackNanos.get(Math.max(k, a.cycleStart) - a.cycleStart);
      counts.oldestLostMillis = Math.max(counts.oldestLostMillis, (killNanos - oldestLostAck) / 1e6);
    }
    if (k > a.acked + 1) {
      counts.unacknowledgedPresent += k - (a.acked + 1);
    }
    long sawUpTo = seen.getAndSet(a.client, -1);
    if (sawUpTo >= k) {
      counts.seenLost += sawUpTo + 1 - k;
    }
    if (keepsAcknowledged) {
      assertThat(k).as("cycle %d %s: pairs up to %d acknowledged, only 0..%d are there",
          cycle, a.thread(), a.acked, k - 1).isGreaterThan(a.acked);
    }
    if (full) {
      assertThat((long) k).as("cycle %d %s: a reader saw pair %d, only pairs 0..%d are there",
          cycle, a.thread(), sawUpTo, k - 1).isGreaterThan(sawUpTo);
    }
    // Continue from what is there: with normal, lost pairs are sent again (same ids, same bodies).
    a.next = k;
    a.acked = k - 1;
    a.cycleStart = k;
    a.ackNanos.clear();
    return foundThisCycle;
  }

  /**
   * Appenders and readers until {@code killAfter} Appends were acknowledged (or, cutting {@link Cut#ON_READ_AHEAD},
   * a reader was shown a pair not yet acknowledged to its appender, whichever comes first), then SIGKILL; cutting
   * {@link Cut#AFTER_LOG_SYNC}, the load stops first and the kill waits for the log sync.
   *
   * @return when the server was killed ({@link System#nanoTime()})
   */
  private static long runLoad(ServerProcess server, List<Appender> appenders, AtomicLongArray seen, Counts counts,
      int killAfter, Cut cut) throws Exception {
    boolean onReadAhead = cut == Cut.ON_READ_AHEAD;
    AtomicInteger acked = new AtomicInteger();
    AtomicInteger reads = new AtomicInteger();
    AtomicInteger readsAhead = new AtomicInteger();
    AtomicBoolean dead = new AtomicBoolean();
    CountDownLatch enough = new CountDownLatch(1);
    ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    List<ManagedChannel> channels = new ArrayList<>();
    for (Appender a : appenders) {
      ManagedChannel ch = Rpc.channel(server.target());
      channels.add(ch);
      threads.add(new Thread(() -> {
        for (int i = 0; i < 100_000 && !dead.get(); i++) { // bounded; the kill ends it long before
          int seq = a.next++;
          try {
            Rpc.stub(ch).append(AppendRequest.newBuilder().setThreadId(a.thread())
                .addMessages(msg(a.client, seq, "a")).addMessages(msg(a.client, seq, "b")).build());
          } catch (RuntimeException e) {
            expectDead(e, unexpected);
            return; // the outcome of this Append is unknown: check() allows it either way
          }
          a.ackNanos.add(System.nanoTime());
          a.acked = seq;
          if (acked.incrementAndGet() >= killAfter) {
            enough.countDown();
          }
        }
      }, "power-appender-" + a.client));
    }
    for (int r = 0; r < READERS; r++) {
      ManagedChannel ch = Rpc.channel(server.target());
      channels.add(ch);
      int reader = r;
      threads.add(new Thread(() -> {
        Random random = new Random(reader);
        for (int i = 0; i < 1_000_000 && !dead.get(); i++) {
          int client = random.nextInt(appenders.size());
          List<Message> messages;
          try {
            messages = Rpc.stub(ch).get(GetRequest.newBuilder().setThreadId("power-" + client).build())
                .getConversation().getMessagesList();
          } catch (RuntimeException e) {
            if (Rpc.code(e) == Status.Code.NOT_FOUND) {
              continue;
            }
            expectDead(e, unexpected);
            return;
          }
          reads.incrementAndGet();
          long pairs = messages.size() / 2;
          seen.accumulateAndGet(client, pairs - 1, Math::max);
          if (pairs - 1 > appenders.get(client).acked) {
            readsAhead.incrementAndGet();
            if (onReadAhead) {
              enough.countDown();
            }
          }
        }
      }, "power-reader-" + r));
    }
    threads.forEach(Thread::start);
    boolean reached = enough.await(60, TimeUnit.SECONDS);
    long killedAt = System.nanoTime();
    if (cut != Cut.AFTER_LOG_SYNC) {
      server.kill();
    }
    dead.set(true);
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(60));
      assertThat(t.isAlive()).as("%s ended after the kill", t.getName()).isFalse();
    }
    if (cut == Cut.AFTER_LOG_SYNC) {
      awaitLogSynced(server, acked.get());
      killedAt = System.nanoTime();
      server.kill();
    }
    channels.forEach(Rpc::close);
    assertThat(unexpected).as("unexpected client-side failures").isEmpty();
    assertThat(reached).as("%d Appends acknowledged before the kill", killAfter).isTrue();
    for (Appender a : appenders) {
      counts.acknowledged += Math.max(0, a.acked + 1 - a.cycleStart);
    }
    counts.reads += reads.get();
    counts.readsAhead += readsAhead.get();
    return killedAt;
  }

  /**
   * Waits until the server's metrics show that its log sync covered every write: at least {@code acknowledged}
   * writes counted (so the figures were read after the last acknowledgement) and none unsynced.
   */
  private static void awaitLogSynced(ServerProcess server, int acknowledged) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String scrape;
    do {
      assertThat(System.nanoTime()).as("the server's log sync covering %d acknowledged Appends", acknowledged)
          .isLessThan(deadline);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      scrape = PrometheusScrape.of(server.metricsUrl());
    } while (PrometheusScrape.value(scrape, "conversation_store_writes_total") < acknowledged
        || PrometheusScrape.value(scrape, "conversation_store_unsynced_writes") > 0);
  }

  private static void expectDead(RuntimeException e, ConcurrentLinkedQueue<Throwable> unexpected) {
    if (!Rpc.connectionLost(e)) {
      unexpected.add(e);
    }
  }

  /**
   * {@code PRAGMA integrity_check} of the database as the cut left it, on a copy (database and log) outside the
   * power-cut file system: opening it recovers the log and may checkpoint it, which must not change what the
   * server finds on restart.
   */
  private static String integrityCheck(Path db, Path copyDir) throws Exception {
    Files.createDirectories(copyDir);
    Path copy = copyDir.resolve(db.getFileName());
    Files.copy(db, copy);
    Path wal = db.resolveSibling(db.getFileName() + "-wal");
    if (Files.exists(wal)) {
      Files.copy(wal, copyDir.resolve(wal.getFileName()));
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + copy);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
      StringBuilder result = new StringBuilder();
      while (rs.next()) {
        result.append(result.length() == 0 ? "" : "\n").append(rs.getString(1));
      }
      return result.toString();
    } finally {
      try (var files = Files.list(copyDir)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(copyDir);
    }
  }
}

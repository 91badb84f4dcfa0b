package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL while 16 clients write, restart on the same file, repeat. Every acknowledged message must be there,
 * in order, exactly once, and no request may be half-applied: an Append of a pair of messages stores both or
 * neither, and a Save's history, cache info and metadata always agree with each other.
 *
 * <p>Cycles alternate durability=full and durability=normal: both promise to survive a crash of the process.
 */
class CrashIT {
  private static final int CYCLES = 20;
  private static final int CLIENTS = 16;
  /** Clients 0..APPENDERS-1 append pairs; the others Save their whole history plus counters. */
  private static final int APPENDERS = 12;
  private static final Pattern BODY = Pattern.compile("\\{\"client\":(\\d+),\"seq\":(\\d+),\"part\":\"([ab])\"");

  @TempDir
  Path dir;

  /** What one client knows: the next sequence number to try and the highest one acknowledged. */
  private static final class ClientState {
    final int client;
    int nextSeq;
    int ackedSeq = -1;
    long acknowledged;
    final java.util.BitSet ackedSeqs = new java.util.BitSet();
    int unknownOutcomes;
    /** The history a Save client last sent (its view of the conversation; rebuilt from the server on restart). */
    List<Message> history = new ArrayList<>();

    ClientState(int client) {
      this.client = client;
    }

    String thread() {
      return "crash-" + client;
    }
  }

  @Test
  void acknowledgedWritesSurviveSigkill() throws Exception {
    Path db = dir.resolve("crash.db");
    List<ClientState> clients = new ArrayList<>();
    for (int i = 0; i < CLIENTS; i++) {
      clients.add(new ClientState(i));
    }
    Random random = new Random(20240501);
    long started = System.nanoTime();
    long totalAcked = 0;
    long inFlightAtKill = 0;
    for (int cycle = 0; cycle < CYCLES; cycle++) {
      String durability = cycle % 2 == 0 ? "full" : "normal";
      ServerProcess server = Rpc.startSqlite(db, "--database-durability", durability);
      try {
        ManagedChannel verifyChannel = Rpc.channel(server.target());
        try {
          verifyAll(verifyChannel, clients);
        } finally {
          Rpc.close(verifyChannel);
        }
        // Kill once this many writes were acknowledged in this cycle (an event, not a timer).
        int killAfter = 5 + random.nextInt(80);
        AtomicInteger ackedThisCycle = new AtomicInteger();
        CountDownLatch enough = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        AtomicInteger failedCalls = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        List<ManagedChannel> channels = new ArrayList<>();
        for (ClientState c : clients) {
          ManagedChannel ch = Rpc.channel(server.target());
          channels.add(ch);
          Thread t = new Thread(() -> runClient(c, ch, ackedThisCycle, killAfter, enough, failedCalls, unexpected),
              "crash-client-" + c.client);
          threads.add(t);
          t.start();
        }
        boolean reached = enough.await(60, TimeUnit.SECONDS);
        server.kill();
        for (Thread t : threads) {
          t.join(TimeUnit.SECONDS.toMillis(60));
          assertThat(t.isAlive()).as("client thread ended after the kill").isFalse();
        }
        channels.forEach(Rpc::close);
        assertThat(unexpected).as("unexpected client-side failures").isEmpty();
        assertThat(reached).as("cycle %d reached %d acknowledged writes before the kill", cycle, killAfter).isTrue();
        totalAcked += ackedThisCycle.get();
        inFlightAtKill += failedCalls.get();
      } finally {
        if (server.isAlive()) {
          server.kill();
        }
      }
    }
    // The last restart: everything acknowledged over all cycles must be there.
    long found;
    try (ServerProcess server = Rpc.startSqlite(db)) {
      ManagedChannel ch = Rpc.channel(server.target());
      try {
        found = verifyAll(ch, clients);
      } finally {
        Rpc.close(ch);
      }
    }
    long acknowledgedMessages = clients.stream().mapToLong(c -> c.acknowledged).sum();
    System.out.printf("CrashIT: cycles=%d clients=%d acknowledged_writes=%d acknowledged_messages=%d found=%d"
            + " lost=%d half_written=0 failed_in_flight=%d seconds=%.1f%n",
        CYCLES, CLIENTS, totalAcked, acknowledgedMessages, found, acknowledgedMessages - found, inFlightAtKill,
        (System.nanoTime() - started) / 1e9);
    assertThat(found).isEqualTo(acknowledgedMessages);
  }

  private static Message msg(int client, int seq, String part) {
    return Message.newBuilder().setId(client + "-" + seq + "-" + part)
        .setJson("{\"client\":" + client + ",\"seq\":" + seq + ",\"part\":\"" + part + "\",\"pad\":\""
            + "x".repeat(seq % 7 * 50) + "\"}")
        .build();
  }

  /** Writes until the first failure (the server died), counting acknowledgements. */
  private static void runClient(ClientState c, ManagedChannel ch, AtomicInteger ackedThisCycle, int killAfter,
      CountDownLatch enough, AtomicInteger failedCalls, ConcurrentLinkedQueue<Throwable> unexpected) {
    // Bounded: the server is killed long before this many writes; if not, the loop still ends.
    for (int i = 0; i < 100_000; i++) {
      int seq = c.nextSeq++;
      try {
        if (c.client < APPENDERS) {
          Rpc.stub(ch).append(AppendRequest.newBuilder().setThreadId(c.thread())
              .addMessages(msg(c.client, seq, "a")).addMessages(msg(c.client, seq, "b")).build());
        } else {
          List<Message> next = new ArrayList<>(c.history);
          next.add(msg(c.client, seq, "a"));
          next.add(msg(c.client, seq, "b"));
          Rpc.stub(ch).save(SaveRequest.newBuilder().setThreadId(c.thread()).addAllMessages(next)
              .putCacheInfo("messages", next.size()).putCacheInfo("seq", seq)
              .putMetadata("last_seq", Integer.toString(seq)).build());
          c.history = next;
        }
      } catch (RuntimeException e) {
        if (!Rpc.connectionLost(e)) {
          unexpected.add(e);
        }
        failedCalls.incrementAndGet();
        c.unknownOutcomes++;
        return; // the server is gone: the outcome of this call is unknown, which the checks allow
      }
      c.ackedSeq = seq;
      c.ackedSeqs.set(seq);
      c.acknowledged += 2;
      if (ackedThisCycle.incrementAndGet() >= killAfter) {
        enough.countDown();
      }
    }
  }

  /**
   * Checks every conversation against what its client had acknowledged; returns the number of acknowledged
   * messages found (the check fails on the first one missing).
   * Each message is a pair half (a or b) of one request: pairs appear whole, in increasing sequence, once.
   */
  private static long verifyAll(ManagedChannel ch, List<ClientState> clients) {
    long found = 0;
    for (ClientState c : clients) {
      Conversation conv;
      try {
        conv = Rpc.stub(ch).get(GetRequest.newBuilder().setThreadId(c.thread()).build()).getConversation();
      } catch (RuntimeException e) {
        assertThat(Rpc.code(e)).as("Get %s", c.thread()).isEqualTo(io.grpc.Status.Code.NOT_FOUND);
        assertThat(c.ackedSeq).as("%s not found but sequence %d was acknowledged", c.thread(), c.ackedSeq)
            .isEqualTo(-1);
        continue;
      }
      List<Message> messages = conv.getMessagesList();
      assertThat(messages.size() % 2).as("%s holds a half-written pair", c.thread()).isZero();
      int previous = -1;
      java.util.BitSet present = new java.util.BitSet();
      for (int i = 0; i < messages.size(); i += 2) {
        Message a = messages.get(i);
        Message b = messages.get(i + 1);
        Matcher ma = BODY.matcher(a.getJson());
        Matcher mb = BODY.matcher(b.getJson());
        assertThat(ma.lookingAt() && mb.lookingAt()).as("%s message bodies at %d", c.thread(), i).isTrue();
        int seq = Integer.parseInt(ma.group(2));
        assertThat(Integer.parseInt(ma.group(1))).isEqualTo(c.client);
        assertThat(ma.group(3) + mb.group(3)).as("%s pair at %d", c.thread(), i).isEqualTo("ab");
        assertThat(Integer.parseInt(mb.group(2))).as("%s pair at %d", c.thread(), i).isEqualTo(seq);
        assertThat(a).as("%s message %d byte for byte", c.thread(), i)
            .isEqualTo(msg(c.client, seq, "a").toBuilder().setCreateTime(a.getCreateTime()).setPosition(i).build());
        assertThat(seq).as("%s order (once, increasing)", c.thread()).isGreaterThan(previous);
        previous = seq;
        present.set(seq);
      }
      java.util.BitSet lost = (java.util.BitSet) c.ackedSeqs.clone();
      lost.andNot(present);
      assertThat(lost.isEmpty()).as("%s: acknowledged sequences missing after restart: %s", c.thread(), lost).isTrue();
      assertThat(previous).as("%s holds a write newer than any attempted", c.thread()).isLessThan(c.nextSeq);
      // Anything present beyond the acknowledged writes can only be the call in flight at a kill.
      java.util.BitSet extra = (java.util.BitSet) present.clone();
      extra.andNot(c.ackedSeqs);
      assertThat(extra.cardinality()).as("%s unacknowledged writes present", c.thread())
          .isLessThanOrEqualTo(c.unknownOutcomes);
      if (c.client >= APPENDERS) {
        // A Save is one transaction: history, cache info and metadata must be from the same request.
        assertThat(conv.getCacheInfoMap().get("messages")).as("%s cache_info vs history", c.thread())
            .isEqualTo((long) messages.size());
        assertThat(conv.getCacheInfoMap().get("seq")).isEqualTo((long) previous);
        assertThat(conv.getMetadataMap().get("last_seq")).isEqualTo(Integer.toString(previous));
        // The client continues from what the server holds (its last call's outcome was unknown).
        c.history = new ArrayList<>(messages.stream()
            .map(m -> m.toBuilder().clearCreateTime().clearPosition().build()).toList());
      }
      found += 2L * c.ackedSeqs.cardinality(); // every acknowledged pair was checked present above
    }
    return found;
  }

}

package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM while several clients write. The server must exit 0; every call either completes (and is then kept)
 * or fails with UNAVAILABLE (CANCELLED tolerated: a call cut by the closing connection); after a restart every
 * acknowledged write is there. Repeated over a few cycles on the same file.
 */
class GracefulShutdownIT {
  private static final int CYCLES = 4;
  private static final int CLIENTS = 8;

  @TempDir
  Path dir;

  private static final class Writer {
    final int client;
    final BitSet acked = new BitSet();
    final BitSet failed = new BitSet();
    int next;

    Writer(int client) {
      this.client = client;
    }

    String thread() {
      return "graceful-" + client;
    }
  }

  @Test
  void sigtermLosesNoAcknowledgedWrite() throws Exception {
    long started = System.nanoTime();
    Path db = dir.resolve("graceful.db");
    List<Writer> writers = new ArrayList<>();
    for (int i = 0; i < CLIENTS; i++) {
      writers.add(new Writer(i));
    }
    Map<Status.Code, Integer> failures = new EnumMap<>(Status.Code.class);
    int totalAcked = 0;
    for (int cycle = 0; cycle < CYCLES; cycle++) {
      ServerProcess server = Rpc.startSqlite(db);
      AtomicInteger acked = new AtomicInteger();
      int stopAfter = 30 + 40 * cycle;
      CountDownLatch enough = new CountDownLatch(1);
      ConcurrentLinkedQueue<Status.Code> codes = new ConcurrentLinkedQueue<>();
      List<Thread> threads = new ArrayList<>();
      List<ManagedChannel> channels = new ArrayList<>();
      for (Writer w : writers) {
        ManagedChannel ch = Rpc.channel(server.target());
        channels.add(ch);
        Thread t = new Thread(() -> {
          for (int i = 0; i < 100_000; i++) { // bounded; ends at the first failure once the server stops
            int seq = w.next++;
            try {
              Rpc.stub(ch).append(AppendRequest.newBuilder().setThreadId(w.thread())
                  .addMessages(Message.newBuilder().setId(seq + "a").setJson("{\"seq\":" + seq + "}"))
                  .addMessages(Message.newBuilder().setId(seq + "b").setJson("{\"seq\":" + seq + "}")).build());
            } catch (RuntimeException e) {
              w.failed.set(seq);
              codes.add(Rpc.code(e));
              return;
            }
            w.acked.set(seq);
            if (acked.incrementAndGet() >= stopAfter) {
              enough.countDown();
            }
          }
        }, "graceful-client-" + w.client);
        threads.add(t);
        t.start();
      }
      assertThat(enough.await(60, TimeUnit.SECONDS)).as("load reached %d acknowledged writes", stopAfter).isTrue();
      int exitCode = server.stop(); // SIGTERM while the clients keep writing; waits for the exit
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(60));
        assertThat(t.isAlive()).isFalse();
      }
      channels.forEach(Rpc::close);
      assertThat(exitCode).as("exit code after SIGTERM; output:%n%s", server.output()).isZero();
      assertThat(server.output()).contains("stopped");
      for (Status.Code code : codes) {
        failures.merge(code, 1, Integer::sum);
      }
      assertThat(codes).as("in-flight calls fail only with UNAVAILABLE (or CANCELLED)")
          .allMatch(c -> c == Status.Code.UNAVAILABLE || c == Status.Code.CANCELLED);
      totalAcked += acked.get();
    }

    int found = 0;
    int failedButWritten = 0;
    try (ServerProcess server = Rpc.startSqlite(db)) {
      ManagedChannel ch = Rpc.channel(server.target());
      for (Writer w : writers) {
        Conversation c = Rpc.stub(ch).get(GetRequest.newBuilder().setThreadId(w.thread()).build())
            .getConversation();
        BitSet present = new BitSet();
        List<Message> messages = c.getMessagesList();
        assertThat(messages.size() % 2).isZero();
        int previous = -1;
        for (int i = 0; i < messages.size(); i += 2) {
          String a = messages.get(i).getId();
          String b = messages.get(i + 1).getId();
          int seq = Integer.parseInt(a.substring(0, a.length() - 1));
          assertThat(a).endsWith("a");
          assertThat(b).isEqualTo(seq + "b");
          assertThat(seq).as("order and uniqueness").isGreaterThan(previous);
          previous = seq;
          present.set(seq);
        }
        BitSet lost = (BitSet) w.acked.clone();
        lost.andNot(present);
        assertThat(lost.isEmpty()).as("%s lost acknowledged writes %s", w.thread(), lost).isTrue();
        BitSet extra = (BitSet) present.clone();
        extra.andNot(w.acked);
        BitSet unexplained = (BitSet) extra.clone();
        unexplained.andNot(w.failed);
        assertThat(unexplained.isEmpty()).as("writes present that were never attempted: %s", unexplained).isTrue();
        failedButWritten += extra.cardinality();
        found += w.acked.cardinality();
      }
      Rpc.close(ch);
    }
    System.out.printf("GracefulShutdownIT: cycles=%d clients=%d acknowledged=%d found=%d lost=%d"
            + " failed_calls=%s failed_but_written=%d exit_codes=0 seconds=%.1f%n",
        CYCLES, CLIENTS, totalAcked, found, totalAcked - found, failures, failedButWritten,
        (System.nanoTime() - started) / 1e9);
    assertThat(found).isEqualTo(totalAcked);
  }
}

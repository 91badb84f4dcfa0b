package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many clients doing read-modify-write (Get, then Save / UpdateCache / Append with expected_version) on a few
 * hot conversations. Every acknowledged operation is recorded; the final state must be exactly what they add
 * up to:
 *
 * <ul>
 *   <li>the acknowledged operations on a conversation form one chain: each one's expected_version is the
 *       version the previous one produced, so none overwrote another (no lost update);
 *   <li>the counter {@code n} in cache_info equals the number of acknowledged increments;
 *   <li>the history is exactly the acknowledged messages, each once, in chain order;
 *   <li>versions strictly increase along the chain and as each client observes them;
 *   <li>every ABORTED names a current version that differs from the expected one and that really existed.
 * </ul>
 */
class RaceIT {
  private static final int CLIENTS = 12;
  private static final int OPS_PER_CLIENT = 60;
  private static final int HOT = 3;

  @TempDir
  Path dir;

  private enum Kind { UPDATE_CACHE, APPEND, SAVE }

  /** An acknowledged write: expected_version it was made against and the version it produced. */
  private record Ack(int conv, Kind kind, long expected, long produced, String messageId) {}

  /** A refused write: what was expected and what the server said was current. */
  private record Conflict(int conv, long expected, long current) {}

  @Test
  void readModifyWriteLosesNothing() throws Exception {
    try (ServerProcess server = Rpc.startSqlite(dir.resolve("race.db"), "--database-durability", "normal")) {
      raceThrough(List.of(server.target()), "RaceIT");
    }
  }

  /**
   * The race through the servers at {@code targets}, which share one database: each client reads through one
   * server and writes through the next, so that with several servers every read-modify-write crosses servers.
   */
  static void raceThrough(List<String> targets, String name) throws Exception {
    long started = System.nanoTime();
    {
      ManagedChannel setup = Rpc.channel(targets.get(0));
      long[] initial = new long[HOT];
      for (int i = 0; i < HOT; i++) {
        initial[i] = Rpc.stub(setup).save(SaveRequest.newBuilder().setThreadId(thread(i)).putCacheInfo("n", 0)
            .setExpectedVersion(0).build()).getVersion();
      }
      ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<Conflict> conflicts = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
      List<Thread> threads = new ArrayList<>();
      List<ManagedChannel> channels = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        List<ManagedChannel> own = targets.stream().map(Rpc::channel).toList();
        channels.addAll(own);
        Thread t = new Thread(() -> runClient(client, own, acks, conflicts, problems), "race-client-" + c);
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) {
        t.join(TimeUnit.MINUTES.toMillis(3));
        assertThat(t.isAlive()).as("client finished").isFalse();
      }
      channels.forEach(Rpc::close);
      assertThat(problems).isEmpty();

      Map<Kind, Integer> ackedByKind = new HashMap<>();
      long increments = 0;
      for (int i = 0; i < HOT; i++) {
        int conv = i;
        List<Ack> chain = acks.stream().filter(a -> a.conv() == conv)
            .sorted(Comparator.comparingLong(Ack::produced)).toList();
        Conversation finalState = Rpc.stub(setup).get(GetRequest.newBuilder().setThreadId(thread(i)).build())
            .getConversation();
        Set<Long> versions = new HashSet<>();
        versions.add(initial[i]);
        long previous = initial[i];
        List<String> expectedIds = new ArrayList<>();
        long n = 0;
        for (Ack a : chain) {
          assertThat(a.expected()).as("%s: write acknowledged at version %d was made against %d, but the"
              + " version before it was %d (a lost update)", thread(i), a.produced(), a.expected(), previous)
              .isEqualTo(previous);
          assertThat(a.produced()).as("versions strictly increase").isGreaterThan(previous);
          previous = a.produced();
          versions.add(a.produced());
          if (a.kind() != Kind.UPDATE_CACHE) {
            expectedIds.add(a.messageId());
          }
          if (a.kind() != Kind.APPEND) {
            n++;
          }
          ackedByKind.merge(a.kind(), 1, Integer::sum);
        }
        assertThat(finalState.getVersion()).as("%s final version", thread(i)).isEqualTo(previous);
        assertThat(finalState.getCacheInfoMap().get("n")).as("%s counter == acknowledged increments", thread(i))
            .isEqualTo(n);
        assertThat(finalState.getMessagesList().stream().map(Message::getId).toList())
            .as("%s history == acknowledged messages in order", thread(i)).isEqualTo(expectedIds);
        for (Conflict x : conflicts) {
          if (x.conv() == conv) {
            assertThat(x.current()).as("ABORTED is a real conflict").isNotEqualTo(x.expected());
            assertThat(versions).as("ABORTED names a version that existed").contains(x.current());
          }
        }
        increments += n;
      }
      Rpc.close(setup);
      System.out.printf("%s: servers=%d clients=%d hot_conversations=%d attempted=%d acknowledged=%d"
              + " (update_cache=%d append=%d save=%d) aborted=%d increments=%d lost_updates=0 seconds=%.1f%n",
          name, targets.size(), CLIENTS, HOT, CLIENTS * OPS_PER_CLIENT, acks.size(), ackedByKind.getOrDefault(Kind.UPDATE_CACHE, 0),
          ackedByKind.getOrDefault(Kind.APPEND, 0), ackedByKind.getOrDefault(Kind.SAVE, 0), conflicts.size(),
          increments, (System.nanoTime() - started) / 1e9);
      assertThat(acks.size() + conflicts.size()).isEqualTo(CLIENTS * OPS_PER_CLIENT);
      assertThat(conflicts).as("the test produced real contention").isNotEmpty();
    }
  }

  private static String thread(int i) {
    return "hot-" + i;
  }

  private static void runClient(int client, List<ManagedChannel> servers, ConcurrentLinkedQueue<Ack> acks,
      ConcurrentLinkedQueue<Conflict> conflicts, ConcurrentLinkedQueue<String> problems) {
    Random random = new Random(client * 7919L + 1);
    long[] lastSeen = new long[HOT];
    for (int op = 0; op < OPS_PER_CLIENT; op++) {
      ManagedChannel reader = servers.get((client + op) % servers.size());
      ManagedChannel ch = servers.get((client + op + 1) % servers.size());
      int conv = random.nextInt(HOT);
      Kind kind = Kind.values()[random.nextInt(Kind.values().length)];
      String id = "c" + client + "-" + op;
      long expected = -1;
      try {
        Conversation current = Rpc.stub(reader).get(GetRequest.newBuilder().setThreadId(thread(conv)).build())
            .getConversation();
        expected = current.getVersion();
        if (expected < lastSeen[conv]) {
          problems.add(thread(conv) + ": client " + client + " saw version " + expected + " after " + lastSeen[conv]);
        }
        lastSeen[conv] = expected;
        long n = current.getCacheInfoOrDefault("n", -1);
        long produced = switch (kind) {
          case UPDATE_CACHE -> Rpc.stub(ch).updateCache(UpdateCacheRequest.newBuilder().setThreadId(thread(conv))
              .putCacheInfo("n", n + 1).setExpectedVersion(expected).build()).getVersion();
          case APPEND -> Rpc.stub(ch).append(AppendRequest.newBuilder().setThreadId(thread(conv))
              .addMessages(Message.newBuilder().setId(id).setJson("{\"by\":" + client + "}"))
              .setExpectedVersion(expected).build()).getVersion();
          case SAVE -> {
            List<Message> history = new ArrayList<>(current.getMessagesList().stream()
                .map(m -> m.toBuilder().clearCreateTime().clearPosition().build()).toList());
            history.add(Message.newBuilder().setId(id).setJson("{\"by\":" + client + "}").build());
            yield Rpc.stub(ch).save(SaveRequest.newBuilder().setThreadId(thread(conv)).addAllMessages(history)
                .putCacheInfo("n", n + 1).setExpectedVersion(expected).build()).getVersion();
          }
        };
        if (produced <= lastSeen[conv]) {
          problems.add(thread(conv) + ": acknowledged version " + produced + " not above " + lastSeen[conv]);
        }
        lastSeen[conv] = produced;
        acks.add(new Ack(conv, kind, expected, produced, id));
      } catch (RuntimeException e) {
        if (Rpc.code(e) == Status.Code.ABORTED && expected >= 0) {
          String current = Rpc.errorInfo(e).map(i -> i.getMetadataMap().get("current_version")).orElse(null);
          if (current == null) {
            problems.add("ABORTED without current_version: " + e);
          } else {
            conflicts.add(new Conflict(conv, expected, Long.parseLong(current)));
          }
        } else {
          problems.add(kind + " " + thread(conv) + " failed: " + e);
        }
      }
    }
  }
}

package io.vmpilot.conversation.it;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BooleanSupplier;

/**
 * Clients that each append numbered messages with ids to a conversation of their own, as a careful agent does: a
 * failed call is sent again, same id, until it is acknowledged, each time through the next server. What was
 * acknowledged is recorded, so that a test can check afterwards that every acknowledged message is stored exactly
 * once, in order, whatever happened to servers and database meanwhile.
 */
final class RetryingAppenders implements AutoCloseable {
  private final AtomicReferenceArray<String> targets;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final int[] acknowledged;
  private final AtomicLong acks = new AtomicLong();
  private final AtomicLong failedCalls = new AtomicLong();
  private final Map<Status.Code, AtomicInteger> failuresByCode = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running = true;

  /** Starts {@code clients} clients over the servers at {@code targets} (a place may be changed while they run). */
  RetryingAppenders(int clients, List<String> targets) {
    this.targets = new AtomicReferenceArray<>(targets.toArray(String[]::new));
    this.acknowledged = new int[clients];
    for (int c = 0; c < clients; c++) {
      int client = c;
      acknowledged[c] = -1;
      Thread t = new Thread(() -> run(client), "appender-" + c);
      threads.add(t);
      t.start();
    }
  }

  /** Points place {@code i} at another server (a restarted one listens on a new port). */
  void retarget(int i, String target) {
    targets.set(i, target);
  }

  static String thread(int client) {
    return "appender-" + client;
  }

  private static String id(int client, int seq) {
    return "c" + client + "-" + seq;
  }

  private ManagedChannel channel(String target) {
    return channels.computeIfAbsent(target, Rpc::channel);
  }

  private void run(int client) {
    int place = client % targets.length();
    for (int seq = 0; running; seq++) {
      AppendRequest request = AppendRequest.newBuilder().setThreadId(thread(client))
          .addMessages(Message.newBuilder().setId(id(client, seq)).setJson("{\"client\":" + client + ",\"seq\":" + seq
              + "}")).build();
      while (true) {
        try {
          int appended = Rpc.stub(channel(targets.get(place))).append(request).getAppendedCount();
          if (appended > 1) {
            problems.add(id(client, seq) + " appended " + appended + " messages");
          }
          synchronized (acknowledged) {
            acknowledged[client] = seq;
          }
          acks.incrementAndGet();
          break;
        } catch (RuntimeException e) {
          Status.Code code = Rpc.code(e);
          failedCalls.incrementAndGet();
          failuresByCode.computeIfAbsent(code, k -> new AtomicInteger()).incrementAndGet();
          if (code != Status.Code.UNAVAILABLE && code != Status.Code.DEADLINE_EXCEEDED) {
            problems.add(id(client, seq) + " failed with " + code + ": " + e.getMessage());
          }
          place = (place + 1) % targets.length();
          if (!running) {
            return;
          }
          pause();
        }
      }
    }
  }

  /** A client's back-off before it retries, as a real client has; not synchronisation. */
  private static void pause() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  long acks() {
    return acks.get();
  }

  long failedCalls() {
    return failedCalls.get();
  }

  String failuresByCode() {
    return failuresByCode.toString();
  }

  /** Polls (every 50 ms, up to {@code timeout}) until {@code condition} holds; false if it never did. */
  static boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        return false;
      }
      Thread.sleep(50); // polling interval: the loop ends on the observed condition
    }
    return true;
  }

  /** Stops the clients (each finishes or abandons its current call) and waits for them. */
  void stop() throws InterruptedException {
    running = false;
    for (Thread t : threads) {
      t.join(TimeUnit.MINUTES.toMillis(1));
      if (t.isAlive()) {
        problems.add(t.getName() + " did not stop");
      }
    }
  }

  /**
   * Checks through {@code target} that each client's conversation holds exactly its messages 0..n in order, each
   * once, with n at least the last acknowledged (the one after it may be there too: sent, stored, not answered).
   * Returns the problems found, with those the clients met.
   */
  List<String> verify(String target) {
    List<String> found = new ArrayList<>(problems);
    ManagedChannel ch = channel(target);
    for (int client = 0; client < acknowledged.length; client++) {
      int acked;
      synchronized (acknowledged) {
        acked = acknowledged[client];
      }
      List<String> ids = Rpc.stub(ch).get(GetRequest.newBuilder().setThreadId(thread(client)).build())
          .getConversation().getMessagesList().stream().map(Message::getId).toList();
      for (int seq = 0; seq < ids.size(); seq++) {
        if (!ids.get(seq).equals(id(client, seq))) {
          found.add(thread(client) + " position " + seq + " holds " + ids.get(seq) + ", not " + id(client, seq));
          break;
        }
      }
      if (ids.size() < acked + 1) {
        found.add(thread(client) + " lost acknowledged messages: has " + ids.size() + ", acknowledged up to seq "
            + acked);
      }
      if (ids.size() > acked + 2) {
        found.add(thread(client) + " holds " + ids.size() + " messages, more than were sent (" + (acked + 2) + ")");
      }
    }
    return found;
  }

  @Override
  public void close() {
    running = false;
    channels.values().forEach(Rpc::close);
  }
}

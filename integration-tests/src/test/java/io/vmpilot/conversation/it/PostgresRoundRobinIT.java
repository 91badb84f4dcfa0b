package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Message;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The README's deployment: two servers on one PostgreSQL, the Java client spreading calls over both
 * ({@code ConversationClient.builder(List.of(a, b))}, gRPC's round_robin, retries of UNAVAILABLE), and a rolling
 * restart of both servers, each coming back on its address. No call may fail, no acknowledged write may be lost.
 */
class PostgresRoundRobinIT {
  private static final int CLIENT_THREADS = 6;

  @Test
  void aRollingRestartBehindTheRoundRobinClientFailsNoCall() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(2)) {
      List<String> servers = List.of(fleet.server(0).target(), fleet.server(1).target());
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicLong acks = new AtomicLong();
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      int[] acked = new int[CLIENT_THREADS];
      List<Thread> threads = new ArrayList<>();
      try (ConversationClient client = ConversationClient.builder(servers).maxAttempts(5)
          .deadline(Duration.ofSeconds(20)).build()) {
        for (int t = 0; t < CLIENT_THREADS; t++) {
          int thread = t;
          acked[t] = -1;
          Thread worker = new Thread(() -> {
            for (int seq = 0; running.get(); seq++) {
              try {
                client.append(AppendRequest.newBuilder().setThreadId("rr-" + thread)
                    .addMessages(Message.newBuilder().setId("m" + seq).setJson("{\"seq\":" + seq + "}")).build());
                synchronized (acked) {
                  acked[thread] = seq;
                }
                acks.incrementAndGet();
              } catch (RuntimeException e) {
                failures.add("rr-" + thread + " m" + seq + ": " + e);
                return;
              }
            }
          }, "round-robin-client-" + t);
          threads.add(worker);
          worker.start();
        }
        assertThat(RetryingAppenders.await(() -> acks.get() >= 200, Duration.ofSeconds(120))).isTrue();
        for (int i = 0; i < fleet.size(); i++) {
          assertThat(fleet.restartOnSamePort(i)).as("graceful exit code").isZero();
          long now = acks.get();
          assertThat(RetryingAppenders.await(() -> acks.get() >= now + 100, Duration.ofSeconds(120)))
              .as("writes go on after restarting server %d; failures: %s", i, failures).isTrue();
        }
        running.set(false);
        for (Thread t : threads) {
          t.join(TimeUnit.MINUTES.toMillis(1));
        }
        for (int t = 0; t < CLIENT_THREADS; t++) {
          List<String> ids = client.get("rr-" + t).orElseThrow().getMessagesList().stream()
              .map(Message::getId).toList();
          assertThat(ids.size()).as("rr-%d holds every acknowledged message", t).isEqualTo(acked[t] + 1);
          for (int seq = 0; seq < ids.size(); seq++) {
            assertThat(ids.get(seq)).isEqualTo("m" + seq);
          }
        }
      }
      System.out.printf("PostgresRoundRobinIT rolling restart: servers=2 restarted=2 client=round_robin threads=%d"
          + " acknowledged=%d failed_calls=%d lost=0%n", CLIENT_THREADS, acks.get(), failures.size());
      assertThat(failures).as("calls that failed through the client (after its retries)").isEmpty();
    }
  }
}

package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.GetServerStatusRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code [retention] max_idle} over the real server process, on SQLite and on PostgreSQL (two servers sweeping
 * one database): while writers keep some conversations busy, the sweep deletes the idle ones (they leave the
 * store's own count, not only the readers' view) and never a conversation that was kept updated. Waits are polls
 * of the expected state with a bound.
 */
class RetentionIT {
  private static final Duration MAX_IDLE = Duration.ofSeconds(2);
  private static final int IDLE = 30;
  private static final int LIVE = 3;

  @TempDir
  Path dir;

  @Test
  void sweepsIdleConversationsUnderWriteLoadOnSqlite() throws Exception {
    try (ServerProcess server = Rpc.startSqlite(dir.resolve("retention.db"), "--retention-max-idle", "2s",
        "--metrics-enabled", "true", "--metrics-port", "0")) {
      sweepUnderLoad(server, List.of(server));
      String scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.metricsUrl()))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
      Matcher deleted = Pattern.compile("(?m)^conversation_retention_deleted_total(\\{[^}]*\\})? (\\S+)$")
          .matcher(scrape);
      assertThat(deleted.find()).as("the metric in:\n" + scrape).isTrue();
      assertThat(Double.parseDouble(deleted.group(2))).isEqualTo(IDLE);
    }
  }

  /** Two servers sweep the one database at once (SKIP LOCKED): neither fails, nothing is deleted twice or wrongly. */
  @Test
  void twoServersSweepIdleConversationsUnderWriteLoadOnPostgres() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(2, "--retention-max-idle", "2s")) {
      sweepUnderLoad(fleet.server(0), List.of(fleet.server(0), fleet.server(1)));
    }
  }

  private static final Pattern LOGGED =
      Pattern.compile("retention: deleted (\\d+) conversations past their expire time and (\\d+) ");

  /** How many conversations the servers' sweeps say they deleted, in all. */
  private static long loggedDeletions(List<ServerProcess> sweepers) {
    long total = 0;
    for (ServerProcess s : sweepers) {
      Matcher m = LOGGED.matcher(s.output());
      while (m.find()) {
        total += Long.parseLong(m.group(1)) + Long.parseLong(m.group(2));
      }
    }
    return total;
  }

  private static void sweepUnderLoad(ServerProcess server, List<ServerProcess> sweepers) throws Exception {
    try (ConversationClient client = ConversationClient.builder(server.target()).build()) {
      for (int i = 0; i < IDLE; i++) {
        client.save("idle-" + i, List.of("{\"n\":" + i + "}"));
      }
      AtomicBoolean stop = new AtomicBoolean();
      ConcurrentHashMap<String, Long> acknowledged = new ConcurrentHashMap<>();
      ConcurrentHashMap<String, Long> longestGapMillis = new ConcurrentHashMap<>();
      ExecutorService writers = Executors.newFixedThreadPool(LIVE);
      List<Future<?>> running = new ArrayList<>();
      for (int w = 0; w < LIVE; w++) {
        String thread = "live-" + w;
        running.add(writers.submit(() -> {
          long lastAck = System.nanoTime();
          long n = 0;
          while (!stop.get()) {
            client.append(thread, List.of("{\"n\":" + n + "}"));
            n++;
            long now = System.nanoTime();
            // From the previous acknowledgement to this one bounds the time the conversation went without update.
            longestGapMillis.merge(thread, (now - lastAck) / 1_000_000, Math::max);
            lastAck = now;
            acknowledged.put(thread, n);
          }
          return null;
        }));
      }
      try {
        // The idle ones expire 2 s after their Save; the sweep (every 200 ms) deletes them. Poll, bounded.
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        long count = Long.MAX_VALUE;
        while (System.nanoTime() < deadline) {
          count = client.adminStub().getServerStatus(GetServerStatusRequest.getDefaultInstance()).getConversationCount();
          // The count leaves expired ones out at once; the sweep's log lines say when they are deleted too.
          if (count == LIVE && loggedDeletions(sweepers) >= IDLE) {
            break;
          }
          Thread.sleep(50); // a poll interval, not a synchronisation: the loop checks the state itself
        }
        assertThat(count).as("conversations left in the store after the sweep").isEqualTo(LIVE);
        assertThat(loggedDeletions(sweepers)).as("conversations the sweeps deleted").isEqualTo(IDLE);
      } finally {
        stop.set(true);
        for (Future<?> f : running) {
          f.get();
        }
        writers.shutdown();
      }

      for (int i = 0; i < IDLE; i++) {
        assertThat(client.get("idle-" + i)).as("idle-" + i).isEmpty();
      }
      for (int w = 0; w < LIVE; w++) {
        String thread = "live-" + w;
        // A live conversation deleted by the sweep would have been re-created by the next Append, with fewer messages.
        if (longestGapMillis.getOrDefault(thread, 0L) < MAX_IDLE.toMillis()) {
          assertThat(client.get(thread)).as(thread).hasValueSatisfying(c ->
              assertThat((long) c.getMessagesCount()).isEqualTo(acknowledged.get(thread)));
        }
      }
      assertThat(longestGapMillis.values()).as("some live conversation was kept within max_idle")
          .anyMatch(gap -> gap < MAX_IDLE.toMillis());
      assertThat(sweepers).anyMatch(s -> s.output().contains("retention: deleted"));
      assertThat(sweepers).noneMatch(s -> s.output().contains("retention: sweep failed"));
    }
  }
}

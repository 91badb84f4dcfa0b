package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Message;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SQLite gives the space of swept conversations back (auto_vacuum INCREMENTAL, incremental_vacuum after each sweep
 * batch, and the write-ahead log emptied after a sweep once it holds over 4 MiB), over the real server process:
 * under a steady create/expire loop the files stop growing, the median of the database file and its log together
 * over the last half of the cycles no larger than their largest over the first half, and the database file shrinks
 * at times (without the vacuum a file never does). Half of each cycle's conversations expire by [retention]
 * max_idle, half by their own TTL (expiry in the Append). A writer saves a one-message history to a live
 * conversation throughout (steady writes, constant live data: a growing conversation would be growth the store
 * must keep); its latency while sweeps run is printed (a figure, not asserted). Waits are bounded polls of the
 * server's metric, not sleeps.
 */
class SqliteSpaceIT {
  private static final int CYCLES = 20;
  private static final int PER_CYCLE = 40;
  private static final int MESSAGES = 10;
  private static final String BODY = "x".repeat(2000);

  @TempDir
  Path dir;

  @Test
  void theFileStopsGrowingUnderASteadyCreateExpireLoop() throws Exception {
    Path db = dir.resolve("space.db");
    try (ServerProcess server = Rpc.startSqlite(db, "--retention-max-idle", "1s", "--watch-log-retention", "2s",
        "--metrics-enabled", "true", "--metrics-port", "0");
        ConversationClient client = ConversationClient.builder(server.target()).build()) {
      AtomicBoolean stop = new AtomicBoolean();
      List<Long> latencyMicros = Collections.synchronizedList(new ArrayList<>());
      ExecutorService writer = Executors.newSingleThreadExecutor();
      Future<?> live = writer.submit(() -> {
        long n = 0;
        while (!stop.get()) {
          long start = System.nanoTime();
          client.save("live", List.of("{\"n\":" + n++ + "}"));
          latencyMicros.add((System.nanoTime() - start) / 1_000);
        }
        return null;
      });
      List<Long> sizes = new ArrayList<>();
      List<Long> databaseSizes = new ArrayList<>();
      List<Long> logSizes = new ArrayList<>();
      try {
        for (int cycle = 0; cycle < CYCLES; cycle++) {
          for (int i = 0; i < PER_CYCLE; i++) {
            AppendRequest.Builder r = AppendRequest.newBuilder().setThreadId("c" + cycle + "-" + i);
            for (int m = 0; m < MESSAGES; m++) {
              r.addMessages(Message.newBuilder().setJson("{\"i\":" + m + ",\"text\":\"" + BODY + "\"}"));
            }
            if (i % 2 == 0) {
              r.setExpiry(ConversationClient.expireAfter(Duration.ofMillis(300)));
            }
            client.append(r.build());
          }
          awaitDeleted(server, (long) (cycle + 1) * PER_CYCLE);
          sizes.add(fileBytes(db));
          databaseSizes.add(Files.size(db));
          logSizes.add(fileBytes(db) - Files.size(db));
          Path wal = db.resolveSibling(db.getFileName() + "-wal");
          System.out.println("SqliteSpaceIT: cycle " + cycle + " db " + Files.size(db) + " wal "
              + (Files.exists(wal) ? Files.size(wal) : 0));
        }
      } finally {
        stop.set(true);
        live.get();
        writer.shutdown();
      }
      long early = Collections.max(sizes.subList(0, CYCLES / 2));
      long late = median(sizes.subList(CYCLES / 2, CYCLES));
      System.out.println("SqliteSpaceIT: database file and log after each cycle's sweep (bytes): " + sizes);
      List<Long> sorted = new ArrayList<>(latencyMicros);
      Collections.sort(sorted);
      System.out.printf("SqliteSpaceIT: writer Save latency while sweeps ran (%d saves): p50 %.2f ms, "
          + "p99 %.2f ms, max %.2f ms%n", sorted.size(), sorted.get(sorted.size() / 2) / 1000.0,
          sorted.get((int) (sorted.size() * 0.99)) / 1000.0, sorted.get(sorted.size() - 1) / 1000.0);
      // Each cycle writes ~1 MB of messages (plus the search index and the change log's copies): twenty cycles
      // without space given back would be many times the first ones, so the later cycles' median would stand well
      // above the earlier cycles' largest. The log swings from cycle to cycle: the live writer's commits fill it by
      // tens of MB a second, and it is emptied only after a sweep, when it holds over 4 MiB and no reader is still
      // on an older snapshot (otherwise the next sweep tries again: one cycle of a CI run sampled it at 32 MB).
      // Hence medians of the later cycles, which one swing does not move, against the earlier cycles' largest.
      assertThat(late).as("the median of the database file and log over the last cycles against the largest over "
          + "the first ones").isLessThanOrEqualTo(early);
      // Without emptying the log after sweeps the same loop took the log to ~40 MB by the tenth cycle (it then
      // stays, SQLite reusing the file), which the bound above does not catch; this does.
      assertThat(median(logSizes.subList(CYCLES / 2, CYCLES))).as("the log's median over the last cycles")
          .isLessThanOrEqualTo(16L << 20);
      assertThat(Collections.min(databaseSizes.subList(CYCLES / 2, CYCLES)))
          .as("the database file shrinks at times: some later cycle's is below an earlier cycle's largest")
          .isLessThan(Collections.max(databaseSizes.subList(0, CYCLES / 2)));
      assertThat(server.output()).contains("retention: deleted").doesNotContain("retention: sweep failed");
    }
  }

  private static long median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(sorted.size() / 2);
  }

  private static long fileBytes(Path db) throws java.io.IOException {
    Path wal = db.resolveSibling(db.getFileName() + "-wal");
    return Files.size(db) + (Files.exists(wal) ? Files.size(wal) : 0);
  }

  private static final Pattern DELETED =
      Pattern.compile("(?m)^conversation_retention_deleted_total(\\{[^}]*\\})? (\\S+)$");

  /** Polls the sweep's metric until it has deleted {@code total} conversations (bounded). */
  private static void awaitDeleted(ServerProcess server, long total) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    double deleted = 0;
    while (System.nanoTime() < deadline) {
      String scrape = http.send(HttpRequest.newBuilder(URI.create(server.metricsUrl()))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
      Matcher m = DELETED.matcher(scrape);
      deleted = m.find() ? Double.parseDouble(m.group(2)) : 0;
      if (deleted >= total) {
        return;
      }
      Thread.sleep(50); // a poll interval: the loop checks the metric itself
    }
    assertThat(deleted).as("conversations the sweep deleted").isGreaterThanOrEqualTo(total);
  }
}

package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.GetResponse;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Floods of big responses and big requests against a server with little memory (a 256 MiB heap, 64 MiB of direct
 * memory: the 1 GB heap and 20-60 MB payloads scaled down): memory stays within the in-flight budget, every
 * call is answered OK or RESOURCE_EXHAUSTED with a reason (never CANCELLED from an OutOfMemoryError, never a
 * connection reset), and a bystander's small Appends on their own connection keep working throughout.
 */
class MemoryFloodIT {
  private static final List<String> SMALL_JVM = List.of("-Xmx256m", "-XX:MaxDirectMemorySize=64m",
      "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
  private static final int BIG_MESSAGES = 8;
  private static final int BIG_MESSAGE_CHARS = 512 * 1024;

  @TempDir
  Path dir;

  @Test
  void manyBigGetsAndReadersThatNeverReadGetOkOrResourceExhausted() throws Exception {
    // Calls may take 15 s at most (--max-call-seconds): what bounds how long a reader that never reads holds memory.
    try (ServerProcess server = ServerProcess.launch(List.of(), SMALL_JVM, List.of("--database-path",
        dir.resolve("gets.db").toString(), "--database-durability", "normal", "--max-call-seconds", "15"), null,
        Map.of())) {
      ManagedChannel setup = Rpc.channel(server.target());
      Rpc.stub(setup).save(bigSave("big", 0));
      Rpc.close(setup);
      long aloneStarted = System.nanoTime();
      Map<String, AtomicLong> alone = concurrentGets(server.target(), 120);
      System.out.printf("big Gets: 120 concurrent Gets of a %d MiB conversation on 8 connections in %.1f s: %s%n",
          BIG_MESSAGES * BIG_MESSAGE_CHARS >> 20, (System.nanoTime() - aloneStarted) / 1e9, new TreeMap<>(alone));
      assertThat(alone.keySet()).allMatch(k -> k.equals("OK") || k.startsWith("RESOURCE_EXHAUSTED IN_FLIGHT_LIMIT"),
          "only OK or RESOURCE_EXHAUSTED with reason IN_FLIGHT_LIMIT");
      assertThat(alone.get("OK")).isNotNull();

      // Readers that ask for the big conversation and never read a byte of it (no request(): manual flow control).
      List<ManagedChannel> stalled = new ArrayList<>();
      List<ClientCall<GetRequest, GetResponse>> neverRead = new ArrayList<>();
      Map<Status.Code, AtomicLong> stalledEnds = new ConcurrentHashMap<>();
      for (int c = 0; c < 6; c++) {
        ManagedChannel ch = Rpc.channel(server.target());
        stalled.add(ch);
        for (int i = 0; i < 10; i++) {
          ClientCall<GetRequest, GetResponse> call = ch.newCall(ConversationServiceGrpc.getGetMethod(),
              CallOptions.DEFAULT);
          call.start(new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
              stalledEnds.computeIfAbsent(status.getCode(), k -> new AtomicLong()).incrementAndGet();
            }
          }, new Metadata());
          call.sendMessage(GetRequest.newBuilder().setThreadId("big").build());
          call.halfClose();
          neverRead.add(call);
        }
      }
      Bystander bystander = Bystander.start(server.target());
      long started = System.nanoTime();
      Map<String, AtomicLong> outcomes = concurrentGets(server.target(), 120);
      double seconds = (System.nanoTime() - started) / 1e9;
      Bystander.Result bystanderResult = bystander.stop();
      ManagedChannel check = Rpc.channel(server.target());
      ServingStatus health = Rpc.health(check);
      // The server resets the stalled calls when their 15 s are up (their client, which never reads, does not
      // notice); the budget they held is free again, and a big Get succeeds while they are still "open".
      GetResponse after = getWhenFree(check);
      Map<Status.Code, Long> answered = new TreeMap<>();
      stalledEnds.forEach((code, n) -> answered.put(code, n.get()));
      neverRead.forEach(call -> call.cancel("test over", null));
      stalled.forEach(Rpc::close);
      Rpc.close(check);
      System.out.printf("big Gets: 120 concurrent Gets of a %d MiB conversation beside 60 streams that never read, "
          + "in %.1f s: %s; bystander %s; stalled streams answered before the test cancelled them: %s%n",
          BIG_MESSAGES * BIG_MESSAGE_CHARS >> 20, seconds, new TreeMap<>(outcomes), bystanderResult, answered);
      assertThat(server.isAlive()).isTrue();
      assertThat(health).isEqualTo(ServingStatus.SERVING);
      assertThat(outcomes.keySet()).allMatch(k -> k.equals("OK") || k.startsWith("RESOURCE_EXHAUSTED IN_FLIGHT_LIMIT"),
          "only OK or RESOURCE_EXHAUSTED with reason IN_FLIGHT_LIMIT");
      assertThat(bystanderResult.failures()).isZero();
      assertThat(bystanderResult.ok()).isPositive();
      assertThat(after.getConversation().getMessagesCount()).isEqualTo(BIG_MESSAGES);
      assertThat(server.output()).doesNotContain("OutOfDirectMemoryError").doesNotContain("OutOfMemoryError");
    }
  }

  @Test
  void aBudgetLargerThanTheMemoryGivesResourceExhaustedNotCancelled() throws Exception {
    // Misconfigured: a budget of 1 GiB with 64 MiB of direct memory. The server lowers it to what it can hold (half
    // the direct memory), and says so; responses get OK or RESOURCE_EXHAUSTED, never the CANCELLED grpc-java gives a
    // call whose sendMessage() threw an OutOfMemoryError, nor a hang.
    try (ServerProcess server = ServerProcess.launch(List.of(), SMALL_JVM, List.of("--database-path",
        dir.resolve("oom.db").toString(), "--database-durability", "normal", "--max-in-flight-bytes",
        Long.toString(1L << 30)), null, Map.of())) {
      ManagedChannel setup = Rpc.channel(server.target());
      Rpc.stub(setup).save(bigSave("big", 0));
      Rpc.close(setup);
      Map<String, AtomicLong> outcomes = concurrentGets(server.target(), 120);
      System.out.printf("big Gets with a budget of 1 GiB in 64 MiB of direct memory: %s%n", new TreeMap<>(outcomes));
      assertThat(server.isAlive()).isTrue();
      assertThat(outcomes.keySet()).allMatch(k -> k.equals("OK") || k.equals("RESOURCE_EXHAUSTED OUT_OF_MEMORY")
              || k.equals("RESOURCE_EXHAUSTED IN_FLIGHT_LIMIT"),
          "only OK or RESOURCE_EXHAUSTED with reason IN_FLIGHT_LIMIT or OUT_OF_MEMORY");
      assertThat(server.output()).contains("max_in_flight_bytes = 1073741824 is more than this JVM can hold")
          .contains("max_in_flight_bytes=" + (32 << 20));
    }
  }

  @Test
  void aFloodOfBigSavesDoesNotResetOtherConnections() throws Exception {
    try (ServerProcess server = ServerProcess.launch(List.of(), SMALL_JVM, List.of("--database-path",
        dir.resolve("saves.db").toString(), "--database-durability", "normal", "--metrics-enabled", "true",
        "--metrics-port", "0"), null, Map.of())) {
      Bystander bystander = Bystander.start(server.target());
      Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
      int saves = 24;
      ExecutorService pool = Executors.newFixedThreadPool(saves);
      List<ManagedChannel> channels = new ArrayList<>();
      long started = System.nanoTime();
      try {
        CountDownLatch ready = new CountDownLatch(saves);
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < saves; i++) {
          ManagedChannel ch = Rpc.channel(server.target());
          channels.add(ch);
          int n = i;
          futures.add(pool.submit(() -> {
            SaveRequest request = bigSave("flood-" + n, n);
            ready.countDown();
            ready.await();
            try {
              Rpc.stub(ch).save(request);
              count(outcomes, "OK");
            } catch (RuntimeException e) {
              count(outcomes, describe(e));
            }
            return null;
          }));
        }
        for (Future<?> f : futures) {
          f.get(2, TimeUnit.MINUTES);
        }
      } finally {
        pool.shutdownNow();
        channels.forEach(Rpc::close);
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      Bystander.Result bystanderResult = bystander.stop();
      ManagedChannel check = Rpc.channel(server.target());
      ServingStatus health = Rpc.health(check);
      Rpc.close(check);
      System.out.printf("big Saves: %d concurrent Saves of %d MiB on %d connections in %.1f s: %s; bystander %s%n",
          saves, BIG_MESSAGES * BIG_MESSAGE_CHARS >> 20, saves, seconds, new TreeMap<>(outcomes), bystanderResult);
      assertThat(server.isAlive()).isTrue();
      assertThat(health).isEqualTo(ServingStatus.SERVING);
      assertThat(outcomes.keySet()).allMatch(k -> k.equals("OK") || k.startsWith("RESOURCE_EXHAUSTED IN_FLIGHT_LIMIT"),
          "only OK or RESOURCE_EXHAUSTED with reason IN_FLIGHT_LIMIT");
      assertThat(outcomes.get("OK")).isNotNull();
      assertThat(bystanderResult.failures()).isZero();
      assertThat(bystanderResult.ok()).isPositive();
      assertThat(server.output()).doesNotContain("OutOfDirectMemoryError").doesNotContain("OutOfMemoryError");
      String scrape = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create(server.metricsUrl())).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      long refused = outcomes.entrySet().stream().filter(e -> e.getKey().startsWith("RESOURCE_EXHAUSTED"))
          .mapToLong(e -> e.getValue().get()).sum();
      assertThat(metric(scrape, "conversation_in_flight_refusals_total")).isEqualTo(refused);
      assertThat(metric(scrape, "conversation_in_flight_limit_bytes")).isEqualTo(16 << 20);
      assertThat(metric(scrape, "conversation_in_flight_bytes")).isZero();
      assertThat(server.output()).contains("refused with RESOURCE_EXHAUSTED (IN_FLIGHT_LIMIT)");
      // The per-RPC metrics see the refusals with their code.
      assertThat(scrape.lines().filter(l -> l.startsWith("grpc_server_processing_duration_seconds_count{")
              && l.contains("method=\"Save\"") && l.contains("statusCode=\"RESOURCE_EXHAUSTED\""))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum()).isEqualTo(refused);
    }
  }

  private static double metric(String scrape, String name) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + name + "(?:\\{[^}]*})? (\\S+)$")
        .matcher(scrape);
    assertThat(m.find()).as(name + " in\n" + scrape).isTrue();
    return Double.parseDouble(m.group(1));
  }

  /** {@code n} Gets of the big conversation at once, over 8 connections; counts the outcomes. */
  private static Map<String, AtomicLong> concurrentGets(String target, int n) throws Exception {
    Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
    List<ManagedChannel> channels = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      channels.add(Rpc.channel(target));
    }
    ExecutorService pool = Executors.newFixedThreadPool(40);
    try {
      List<Future<?>> gets = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ManagedChannel ch = channels.get(i % channels.size());
        gets.add(pool.submit(() -> {
          try {
            GetResponse r = Rpc.stub(ch).get(GetRequest.newBuilder().setThreadId("big").build());
            assertThat(r.getConversation().getMessagesCount()).isEqualTo(BIG_MESSAGES);
            count(outcomes, "OK");
          } catch (RuntimeException e) {
            count(outcomes, describe(e));
          }
        }));
      }
      for (Future<?> f : gets) {
        f.get(2, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
      channels.forEach(Rpc::close);
    }
    return outcomes;
  }

  /** A Get retried until the budget the test's stalled readers held has been given back (their streams reset). */
  private static GetResponse getWhenFree(ManagedChannel channel) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        return Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId("big").build());
      } catch (RuntimeException e) {
        if (Rpc.code(e) != Status.Code.RESOURCE_EXHAUSTED || System.nanoTime() > end) {
          throw e;
        }
        Thread.sleep(100); // retry interval, not synchronisation: the loop ends on the call's outcome
      }
    }
  }

  private static SaveRequest bigSave(String thread, int seed) {
    SaveRequest.Builder b = SaveRequest.newBuilder().setThreadId(thread);
    for (int i = 0; i < BIG_MESSAGES; i++) {
      char c = (char) ('a' + (seed + i) % 26);
      b.addMessages(Message.newBuilder().setJson("{\"s\":\"" + String.valueOf(c).repeat(BIG_MESSAGE_CHARS) + "\"}"));
    }
    return b.build();
  }

  private static String describe(RuntimeException e) {
    Status status = Status.fromThrowable(e);
    return status.getCode() + Rpc.errorInfo(e).map(ErrorInfo::getReason).map(r -> " " + r)
        .orElse(" \"" + String.valueOf(status.getDescription()).replaceAll("[0-9.]+", "N") + "\"");
  }

  private static void count(Map<String, AtomicLong> outcomes, String key) {
    outcomes.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
  }

  /**
   * Small calls, one after another on a connection of their own, until stopped: an Append of one message, then a
   * Get of that message alone, and so on. Counts and times them.
   */
  static final class Bystander {
    record Result(long ok, long failures, String firstFailure, long p50Micros, long p99Micros, long maxMicros) {
      @Override
      public String toString() {
        return ok + " small Appends and Gets OK, " + failures + " failed" + (firstFailure == null ? "" : " (" + firstFailure
            + ")") + ", latency p50 " + p50Micros / 1000.0 + " ms, p99 " + p99Micros / 1000.0 + " ms, max "
            + maxMicros / 1000.0 + " ms";
      }
    }

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Histogram latency = new Histogram(3);
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile String firstFailure;
    private Thread thread;

    /** Starts once a first, untimed Append and Get have gone through (connection set up, server code warm). */
    static Bystander start(String target) {
      Bystander b = new Bystander();
      ManagedChannel channel = Rpc.channel(target);
      Rpc.stub(channel).append(AppendRequest.newBuilder().setThreadId("bystander")
          .addMessages(Message.newBuilder().setJson("{\"warm\":true}")).build());
      Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId("bystander").setMaxMessages(1).build());
      b.thread = new Thread(() -> {
        try {
          int i = 0;
          while (b.running.get()) {
            long t0 = System.nanoTime();
            try {
              if (i % 2 == 0) {
                Rpc.stub(channel).append(AppendRequest.newBuilder().setThreadId("bystander")
                    .addMessages(Message.newBuilder().setJson("{\"n\":" + i + "}")).build());
              } else {
                // A small read: the newest message only.
                Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId("bystander")
                    .setMaxMessages(1).build());
              }
              i++;
              b.ok.incrementAndGet();
              synchronized (b.latency) {
                b.latency.recordValue((System.nanoTime() - t0) / 1000);
              }
            } catch (RuntimeException e) {
              if (b.failures.incrementAndGet() == 1) {
                b.firstFailure = Status.fromThrowable(e).toString();
              }
            }
          }
        } finally {
          Rpc.close(channel);
        }
      }, "bystander");
      b.thread.start();
      return b;
    }

    Result stop() throws InterruptedException {
      running.set(false);
      thread.join(TimeUnit.MINUTES.toMillis(1));
      synchronized (latency) {
        return new Result(ok.get(), failures.get(), firstFailure, latency.getValueAtPercentile(50),
            latency.getValueAtPercentile(99), latency.getMaxValue());
      }
    }
  }
}

package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
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
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Floods of big responses and big requests: memory stays within the in-flight budget, every call is answered OK or
 * RESOURCE_EXHAUSTED with a reason (never CANCELLED from an OutOfMemoryError, never a connection reset), the server
 * logs no stack trace, and a bystander's small calls keep working throughout: a client in a process of its own
 * ({@link BystanderProcess}), one small call at a time on its own connection, has every call OK, alone and beside
 * each flood. Its p50/p99 and the server's RSS are printed, not asserted (docs/guarantees.md "Memory under load"
 * has them; no latency is promised under a flood).
 *
 * <p>At the issue's scale, with the server's default settings and the JVM settings of {@code scripts/run-server}
 * (a 1 GiB heap): 200 concurrent Gets of a 20 MB conversation, the same beside 60 raw HTTP/2 streams that ask for it
 * and never read, 24 concurrent 60 MB Saves on 24 connections (30-60 s on two cores). With
 * {@code -Dmemory.flood.scale=reduced}, the same floods scaled down (a 256 MiB heap and 64 MiB of direct memory,
 * 4 MiB payloads, 120 Gets), for a smaller machine. A budget set above the direct memory is tried at the reduced
 * scale either way.
 */
class MemoryFloodIT {
  /** The sizes of one run. */
  /**
   * @param peakRssMiB what the server's resident memory must stay under: its heap, twice the default in-flight
   *     budget (a quarter of the heap, or of the direct memory), and 256 MiB for the rest of the JVM
   */
  record Scale(String name, List<String> jvm, List<String> getArgs, int bigMessages, int bigMessageChars, int gets,
      int getThreads, int saveMessages, int saveMessageChars, long peakRssMiB) {
    static final Scale REDUCED = new Scale("reduced", List.of("-Xmx256m", "-XX:MaxDirectMemorySize=64m",
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"), List.of("--max-call-seconds", "15"), 8, 512 * 1024, 120, 40,
        8, 512 * 1024, 256 + 2 * 16 + 256);
    // scripts/run-server's JVM options; the server's defaults for everything else (calls limited to 120 s).
    static final Scale FULL = new Scale("full",
        List.of("@" + ExternalCommand.repoRoot().resolve("scripts/server-jvm.options")), List.of(), 20,
        1_000_000, 200, 200, 60, 1_000_000, 1024 + 2 * 256 + 256);

    static Scale chosen() {
      return "reduced".equals(System.getProperty("memory.flood.scale")) ? REDUCED : FULL;
    }

    boolean full() {
      return this == FULL;
    }

    String size(int messages, int chars) {
      long bytes = (long) messages * chars;
      return full() ? bytes / 1_000_000 + " MB" : (bytes >> 20) + " MiB";
    }
  }

  private static final Scale SCALE = Scale.chosen();
  private static final List<String> SMALL_JVM = Scale.REDUCED.jvm();
  private static final int BIG_MESSAGES = SCALE.bigMessages();
  private static final int BIG_MESSAGE_CHARS = SCALE.bigMessageChars();
  private static final int STALLED_CONNECTIONS = 6;
  private static final int STALLED_PER_CONNECTION = 10;

  @TempDir
  Path dir;

  @Test
  void manyBigGetsAndReadersThatNeverReadGetOkOrResourceExhausted() throws Exception {
    // Reduced scale: calls may take 15 s at most (--max-call-seconds), what bounds how long a reader that never
    // reads holds memory. Full scale: the default, 120 s.
    List<String> args = new ArrayList<>(List.of("--database-path", dir.resolve("gets.db").toString(),
        "--database-durability", "normal"));
    args.addAll(SCALE.getArgs());
    try (ServerProcess server = ServerProcess.launch(List.of(), SCALE.jvm(), args, null, Map.of())) {
      ManagedChannel setup = Rpc.channel(server.target());
      Rpc.stub(setup).save(bigSave("big", 0, BIG_MESSAGES, BIG_MESSAGE_CHARS));
      Rpc.close(setup);
      BystanderProcess.Result quiet = BystanderProcess.start(server.target()).runFor(3);
      System.out.printf("memory flood (%s scale): bystander alone: %s%n", SCALE.name(), quiet);

      BystanderProcess beside = BystanderProcess.start(server.target());
      long aloneStarted = System.nanoTime();
      Map<String, AtomicLong> alone = concurrentGets(server.target(), SCALE, SCALE.gets());
      double aloneSeconds = (System.nanoTime() - aloneStarted) / 1e9;
      BystanderProcess.Result besideResult = beside.stop();
      System.out.printf("memory flood (%s scale): %d concurrent Gets of a %s conversation on 8 connections in "
              + "%.1f s: %s; bystander %s; server %s%n", SCALE.name(), SCALE.gets(), bigSize(), aloneSeconds,
          new TreeMap<>(alone), besideResult, Rss.of(server));
      assertThat(alone.keySet()).allMatch(k -> k.equals("OK") || k.startsWith("RESOURCE_EXHAUSTED IN_FLIGHT_LIMIT"),
          "only OK or RESOURCE_EXHAUSTED with reason IN_FLIGHT_LIMIT");
      assertThat(alone.get("OK")).isNotNull();
      assertThat(besideResult.failures()).isZero();

      // Raw HTTP/2 streams that ask for the big conversation and never read a byte of the answer: the socket is
      // never read, so the server's HTTP/2 window (64 KiB, the protocol's default) is never opened again.
      List<RawHttp2> stalled = new ArrayList<>();
      byte[] body = GetRequest.newBuilder().setThreadId("big").build().toByteArray();
      byte[] getBig = RawHttp2.grpcFrame(false, body.length, body);
      for (int c = 0; c < STALLED_CONNECTIONS; c++) {
        RawHttp2 h2 = RawHttp2.connect(server.port());
        stalled.add(h2);
        for (int i = 0; i < STALLED_PER_CONNECTION; i++) {
          int stream = h2.headers(h2.grpcHeaders("Get"), false);
          h2.data(stream, getBig, true);
        }
      }
      BystanderProcess bystander = BystanderProcess.start(server.target());
      long started = System.nanoTime();
      Map<String, AtomicLong> outcomes = concurrentGets(server.target(), SCALE, SCALE.gets());
      double seconds = (System.nanoTime() - started) / 1e9;
      BystanderProcess.Result bystanderResult = bystander.stop();
      String rss = Rss.of(server);
      ManagedChannel check = Rpc.channel(server.target());
      ServingStatus health = Rpc.health(check);
      if (SCALE.full()) {
        // 120 s is the default limit of a call: the stalled readers disconnect instead, which gives their budget
        // back at once.
        for (RawHttp2 h2 : stalled) {
          h2.close();
        }
      }
      // Reduced scale: the server resets the stalled calls when their 15 s are up (their client, which never reads,
      // does not notice); the budget they held is free again, and a big Get succeeds while they are still "open".
      GetResponse after = getWhenFree(check);
      for (RawHttp2 h2 : stalled) {
        h2.close();
      }
      Rpc.close(check);
      System.out.printf("memory flood (%s scale): %d concurrent Gets of a %s conversation beside %d raw streams "
              + "that never read, in %.1f s: %s; bystander %s; server %s%n", SCALE.name(), SCALE.gets(), bigSize(),
          STALLED_CONNECTIONS * STALLED_PER_CONNECTION, seconds, new TreeMap<>(outcomes), bystanderResult, rss);
      assertThat(server.isAlive()).isTrue();
      assertThat(health).isEqualTo(ServingStatus.SERVING);
      assertThat(outcomes.keySet()).allMatch(k -> k.equals("OK") || k.startsWith("RESOURCE_EXHAUSTED IN_FLIGHT_LIMIT"),
          "only OK or RESOURCE_EXHAUSTED with reason IN_FLIGHT_LIMIT");
      assertThat(bystanderResult.failures()).isZero();
      assertThat(bystanderResult.ok()).isPositive();
      assertThat(after.getConversation().getMessagesCount()).isEqualTo(BIG_MESSAGES);
      assertThat(Rss.peakMiB(server)).isLessThan(SCALE.peakRssMiB());
      assertNothingThrown(server);
    }
  }

  @Test
  void aBudgetLargerThanTheMemoryGivesResourceExhaustedNotCancelled() throws Exception {
    Scale reduced = Scale.REDUCED;
    // Misconfigured: a budget of 1 GiB with 64 MiB of direct memory. The server lowers it to what it can hold (half
    // the direct memory), and says so; responses get OK or RESOURCE_EXHAUSTED, never the CANCELLED grpc-java gives a
    // call whose sendMessage() threw an OutOfMemoryError, nor a hang.
    try (ServerProcess server = ServerProcess.launch(List.of(), SMALL_JVM, List.of("--database-path",
        dir.resolve("oom.db").toString(), "--database-durability", "normal", "--max-in-flight-bytes",
        Long.toString(1L << 30)), null, Map.of())) {
      ManagedChannel setup = Rpc.channel(server.target());
      Rpc.stub(setup).save(bigSave("big", 0, reduced.bigMessages(), reduced.bigMessageChars()));
      Rpc.close(setup);
      Map<String, AtomicLong> outcomes = concurrentGets(server.target(), reduced, reduced.gets());
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
    try (ServerProcess server = ServerProcess.launch(List.of(), SCALE.jvm(), List.of("--database-path",
        dir.resolve("saves.db").toString(), "--database-durability", "normal", "--metrics-enabled", "true",
        "--metrics-port", "0"), null, Map.of())) {
      BystanderProcess.Result quiet = BystanderProcess.start(server.target()).runFor(3);
      System.out.printf("memory flood (%s scale): bystander alone: %s%n", SCALE.name(), quiet);
      BystanderProcess bystander = BystanderProcess.start(server.target());
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
            SaveRequest request = bigSave("flood-" + n, n, SCALE.saveMessages(), SCALE.saveMessageChars());
            ready.countDown();
            ready.await();
            try {
              floodStub(ch).save(request);
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
      BystanderProcess.Result bystanderResult = bystander.stop();
      String rss = Rss.of(server);
      ManagedChannel check = Rpc.channel(server.target());
      ServingStatus health = Rpc.health(check);
      Rpc.close(check);
      System.out.printf("memory flood (%s scale): %d concurrent Saves of %s on %d connections in %.1f s: %s; "
              + "bystander %s; server %s%n", SCALE.name(), saves, SCALE.size(SCALE.saveMessages(),
              SCALE.saveMessageChars()), saves, seconds, new TreeMap<>(outcomes), bystanderResult, rss);
      assertThat(server.isAlive()).isTrue();
      assertThat(health).isEqualTo(ServingStatus.SERVING);
      // At full scale a 60 MB Save is over the default history limit (32 MiB): those that fit in the budget are
      // received whole, then refused for their size. Not asserted there: that one does get through. 24 Saves
      // arriving interleaved can each hold a part of the budget when their next bytes come, and all be refused
      // (seen once in nine runs; docs/guarantees.md says so).
      assertThat(outcomes.keySet()).allMatch(k -> k.equals("OK") || k.startsWith("RESOURCE_EXHAUSTED IN_FLIGHT_LIMIT")
              || SCALE.full() && k.equals("RESOURCE_EXHAUSTED HISTORY_TOO_LARGE"),
          "only OK or RESOURCE_EXHAUSTED with reason IN_FLIGHT_LIMIT (or HISTORY_TOO_LARGE at full scale)");
      if (!SCALE.full()) {
        assertThat(outcomes.get("OK")).isNotNull();
      }
      assertThat(Rss.peakMiB(server)).isLessThan(SCALE.peakRssMiB());
      assertNothingThrown(server);
      assertThat(bystanderResult.failures()).isZero();
      assertThat(bystanderResult.ok()).isPositive();
      assertThat(server.output()).doesNotContain("OutOfDirectMemoryError").doesNotContain("OutOfMemoryError");
      String scrape = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create(server.metricsUrl())).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      long refused = outcomes.entrySet().stream().filter(e -> e.getKey().startsWith("RESOURCE_EXHAUSTED IN_FLIGHT"))
          .mapToLong(e -> e.getValue().get()).sum();
      long tooLarge = outcomes.getOrDefault("RESOURCE_EXHAUSTED HISTORY_TOO_LARGE", new AtomicLong()).get();
      assertThat(metric(scrape, "conversation_in_flight_refusals_total")).isEqualTo(refused);
      assertThat(metric(scrape, "conversation_in_flight_limit_bytes")).isEqualTo(SCALE.full() ? 256 << 20 : 16 << 20);
      assertThat(metric(scrape, "conversation_in_flight_bytes")).isZero();
      assertThat(server.output()).contains("refused with RESOURCE_EXHAUSTED (IN_FLIGHT_LIMIT)");
      // The per-RPC metrics see the refusals with their code.
      assertThat(scrape.lines().filter(l -> l.startsWith("grpc_server_processing_duration_seconds_count{")
              && l.contains("method=\"Save\"") && l.contains("statusCode=\"RESOURCE_EXHAUSTED\""))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum()).isEqualTo(refused + tooLarge);
    }
  }

  private static double metric(String scrape, String name) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + name + "(?:\\{[^}]*})? (\\S+)$")
        .matcher(scrape);
    assertThat(m.find()).as(name + " in\n" + scrape).isTrue();
    return Double.parseDouble(m.group(1));
  }

  /** {@code n} Gets of the big conversation at once, over 8 connections; counts the outcomes. */
  private static Map<String, AtomicLong> concurrentGets(String target, Scale scale, int n) throws Exception {
    Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
    List<ManagedChannel> channels = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      channels.add(Rpc.channel(target));
    }
    ExecutorService pool = Executors.newFixedThreadPool(scale.getThreads());
    try {
      List<Future<?>> gets = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ManagedChannel ch = channels.get(i % channels.size());
        gets.add(pool.submit(() -> {
          try {
            GetResponse r = floodStub(ch).get(GetRequest.newBuilder().setThreadId("big").build());
            assertThat(r.getConversation().getMessagesCount()).isEqualTo(scale.bigMessages());
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

  /**
   * The floods' calls may take a minute: 200 clients on the server's two cores, where a refused call is answered at
   * once but one that is served waits for room and then moves 20-60 MB.
   */
  private static io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub floodStub(
      ManagedChannel channel) {
    return ConversationServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  private static String bigSize() {
    return SCALE.size(BIG_MESSAGES, BIG_MESSAGE_CHARS);
  }

  /**
   * Nothing a flood should make the server log: an OutOfMemoryError, or any stack trace (a line of one starts with
   * a tab and "at ").
   */
  private static void assertNothingThrown(ServerProcess server) {
    assertThat(server.output()).doesNotContain("OutOfDirectMemoryError").doesNotContain("OutOfMemoryError")
        .doesNotContainPattern("(?m)^\\s+at [\\w$.]+\\(");
  }

  private static SaveRequest bigSave(String thread, int seed, int messages, int chars) {
    SaveRequest.Builder b = SaveRequest.newBuilder().setThreadId(thread);
    for (int i = 0; i < messages; i++) {
      b.addMessages(bigMessage((seed + i) % 26, chars));
    }
    return b.build();
  }

  // The test's requests share their messages (immutable): 24 copies of 60 MB would crowd the test's own JVM.
  private static final Map<String, Message> BIG_MESSAGE_CACHE = new ConcurrentHashMap<>();

  private static Message bigMessage(int letter, int chars) {
    return BIG_MESSAGE_CACHE.computeIfAbsent(letter + "/" + chars, k -> Message.newBuilder()
        .setJson("{\"s\":\"" + String.valueOf((char) ('a' + letter)).repeat(chars - 8) + "\"}").build());
  }


  private static String describe(RuntimeException e) {
    Status status = Status.fromThrowable(e);
    return status.getCode() + Rpc.errorInfo(e).map(ErrorInfo::getReason).map(r -> " " + r)
        .orElse(" \"" + String.valueOf(status.getDescription()).replaceAll("[0-9.]+", "N") + "\"");
  }

  private static void count(Map<String, AtomicLong> outcomes, String key) {
    outcomes.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
  }

  /** The server process's resident memory now and at its peak, from /proc (Linux). */
  static final class Rss {
    static String of(ServerProcess server) {
      try {
        String status = java.nio.file.Files.readString(Path.of("/proc", Long.toString(server.pid()), "status"));
        return "RSS " + field(status, "VmRSS") + " MiB, peak " + field(status, "VmHWM") + " MiB";
      } catch (java.io.IOException e) {
        return "RSS unknown (" + e + ")";
      }
    }

    static long peakMiB(ServerProcess server) throws java.io.IOException {
      return field(java.nio.file.Files.readString(Path.of("/proc", Long.toString(server.pid()), "status")), "VmHWM");
    }

    private static long field(String status, String name) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + name + ":\\s+(\\d+) kB").matcher(status);
      return m.find() ? Long.parseLong(m.group(1)) >> 10 : -1;
    }
  }
}

package io.vmpilot.conversation.bench;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.vmpilot.conversation.it.ServerProcess;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;

/**
 * A one-off run (issue 23, finding 1): what creating a conversation costs, and what an Append of another client
 * costs meanwhile, when the tenant already has N conversations. For each N the SQLite file gets N conversations
 * straight through JDBC (the server stopped), then the server ({@code scripts/run-server}'s JVM settings, the
 * default limit of 1,000,000 per tenant raised just enough) serves 8 clients creating conversations (a Save of one
 * small message each, in the same tenant) and one bystander appending one small message at a time to a
 * conversation of its own, for a warm-up and then a measured period. Prints one line per N.
 *
 * <p>Usage: {@code java -cp <bench classpath>:integration-tests/target/classes:server/target/conversation-server.jar
 * io.vmpilot.conversation.bench.CreationAtScale [N,N,...] [seconds]} (the server jar for its SQLite driver)
 * (default {@code 10000,1000000 10}).
 */
public final class CreationAtScale {
  private static final int CREATORS = 8;

  private CreationAtScale() {}

  public static void main(String[] args) throws Exception {
    List<Integer> sizes = new ArrayList<>();
    for (String n : (args.length > 0 ? args[0] : "10000,1000000").split(",")) {
      sizes.add(Integer.parseInt(n.strip()));
    }
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    for (int n : sizes) {
      run(n, seconds);
    }
  }

  private static void run(int existing, int seconds) throws Exception {
    Path dir = Files.createTempDirectory("creation-at-scale");
    Path db = dir.resolve("conversations.db");
    try (ServerProcess schema = ServerProcess.startSqlite(db)) {
      schema.stop();
    }
    long seedStart = System.nanoTime();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
      c.setAutoCommit(false);
      try (PreparedStatement st = c.prepareStatement("INSERT INTO conversations (tenant, thread_id, version,"
          + " create_time, update_time, message_count, history_bytes) VALUES ('default', ?, ?, 0, 0, 0, 0)")) {
        for (int i = 0; i < existing; i++) {
          st.setString(1, "seeded-" + i);
          st.setLong(2, i + 1);
          st.addBatch();
          if (i % 10_000 == 9_999) {
            st.executeBatch();
          }
        }
        st.executeBatch();
      }
      try (var st = c.createStatement()) {
        st.executeUpdate("UPDATE tenants SET revision = " + existing);
      } catch (java.sql.SQLException schemaBeforeV6) {
        // A server jar from before per-tenant versions (-Dserver.jar=...), to compare with: no tenants table.
      }
      c.commit();
    }
    double seedSeconds = (System.nanoTime() - seedStart) / 1e9;
    long limit = Math.max(1_000_000L, existing + 2_000_000L);
    List<String> jvm = List.of("-Xms256m", "-Xmx1g", "-XX:+UseG1GC");
    try (ServerProcess server = ServerProcess.launch(List.of(), jvm, List.of("--database-path", db.toString(),
        "--max-conversations-per-tenant", Long.toString(limit)), null, java.util.Map.of())) {
      ManagedChannel channel = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
      try {
        measure(channel, existing, 5, false, seedSeconds); // warm-up
        measure(channel, existing, seconds, true, seedSeconds);
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void measure(ManagedChannel channel, int existing, int seconds, boolean print, double seedSeconds)
      throws Exception {
    ConversationServiceBlockingStub stub = ConversationServiceGrpc.newBlockingStub(channel);
    Histogram creations = new Histogram(60_000_000_000L, 3);
    Histogram appends = new Histogram(60_000_000_000L, 3);
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(CREATORS + 1);
    String run = Long.toString(System.nanoTime(), 36);
    List<Future<?>> work = new ArrayList<>();
    for (int w = 0; w < CREATORS; w++) {
      int worker = w;
      work.add(pool.submit(() -> {
        for (int i = 0; !stop.get(); i++) {
          long t = System.nanoTime();
          stub.withDeadlineAfter(60, TimeUnit.SECONDS).save(SaveRequest.newBuilder()
              .setThreadId("new-" + run + "-" + worker + "-" + i)
              .addMessages(Message.newBuilder().setJson("{\"role\":\"user\",\"content\":\"hi\"}")).build());
          synchronized (creations) {
            creations.recordValue(System.nanoTime() - t);
          }
        }
        return null;
      }));
    }
    work.add(pool.submit(() -> {
      while (!stop.get()) {
        long t = System.nanoTime();
        stub.withDeadlineAfter(60, TimeUnit.SECONDS).append(AppendRequest.newBuilder().setThreadId("bystander")
            .addMessages(Message.newBuilder().setJson("{\"role\":\"assistant\",\"content\":\"ok\"}")).build());
        appends.recordValue(System.nanoTime() - t);
      }
      return null;
    }));
    Thread.sleep(seconds * 1000L); // the measured period itself, not a synchronisation
    stop.set(true);
    for (Future<?> f : work) {
      f.get();
    }
    pool.shutdown();
    if (print) {
      System.out.printf("CreationAtScale: existing=%d (seeded in %.1f s) creations/s=%.0f creation_p50_ms=%.2f"
              + " creation_p99_ms=%.2f bystander_appends/s=%.0f bystander_append_p50_ms=%.2f"
              + " bystander_append_p99_ms=%.2f over %d s, %d creators%n",
          existing, seedSeconds, creations.getTotalCount() / (double) seconds,
          creations.getValueAtPercentile(50) / 1e6, creations.getValueAtPercentile(99) / 1e6,
          appends.getTotalCount() / (double) seconds, appends.getValueAtPercentile(50) / 1e6,
          appends.getValueAtPercentile(99) / 1e6, seconds, CREATORS);
    }
  }
}

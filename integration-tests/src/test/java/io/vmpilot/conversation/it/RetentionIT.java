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

  // ---- per-tenant max_idle --------------------------------------------------------------------------------

  private static final List<String> TENANTS = List.of("alice", "bob", "carol");

  /** A tokens file giving each of {@link #TENANTS} the token "token-TENANT". */
  private Path tokensFile() throws Exception {
    StringBuilder lines = new StringBuilder();
    for (String tenant : TENANTS) {
      byte[] hash = java.security.MessageDigest.getInstance("SHA-256")
          .digest(("token-" + tenant).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      lines.append(tenant).append(" sha256:").append(java.util.HexFormat.of().formatHex(hash)).append('\n');
    }
    return java.nio.file.Files.writeString(dir.resolve("tokens"), lines.toString());
  }

  private List<String> perTenantArgs() throws Exception {
    // alice's conversations expire after 2 s, bob's by the server-wide hour, carol's never.
    return List.of("--auth-enabled", "true", "--auth-tokens-file", tokensFile().toString(),
        "--retention-max-idle", "1h", "--retention-tenant-max-idle", "alice=2s,carol=off");
  }

  @Test
  void eachTenantsConversationsExpireByItsOwnMaxIdleOnSqlite() throws Exception {
    List<String> args = new ArrayList<>(perTenantArgs());
    try (ServerProcess server = Rpc.startSqlite(dir.resolve("tenants.db"), args.toArray(String[]::new))) {
      tenantsExpireByTheirOwnMaxIdle(server, List.of(server));
    }
  }

  /** The same with two servers sweeping one PostgreSQL database, each tenant by its own cutoff. */
  @Test
  void eachTenantsConversationsExpireByItsOwnMaxIdleOnPostgres() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(2, perTenantArgs().toArray(String[]::new))) {
      tenantsExpireByTheirOwnMaxIdle(fleet.server(0), List.of(fleet.server(0), fleet.server(1)));
    }
  }

  private static ConversationClient clientOf(ServerProcess server, String tenant) {
    return ConversationClient.builder(server.target()).bearerToken("token-" + tenant).build();
  }

  private static void tenantsExpireByTheirOwnMaxIdle(ServerProcess server, List<ServerProcess> sweepers)
      throws Exception {
    int each = 5;
    try (ConversationClient alice = clientOf(server, "alice"); ConversationClient bob = clientOf(server, "bob");
        ConversationClient carol = clientOf(server, "carol")) {
      for (int i = 0; i < each; i++) {
        for (ConversationClient c : List.of(alice, bob, carol)) {
          c.save("t-" + i, List.of("{\"n\":" + i + "}"));
        }
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      long aliceCount = Long.MAX_VALUE;
      while (System.nanoTime() < deadline) {
        aliceCount = alice.adminStub().getServerStatus(GetServerStatusRequest.getDefaultInstance())
            .getConversationCount();
        if (aliceCount == 0 && loggedDeletions(sweepers) >= each) {
          break;
        }
        Thread.sleep(50); // a poll interval, not a synchronisation: the loop checks the state itself
      }
      assertThat(aliceCount).as("alice's conversations after her max_idle").isZero();
      assertThat(loggedDeletions(sweepers)).as("conversations the sweeps deleted").isEqualTo(each);
      for (int i = 0; i < each; i++) {
        assertThat(alice.get("t-" + i)).as("alice t-" + i).isEmpty();
        assertThat(bob.get("t-" + i)).as("bob t-" + i).isPresent();
        assertThat(carol.get("t-" + i)).as("carol t-" + i).isPresent();
      }
      assertThat(alice.list()).isEmpty();
      assertThat(bob.list()).hasSize(each);
      assertThat(sweepers).anyMatch(s -> s.output().contains("of tenant alice not updated since"));
      assertThat(sweepers).noneMatch(s -> s.output().contains("retention: sweep failed"));
      assertThat(server.output()).contains("retention: conversations of tenant alice not updated for PT2S are deleted")
          .contains("retention: conversations of tenant carol are kept however long they stay idle");
    }
  }

  @Test
  void aTenantWithoutATokenIsRefusedAtStartUp() throws Exception {
    try (ServerProcess server = Rpc.startSqlite(dir.resolve("refused.db"), "--auth-enabled", "true",
        "--auth-tokens-file", tokensFile().toString(), "--retention-tenant-max-idle", "alcie=2s")) {
      org.junit.jupiter.api.Assertions.fail("the server started: " + server.output());
    } catch (IllegalStateException e) {
      // "server did not start; its output: ..." with the refusal
      assertThat(e.getMessage()).contains("--retention-tenant-max-idle").contains("alcie");
    }
  }

  // ---- a conversation's own expire time: shown by Get, cleared, exported and imported -------------------------

  private static java.time.Instant instant(com.google.protobuf.Timestamp t) {
    return java.time.Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  @Test
  void getShowsTheExpireTimeAndAClearedOneNoLongerExpires() throws Exception {
    try (ServerProcess server = Rpc.startSqlite(dir.resolve("expiry.db"));
        ConversationClient client = ConversationClient.builder(server.target()).build()) {
      java.time.Instant before = java.time.Instant.now();
      client.append(io.vmpilot.conversation.v1.AppendRequest.newBuilder().setThreadId("ttl")
          .addMessages(ConversationClient.message("{\"n\":1}"))
          .setExpiry(ConversationClient.expireAfter(Duration.ofSeconds(1))).build());
      client.append(io.vmpilot.conversation.v1.AppendRequest.newBuilder().setThreadId("cleared")
          .addMessages(ConversationClient.message("{\"n\":1}"))
          .setExpiry(ConversationClient.expireAfter(Duration.ofSeconds(1))).build());
      client.save("never", List.of("{\"n\":1}"));

      var ttl = client.get("ttl").orElseThrow();
      assertThat(ttl.hasExpireTime()).isTrue();
      assertThat(instant(ttl.getExpireTime())).isAfter(before.plus(Duration.ofMillis(900)))
          .isBefore(java.time.Instant.now().plus(Duration.ofSeconds(2)));
      assertThat(client.get("never").orElseThrow().hasExpireTime()).isFalse();
      assertThat(client.list()).filteredOn(c -> c.getThreadId().equals("ttl")).singleElement()
          .satisfies(c -> assertThat(c.getExpireTime()).isEqualTo(ttl.getExpireTime()));

      // Cleared by an Append: no expire time any more (a new conversation if the second had already passed).
      var appended = client.append(io.vmpilot.conversation.v1.AppendRequest.newBuilder().setThreadId("cleared")
          .addMessages(ConversationClient.message("{\"n\":2}")).setExpiry(ConversationClient.neverExpire())
          .build());
      assertThat(client.get("cleared").orElseThrow().hasExpireTime()).isFalse();

      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (client.get("ttl").isPresent() && System.nanoTime() < deadline) {
        Thread.sleep(50); // a poll interval: the loop checks the conversation itself
      }
      assertThat(client.get("ttl")).as("past its expire time").isEmpty();
      assertThat(client.get("cleared")).as("cleared before its expire time").hasValueSatisfying(c ->
          assertThat(c.getMessagesCount()).isEqualTo(appended.getCreated() ? 1 : 2));
      assertThat(client.get("never")).isPresent();
    }
  }

  @Test
  void exportCarriesTheExpireTimeAndImportRestoresItOrSkipsAnExpiredRecord() throws Exception {
    java.time.Instant at = java.time.Instant.now().plus(Duration.ofDays(2)).truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    List<io.vmpilot.conversation.v1.ConversationRecord> exported;
    try (ServerProcess memory = ServerProcess.start(List.of("--database-enabled", "false", "--port", "0"));
        ConversationClient client = ConversationClient.builder(memory.target()).build()) {
      client.save(io.vmpilot.conversation.v1.SaveRequest.newBuilder().setThreadId("expiring")
          .addMessages(ConversationClient.message("{\"n\":1}")).setExpiry(ConversationClient.expireAt(at)).build());
      client.save("lasting", List.of("{\"n\":2}"));
      var channel = Rpc.channel(memory.target());
      try {
        exported = AdminIT.export(channel, io.vmpilot.conversation.v1.ExportRequest.getDefaultInstance());
      } finally {
        Rpc.close(channel);
      }
    }
    assertThat(exported).extracting(r -> r.getThreadId()).containsExactly("expiring", "lasting");
    assertThat(instant(exported.get(0).getExpireTime())).isEqualTo(at);
    assertThat(exported.get(1).hasExpireTime()).isFalse();
    var expired = exported.get(1).toBuilder().setThreadId("expired")
        .setExpireTime(com.google.protobuf.Timestamp.newBuilder()
            .setSeconds(java.time.Instant.now().minusSeconds(60).getEpochSecond())).build();

    try (ServerProcess sqlite = Rpc.startSqlite(dir.resolve("imported.db"));
        ConversationClient client = ConversationClient.builder(sqlite.target()).build()) {
      var channel = Rpc.channel(sqlite.target());
      try {
        var policy = io.vmpilot.conversation.v1.ExistingConversationPolicy.EXISTING_CONVERSATION_POLICY_REPLACE;
        var first = AdminIT.importAll(channel, List.of(exported.get(0), exported.get(1), expired), policy);
        assertThat(first.getImported()).isEqualTo(2);
        assertThat(first.getSkipped()).as("the expired record").isEqualTo(1);
        assertThat(instant(client.get("expiring").orElseThrow().getExpireTime())).isEqualTo(at);
        assertThat(client.get("lasting").orElseThrow().hasExpireTime()).isFalse();
        assertThat(client.get("expired")).isEmpty();
        // The dump of the importing server is the dump imported, expire times included.
        assertThat(AdminIT.export(channel, io.vmpilot.conversation.v1.ExportRequest.getDefaultInstance()))
            .isEqualTo(exported);
        // Importing it again changes nothing; a record whose only difference is its expire time replaces.
        var again = AdminIT.importAll(channel, exported, policy);
        assertThat(again.getSkipped()).isEqualTo(2);
        var later = exported.get(0).toBuilder().setExpireTime(exported.get(0).getExpireTime().toBuilder()
            .setSeconds(exported.get(0).getExpireTime().getSeconds() + 3600)).build();
        assertThat(AdminIT.importAll(channel, List.of(later), policy).getReplaced()).isEqualTo(1);
        assertThat(client.get("expiring").orElseThrow().getExpireTime()).isEqualTo(later.getExpireTime());
      } finally {
        Rpc.close(channel);
      }
    }
  }
}

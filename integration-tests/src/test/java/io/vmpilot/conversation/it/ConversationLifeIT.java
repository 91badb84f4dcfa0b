package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.ForkRequest;
import io.vmpilot.conversation.v1.ForkResponse;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * UpdateMetadata and Fork over the real server process, on SQLite and on PostgreSQL: a metadata key removed while
 * Saves set it (every call acknowledged, the final state that of the last one in version order), and a fork of a
 * 10,000-message conversation with its errors.
 */
class ConversationLifeIT {
  private static final int RACERS = 6;
  private static final int OPS_PER_RACER = 40;
  private static final int LONG_HISTORY = 10_000;

  @TempDir
  Path dir;

  @Test
  void metadataRemovalRacingSavesOnSqlite() throws Exception {
    try (ServerProcess server = Rpc.startSqlite(dir.resolve("race.db"))) {
      raceRemovalsAndSaves(List.of(server.target()));
    }
  }

  @Test
  void metadataRemovalRacingSavesOnPostgresWithTwoServers() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(2)) {
      raceRemovalsAndSaves(List.of(fleet.server(0).target(), fleet.server(1).target()));
    }
  }

  @Test
  void forkOfALongConversationOnSqlite() throws Exception {
    try (ServerProcess server = Rpc.startSqlite(dir.resolve("fork.db"))) {
      forkLongConversation(server.target(), "sqlite");
    }
  }

  @Test
  void forkOfALongConversationOnPostgres() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(1)) {
      forkLongConversation(fleet.server(0).target(), "postgres");
    }
  }

  /** What an acknowledged call did to the key "flag": set it to {@code value} (a Save) or removed it (null). */
  private record Ack(long version, String value, String messageId) {}

  /**
   * Half the racers Save (history of one message, metadata flag=their op), half remove flag with UpdateMetadata,
   * all on one conversation, without expected_version, so that every call is acknowledged. Versions are unique and
   * order the calls; the final state must be the one a serial run in that order leaves: flag as the last call set
   * or removed it, the history that of the last Save, untouched by the removals, and the last version.
   */
  private static void raceRemovalsAndSaves(List<String> targets) throws Exception {
    String thread = "raced";
    ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    long initial;
    try (ConversationClient setup = ConversationClient.builder(targets.get(0)).build()) {
      initial = setup.save(SaveRequest.newBuilder().setThreadId(thread).putMetadata("flag", "initial")
          .putMetadata("other", "kept").build()).getVersion();
    }
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    List<ConversationClient> clients = new ArrayList<>();
    for (int r = 0; r < RACERS; r++) {
      int racer = r;
      ConversationClient client = ConversationClient.builder(targets.get(r % targets.size())).build();
      clients.add(client);
      Thread t = new Thread(() -> {
        try {
          start.await();
          long last = 0;
          for (int op = 0; op < OPS_PER_RACER; op++) {
            long version;
            if (racer % 2 == 0) {
              String id = "s" + racer + "-" + op;
              version = client.save(SaveRequest.newBuilder().setThreadId(thread)
                  .addMessages(Message.newBuilder().setId(id).setJson("{\"by\":\"" + id + "\"}"))
                  .putMetadata("flag", id).build()).getVersion();
              acks.add(new Ack(version, id, id));
            } else {
              version = client.updateMetadata(thread, Map.of(), List.of("flag")).getVersion();
              acks.add(new Ack(version, null, null));
            }
            if (version <= last) {
              problems.add("racer " + racer + " got version " + version + " after " + last);
            }
            last = version;
          }
        } catch (RuntimeException | InterruptedException e) {
          problems.add("racer " + racer + ": " + e);
        }
      }, "life-racer-" + r);
      threads.add(t);
      t.start();
    }
    start.countDown();
    for (Thread t : threads) {
      t.join(TimeUnit.MINUTES.toMillis(3));
      assertThat(t.isAlive()).as("racer finished").isFalse();
    }
    clients.forEach(ConversationClient::close);
    assertThat(problems).isEmpty();
    assertThat(acks).hasSize(RACERS * OPS_PER_RACER);

    List<Ack> order = acks.stream().sorted(Comparator.comparingLong(Ack::version)).toList();
    Set<Long> versions = new HashSet<>();
    order.forEach(a -> versions.add(a.version()));
    assertThat(versions).as("every acknowledged call has a version of its own").hasSize(acks.size());
    assertThat(order.get(0).version()).isGreaterThan(initial);
    int switches = 0;
    for (int i = 1; i < order.size(); i++) {
      if ((order.get(i).value() == null) != (order.get(i - 1).value() == null)) {
        switches++;
      }
    }
    assertThat(switches).as("Saves and removals interleaved (a real race)").isGreaterThan(2);
    Ack last = order.get(order.size() - 1);
    Ack lastSave = order.stream().filter(a -> a.value() != null).reduce((a, b) -> b).orElseThrow();
    try (ConversationClient reader = ConversationClient.builder(targets.get(0)).build()) {
      Conversation c = reader.get(thread).orElseThrow();
      assertThat(c.getVersion()).as("final version is the last acknowledged").isEqualTo(last.version());
      assertThat(c.getMetadataMap().get("flag")).as("flag as the last call in version order left it")
          .isEqualTo(last.value());
      assertThat(c.getMetadataMap()).containsEntry("other", "kept");
      assertThat(c.getMessagesList()).extracting(Message::getId).as("the history of the last Save")
          .containsExactly(lastSave.messageId());
    }
    long removals = order.stream().filter(a -> a.value() == null).count();
    System.out.printf("ConversationLifeIT race: servers=%d calls=%d removals=%d interleavings=%d final_flag=%s%n",
        targets.size(), acks.size(), removals, switches, last.value());
  }

  /**
   * A conversation of 10,000 messages forked at 7,500 (and whole): the copy holds exactly those messages, ids and
   * positions, the source is unchanged, and the copy takes Appends of its own. Then the errors, with details.
   */
  private static void forkLongConversation(String target, String backend) throws Exception {
    ManagedChannel channel = Rpc.channel(target);
    try (ConversationClient client = ConversationClient.builder(target).deadline(Duration.ofSeconds(60)).build()) {
      String source = "long";
      for (int from = 0; from < LONG_HISTORY; from += 500) {
        AppendRequest.Builder b = AppendRequest.newBuilder().setThreadId(source);
        for (int i = from; i < from + 500; i++) {
          b.addMessages(Message.newBuilder().setId("m" + i)
              .setJson("{\"role\":\"user\",\"content\":\"message number " + i + " ünïcödé\"}"));
        }
        client.append(b.build());
      }
      client.updateMetadata(source, Map.of("title", "long one"), List.of());
      Conversation before = client.getNewest(source, 1).orElseThrow();
      assertThat(before.getMessageCount()).isEqualTo(LONG_HISTORY);

      long started = System.nanoTime();
      ForkResponse fork = client.fork(source, "long-retry", 7_500);
      double forkMillis = (System.nanoTime() - started) / 1e6;
      assertThat(fork.getMessageCount()).isEqualTo(7_500);
      assertThat(fork.getSourceVersion()).isEqualTo(before.getVersion());

      Conversation copy = client.get("long-retry").orElseThrow();
      assertThat(copy.getMessageCount()).isEqualTo(7_500);
      assertThat(copy.getMessagesCount()).isEqualTo(7_500);
      for (int i = 0; i < 7_500; i++) {
        Message m = copy.getMessages(i);
        assertThat(m.getPosition()).isEqualTo(i);
        assertThat(m.getId()).isEqualTo("m" + i);
      }
      assertThat(copy.getMessages(7_499).getJson())
          .isEqualTo("{\"role\":\"user\",\"content\":\"message number 7499 ünïcödé\"}");
      Conversation sourceFull = client.get(source).orElseThrow();
      assertThat(copy.getHistoryBytes()).isEqualTo(sourceFull.getMessagesList().subList(0, 7_500).stream()
          .mapToLong(m -> m.getJson().getBytes(java.nio.charset.StandardCharsets.UTF_8).length).sum());
      assertThat(copy.getMetadataMap()).containsEntry("title", "long one").containsEntry("forked_from", source)
          .containsEntry("forked_from_version", Long.toString(before.getVersion()));
      assertThat(copy.getVersion()).isEqualTo(fork.getVersion());

      assertThat(sourceFull.getVersion()).as("the source is unchanged").isEqualTo(before.getVersion());
      assertThat(sourceFull.getMessageCount()).isEqualTo(LONG_HISTORY);

      // The copy is a conversation of its own: a copied id is de-duplicated, a new one appended at 7,500.
      var appended = client.append(AppendRequest.newBuilder().setThreadId("long-retry")
          .addMessages(Message.newBuilder().setId("m7499").setJson("{\"again\":true}"))
          .addMessages(Message.newBuilder().setId("retry-1").setJson("{\"retry\":1}")).build());
      assertThat(appended.getAppendedCount()).isEqualTo(1);
      assertThat(appended.getMessageCount()).isEqualTo(7_501);
      assertThat(client.getNewest(source, 1).orElseThrow().getMessages(0).getId()).isEqualTo("m9999");

      ForkResponse whole = client.fork(ForkRequest.newBuilder().setThreadId(source).setNewThreadId("long-copy")
          .build());
      assertThat(whole.getMessageCount()).isEqualTo(LONG_HISTORY);
      assertThat(client.getNewest("long-copy", 1).orElseThrow().getMessages(0).getId()).isEqualTo("m9999");

      // Errors, over a raw channel so that each is one attempt with its details.
      Throwable missing = catchThrowableOfType(RuntimeException.class, () -> Rpc.stub(channel)
          .fork(ForkRequest.newBuilder().setThreadId("nobody").setNewThreadId("x").build()));
      assertThat(Rpc.code(missing)).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(Rpc.errorInfo(missing).orElseThrow().getReason()).isEqualTo("CONVERSATION_NOT_FOUND");

      Throwable exists = catchThrowableOfType(RuntimeException.class, () -> Rpc.stub(channel)
          .fork(ForkRequest.newBuilder().setThreadId(source).setNewThreadId("long-retry").build()));
      assertThat(Rpc.code(exists)).isEqualTo(Status.Code.ALREADY_EXISTS);
      assertThat(Rpc.errorInfo(exists).orElseThrow().getReason()).isEqualTo("CONVERSATION_EXISTS");
      assertThat(Rpc.errorInfo(exists).orElseThrow().getMetadataMap()).containsEntry("thread_id", "long-retry");

      Throwable beyond = catchThrowableOfType(RuntimeException.class, () -> Rpc.stub(channel)
          .fork(ForkRequest.newBuilder().setThreadId(source).setNewThreadId("y").setEndPosition(10_001).build()));
      assertThat(Rpc.code(beyond)).isEqualTo(Status.Code.OUT_OF_RANGE);
      assertThat(Rpc.errorInfo(beyond).orElseThrow().getReason()).isEqualTo("POSITION_OUT_OF_RANGE");
      assertThat(Rpc.errorInfo(beyond).orElseThrow().getMetadataMap()).containsEntry("message_count", "10000");

      Throwable negative = catchThrowableOfType(RuntimeException.class, () -> Rpc.stub(channel)
          .fork(ForkRequest.newBuilder().setThreadId(source).setNewThreadId("z").setEndPosition(-1).build()));
      assertThat(Rpc.code(negative)).isEqualTo(Status.Code.INVALID_ARGUMENT);

      // The Java client throws its own exception, with the code.
      ConversationStoreException viaClient = catchThrowableOfType(ConversationStoreException.class,
          () -> client.fork(source, "long-retry", 1));
      assertThat(viaClient.code()).isEqualTo(Status.Code.ALREADY_EXISTS);

      for (String refused : List.of("x", "y", "z")) {
        assertThat(client.get(refused)).as("a refused fork created nothing").isEmpty();
      }
      System.out.printf("ConversationLifeIT fork: backend=%s messages=%d copied=7500 fork_ms=%.1f%n", backend,
          LONG_HISTORY, forkMillis);
    } finally {
      Rpc.close(channel);
    }
  }
}

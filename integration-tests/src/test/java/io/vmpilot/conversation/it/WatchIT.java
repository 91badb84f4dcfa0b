package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ChangeKind;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.UpdateMetadataRequest;
import io.vmpilot.conversation.v1.WatchRequest;
import io.vmpilot.conversation.v1.WatchResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Watch over the real server process: a watcher that resumes from the last version it received, across graceful
 * restarts and SIGKILLs, gets every acknowledged write once and in order; a watcher that stops reading is cut off
 * while the writers go on (and the metrics endpoint counts it); on PostgreSQL, a watcher on one server sees the writes
 * made through another; a watch filtered by metadata gets the changes of the conversations that match, the one by
 * which a conversation stops matching, and the same again when resumed after a restart.
 */
class WatchIT {
  @TempDir
  Path dir;

  /** A whole-tenant watcher on its own thread, from {@code after}; collects into {@code received}. */
  private static final class Watching implements AutoCloseable {
    final ManagedChannel channel;
    final Thread thread;
    final AtomicReference<StatusRuntimeException> ended = new AtomicReference<>();

    final List<WatchResponse> received;

    Watching(String target, long after, List<WatchResponse> received) {
      this(target, after, Map.of(), received);
    }

    Watching(String target, long after, Map<String, String> metadataFilter, List<WatchResponse> received) {
      this.received = received;
      channel = Rpc.channel(target);
      Iterator<WatchResponse> events = ConversationServiceGrpc.newBlockingStub(channel)
          .watch(WatchRequest.newBuilder().setStartVersion(after).putAllMetadataFilter(metadataFilter).build());
      thread = new Thread(() -> {
        try {
          while (events.hasNext()) {
            WatchResponse e = events.next();
            synchronized (received) {
              received.add(e);
              received.notifyAll();
            }
          }
        } catch (StatusRuntimeException e) {
          ended.set(e);
        }
      }, "watcher");
      thread.start();
    }

    /** Waits until an event of at least {@code version} was received; false after {@code seconds}. */
    boolean awaitVersion(long version, long seconds) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      synchronized (received) {
        while (lastVersion(received) < version) {
          long left = end - System.nanoTime();
          if (left <= 0 || !thread.isAlive()) {
            return false;
          }
          received.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
        return true;
      }
    }

    @Override
    public void close() throws InterruptedException {
      Rpc.close(channel);
      thread.join(TimeUnit.SECONDS.toMillis(30));
    }
  }

  private static long lastVersion(List<WatchResponse> received) {
    synchronized (received) {
      return received.isEmpty() ? 0 : received.get(received.size() - 1).getVersion();
    }
  }

  @Test
  void aResumingWatcherGetsEveryAcknowledgedWriteOnceAcrossRestartsAndKills() throws Exception {
    Path db = dir.resolve("watch.db");
    List<WatchResponse> received = new ArrayList<>();
    Map<Long, String> acknowledged = new ConcurrentHashMap<>();
    AtomicInteger seq = new AtomicInteger();
    int cycles = 4;
    for (int cycle = 0; cycle < cycles; cycle++) {
      boolean kill = cycle % 2 == 1;
      ServerProcess server = Rpc.startSqlite(db);
      Watching watching = new Watching(server.target(), lastVersion(received), received);
      ManagedChannel writes = Rpc.channel(server.target());
      CountDownLatch enough = new CountDownLatch(40);
      AtomicBoolean stop = new AtomicBoolean();
      Thread writer = new Thread(() -> {
        while (!stop.get()) {
          int n = seq.getAndIncrement();
          String json = "{\"seq\":" + n + "}";
          try {
            long v = Rpc.stub(writes).append(AppendRequest.newBuilder().setThreadId("t" + (n % 3))
                .addMessages(Message.newBuilder().setJson(json)).build()).getVersion();
            acknowledged.put(v, json);
            enough.countDown();
          } catch (StatusRuntimeException e) {
            return; // the server went away: the outcome of this one is unknown, and it is not counted
          }
        }
      }, "writer");
      writer.start();
      assertThat(enough.await(60, TimeUnit.SECONDS)).as("40 writes acknowledged in cycle %d", cycle).isTrue();
      if (kill) {
        server.kill();
      } else {
        stop.set(true);
        writer.join();
        assertThat(server.stop()).isZero();
      }
      stop.set(true);
      writer.join(TimeUnit.SECONDS.toMillis(60));
      watching.thread.join(TimeUnit.SECONDS.toMillis(60));
      assertThat(watching.thread.isAlive()).as("the watch ended with the server").isFalse();
      assertThat(Rpc.code(watching.ended.get())).isEqualTo(Status.Code.UNAVAILABLE);
      if (!kill) {
        assertThat(Rpc.errorInfo(watching.ended.get()).orElseThrow().getReason()).isEqualTo("SERVER_SHUTTING_DOWN");
      }
      watching.close();
      Rpc.close(writes);
    }

    long newestAcknowledged = acknowledged.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
    try (ServerProcess server = Rpc.startSqlite(db)) {
      try (Watching watching = new Watching(server.target(), lastVersion(received), received)) {
        assertThat(watching.awaitVersion(newestAcknowledged, 60)).as("caught up with the newest write").isTrue();
      }
      // The whole log once more, in one go: what the resuming watcher pieced together is exactly it.
      List<WatchResponse> whole = new ArrayList<>();
      try (Watching once = new Watching(server.target(), 0, whole)) {
        assertThat(once.awaitVersion(lastVersion(received), 60)).isTrue();
      }
      List<Long> versions;
      synchronized (received) {
        versions = received.stream().map(WatchResponse::getVersion).toList();
        assertThat(versions).as("in order, none twice").isSorted().doesNotHaveDuplicates();
        synchronized (whole) {
          assertThat(versions).as("no gap").isEqualTo(
              whole.stream().map(WatchResponse::getVersion).filter(v -> v <= versions.get(versions.size() - 1))
                  .toList());
        }
        assertThat(versions).as("every acknowledged write").containsAll(acknowledged.keySet());
        for (WatchResponse e : received) {
          assertThat(e.getKind()).isEqualTo(ChangeKind.CHANGE_KIND_APPENDED);
          String json = acknowledged.get(e.getVersion());
          if (json != null) {
            assertThat(e.getMessages(0).getJson()).isEqualTo(json);
          }
        }
      }
      System.out.printf("WatchIT: %d acknowledged writes over %d restarts (half of them SIGKILL), %d events"
          + " received%n", acknowledged.size(), cycles, versions.size());
    }
  }

  @Test
  void aWatcherThatStopsReadingIsCutOffWhileWritersGoOn() throws Exception {
    try (ServerProcess server = Rpc.startSqlite(dir.resolve("slow.db"), "--watch-max-lag-events", "50",
        "--metrics-enabled", "true", "--metrics-port", "0")) {
      ManagedChannel watchChannel = Rpc.channel(server.target());
      ManagedChannel writes = Rpc.channel(server.target());
      try {
        String big = "{\"text\":\"" + "x".repeat(16 * 1024) + "\"}";
        // The same appends with no watcher first, for the figure to compare with (printed, never asserted).
        long baselineStart = System.nanoTime();
        for (int i = 0; i < 500; i++) {
          Rpc.stub(writes).append(AppendRequest.newBuilder().setThreadId("alone")
              .addMessages(Message.newBuilder().setJson(big)).build());
        }
        double baselineSeconds = (System.nanoTime() - baselineStart) / 1e9;
        System.out.printf("WatchIT: 500 appends of 16 KiB with no watcher in %.2f s (%.0f/s)%n", baselineSeconds,
            500 / baselineSeconds);
        AtomicReference<Throwable> ended = new AtomicReference<>();
        CountDownLatch closed = new CountDownLatch(1);
        AtomicReference<ClientCallStreamObserver<WatchRequest>> call = new AtomicReference<>();
        AtomicInteger received = new AtomicInteger();
        ConversationServiceGrpc.newStub(watchChannel).watch(WatchRequest.getDefaultInstance(),
            new ClientResponseObserver<WatchRequest, WatchResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<WatchRequest> requestStream) {
                call.set(requestStream);
                requestStream.disableAutoRequestWithInitial(1); // then reads nothing more
              }

              @Override
              public void onNext(WatchResponse value) {
                received.incrementAndGet();
              }

              @Override
              public void onError(Throwable t) {
                ended.set(t);
                closed.countDown();
              }

              @Override
              public void onCompleted() {
                closed.countDown();
              }
            });
        int writesDone = 0;
        long startNanos = System.nanoTime();
        for (int i = 0; i < 2000; i++) {
          Rpc.stub(writes).append(AppendRequest.newBuilder().setThreadId("busy")
              .addMessages(Message.newBuilder().setJson(big)).build());
          writesDone++;
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        System.out.printf("WatchIT: %d appends of 16 KiB beside a stalled watcher in %.2f s (%.0f/s)%n", writesDone,
            seconds, writesDone / seconds);
        assertThat(writesDone).isEqualTo(2000);
        String stalled = PrometheusScrape.of(server.metricsUrl());
        call.get().request(Integer.MAX_VALUE);
        assertThat(closed.await(60, TimeUnit.SECONDS)).as("the stalled watch ended").isTrue();
        assertThat(ended.get()).isNotNull();
        assertThat(Rpc.code(ended.get())).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(Rpc.errorInfo(ended.get()).orElseThrow().getReason()).isEqualTo("WATCHER_TOO_SLOW");
        assertThat(received.get()).isLessThan(2000);
        // The metrics endpoint: the stalled watcher was open, then cut off for being too slow.
        String after = PrometheusScrape.of(server.metricsUrl());
        assertThat(PrometheusScrape.value(after, "conversation_watch_cutoffs_total", "reason=\"WATCHER_TOO_SLOW\""))
            .isEqualTo(1);
        assertThat(PrometheusScrape.value(after, "conversation_watch_cutoffs_total", "reason=\"ERROR\"")).isZero();
        assertThat(PrometheusScrape.value(after, "conversation_watch_watchers")).isZero();
        assertThat(PrometheusScrape.value(after, "conversation_watch_events_total"))
            .isGreaterThanOrEqualTo(received.get()).isLessThan(2000);
        if (PrometheusScrape.value(stalled, "conversation_watch_cutoffs_total", "reason=\"WATCHER_TOO_SLOW\"")
            == 0) {
          // Scraped before the cut-off (which comes only with the next send attempt): it was open then.
          assertThat(PrometheusScrape.value(stalled, "conversation_watch_watchers")).isEqualTo(1);
        }
      } finally {
        Rpc.close(watchChannel);
        Rpc.close(writes);
      }
    }
  }

  @Test
  void aWatchFilteredByMetadataResumedAfterARestartGetsTheChangesOfMatchingConversationsOnly() throws Exception {
    Path db = dir.resolve("filtered.db");
    Map<String, String> p1 = Map.of("project", "p1");
    List<WatchResponse> received = new ArrayList<>();
    List<Long> expected = new ArrayList<>();
    try (ServerProcess server = Rpc.startSqlite(db)) {
      ManagedChannel writes = Rpc.channel(server.target());
      try (Watching watching = new Watching(server.target(), 0, p1, received)) {
        expected.add(Rpc.stub(writes).save(SaveRequest.newBuilder().setThreadId("a").putMetadata("project", "p1")
            .addMessages(Message.newBuilder().setJson("{\"n\":1}")).build()).getVersion());
        append(writes, "b", "{\"not\":\"matching\"}");
        expected.add(append(writes, "a", "{\"n\":2}"));
        assertThat(watching.awaitVersion(expected.get(1), 60)).isTrue();
      }
      // With no watcher: a leaves the filter (sent, it is the last of a), then writes nothing it would get; b joins.
      expected.add(Rpc.stub(writes).updateMetadata(UpdateMetadataRequest.newBuilder().setThreadId("a")
          .putSet("project", "p2").build()).getVersion());
      append(writes, "a", "{\"not\":\"sent\"}");
      expected.add(Rpc.stub(writes).updateMetadata(UpdateMetadataRequest.newBuilder().setThreadId("b")
          .putSet("project", "p1").build()).getVersion());
      Rpc.close(writes);
      assertThat(server.stop()).isZero();
    }
    try (ServerProcess server = Rpc.startSqlite(db)) {
      ManagedChannel writes = Rpc.channel(server.target());
      assertThat(Rpc.stub(writes).clear(ClearRequest.newBuilder().setThreadId("b").build()).getDeleted()).isTrue();
      Rpc.close(writes);
      try (Watching watching = new Watching(server.target(), lastVersion(received), p1, received)) {
        // The Clear is the write after b joined: the first version above that one.
        assertThat(watching.awaitVersion(expected.get(3) + 1, 60)).isTrue();
      }
      expected.add(lastVersion(received));
    }
    synchronized (received) {
      assertThat(received).extracting(WatchResponse::getVersion).containsExactlyElementsOf(expected);
      assertThat(received).extracting(WatchResponse::getThreadId).containsExactly("a", "a", "a", "b", "b");
      assertThat(received).extracting(WatchResponse::getLeftFilter).containsExactly(false, false, true, false,
          false);
      assertThat(received).extracting(WatchResponse::getKind).containsExactly(ChangeKind.CHANGE_KIND_APPENDED,
          ChangeKind.CHANGE_KIND_APPENDED, ChangeKind.CHANGE_KIND_METADATA_UPDATED,
          ChangeKind.CHANGE_KIND_METADATA_UPDATED, ChangeKind.CHANGE_KIND_CLEARED);
    }
  }

  private static long append(ManagedChannel channel, String threadId, String json) {
    return Rpc.stub(channel).append(AppendRequest.newBuilder().setThreadId(threadId)
        .addMessages(Message.newBuilder().setJson(json)).build()).getVersion();
  }

  @Test
  void aWatcherOnOnePostgresServerSeesTheWritesMadeThroughAnother() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(2)) {
      List<WatchResponse> received = new ArrayList<>();
      ManagedChannel writes = Rpc.channel(fleet.server(1).target());
      List<Long> versions = new ArrayList<>();
      try (Watching watching = new Watching(fleet.server(0).target(), 0, received)) {
        // Writes through server 1 only, from several threads, to several conversations.
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
          int writer = w;
          Thread t = new Thread(() -> {
            for (int i = 0; i < 25; i++) {
              long v = Rpc.stub(writes).append(AppendRequest.newBuilder().setThreadId("pg-" + writer)
                  .addMessages(Message.newBuilder().setJson("{\"w\":" + writer + ",\"i\":" + i + "}")).build())
                  .getVersion();
              synchronized (versions) {
                versions.add(v);
              }
            }
          });
          writers.add(t);
          t.start();
        }
        for (Thread t : writers) {
          t.join(TimeUnit.SECONDS.toMillis(120));
        }
        assertThat(versions).hasSize(100);
        long newest = versions.stream().mapToLong(Long::longValue).max().orElseThrow();
        assertThat(watching.awaitVersion(newest, 60)).as("the live watcher on server 0 saw them").isTrue();
        try (Watching second = new Watching(fleet.server(0).target(), 0, new ArrayList<>())) {
          assertThat(second.awaitVersion(newest, 60)).as("a new watcher on server 0 reads them").isTrue();
        }
      } finally {
        Rpc.close(writes);
      }
      synchronized (received) {
        List<Long> got = received.stream().map(WatchResponse::getVersion).toList();
        assertThat(got).isSorted().doesNotHaveDuplicates();
        assertThat(got).containsExactlyInAnyOrderElementsOf(versions);
      }
    }
  }
}

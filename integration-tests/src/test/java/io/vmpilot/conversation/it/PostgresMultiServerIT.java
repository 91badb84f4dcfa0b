package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.AppendResponse;
import io.vmpilot.conversation.v1.ConversationSummary;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.ListResponse;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Two and three real server processes on one real PostgreSQL database, with nothing between them but the database:
 * every promise one server keeps must hold across them.
 */
class PostgresMultiServerIT {
  @Test
  void readModifyWriteThroughThreeServersLosesNothing() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(3)) {
      RaceIT.raceThrough(List.of(fleet.server(0).target(), fleet.server(1).target(), fleet.server(2).target()),
          "PostgresMultiServerIT race");
    }
  }

  @Test
  void anAppendRetriedThroughAnotherServerIsStoredOnce() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(2)) {
      List<ManagedChannel> channels = List.of(Rpc.channel(fleet.server(0).target()),
          Rpc.channel(fleet.server(1).target()));
      try {
        AppendRequest turn = AppendRequest.newBuilder().setThreadId("retried")
            .addMessages(Message.newBuilder().setId("u1").setJson("{\"role\":\"user\",\"content\":\"hi\"}"))
            .addMessages(Message.newBuilder().setId("a1").setJson("{\"role\":\"assistant\",\"content\":\"hello\"}"))
            .build();
        AppendResponse first = Rpc.stub(channels.get(0)).append(turn);
        assertThat(first.getAppendedCount()).isEqualTo(2);
        // The client lost the answer and retried through the other server: nothing is stored twice, and the
        // retry is told the version the original produced.
        AppendResponse retry = Rpc.stub(channels.get(1)).append(turn.toBuilder().setExpectedVersion(0).build());
        assertThat(retry.getAppendedCount()).isZero();
        assertThat(retry.getVersion()).isEqualTo(first.getVersion());

        // The same Append sent to both servers at once, many times over: each turn stored exactly once.
        int turns = 40;
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
          List<Future<AppendResponse>> sent = new ArrayList<>();
          for (int t = 0; t < turns; t++) {
            AppendRequest r = AppendRequest.newBuilder().setThreadId("raced")
                .addMessages(Message.newBuilder().setId("t" + t).setJson("{\"turn\":" + t + "}")).build();
            for (ManagedChannel ch : channels) {
              for (int copy = 0; copy < 2; copy++) {
                sent.add(pool.submit(() -> Rpc.stub(ch).append(r)));
              }
            }
          }
          int appended = 0;
          for (Future<AppendResponse> f : sent) {
            appended += f.get(60, TimeUnit.SECONDS).getAppendedCount();
          }
          assertThat(appended).isEqualTo(turns);
        } finally {
          pool.shutdownNow();
        }
        List<String> ids = Rpc.stub(channels.get(1)).get(GetRequest.newBuilder().setThreadId("raced").build())
            .getConversation().getMessagesList().stream().map(Message::getId).toList();
        assertThat(ids).hasSize(turns).doesNotHaveDuplicates();
        assertThat(fleet.psql("SELECT count(*) FROM messages m JOIN conversations c USING (conversation_id)"
            + " WHERE c.thread_id = 'raced'")).isEqualTo(Integer.toString(turns));
        System.out.printf("PostgresMultiServerIT idempotent append: servers=2 turns=%d copies_sent=%d stored=%d%n",
            turns, turns * 4, ids.size());
      } finally {
        channels.forEach(Rpc::close);
      }
    }
  }

  /**
   * One client pages through List on one server while clients of two other servers append to some conversations
   * and create new ones. No conversation may appear twice, and every conversation nobody wrote during the paging
   * must appear exactly once.
   */
  @Test
  void listPagingThroughOneServerWhileTwoOthersWrite() throws Exception {
    int existing = 400;
    int hot = 40;
    try (PostgresFleet fleet = PostgresFleet.start(3)) {
      ManagedChannel reader = Rpc.channel(fleet.server(0).target());
      List<ManagedChannel> writers = List.of(Rpc.channel(fleet.server(1).target()),
          Rpc.channel(fleet.server(2).target()));
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        for (int i = 0; i < existing; i++) {
          Rpc.stub(writers.get(i % 2)).save(SaveRequest.newBuilder().setThreadId(thread(i))
              .addMessages(Message.newBuilder().setId("m0").setJson("{\"i\":" + i + "}")).build());
        }
        AtomicBoolean paging = new AtomicBoolean(true);
        Set<String> written = ConcurrentHashMap.newKeySet();
        AtomicInteger writes = new AtomicInteger();
        CountDownLatch writing = new CountDownLatch(4);
        List<Future<?>> writerTasks = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
          int worker = w;
          writerTasks.add(pool.submit(() -> {
            ManagedChannel ch = writers.get(worker % 2);
            int n = 0;
            writing.countDown();
            while (paging.get()) {
              // Hot conversations are the first `hot`; new ones get names of their own.
              String thread = n % 3 == 0 ? "new-" + worker + "-" + n : thread((worker * 7 + n) % hot);
              written.add(thread);
              Rpc.stub(ch).append(AppendRequest.newBuilder().setThreadId(thread)
                  .addMessages(Message.newBuilder().setId("w" + worker + "-" + n).setJson("{\"n\":" + n + "}"))
                  .build());
              writes.incrementAndGet();
              n++;
            }
            return null;
          }));
        }
        writing.await();
        Map<String, Integer> seen = new HashMap<>();
        String token = "";
        int pages = 0;
        do {
          ListResponse page = Rpc.stub(reader).list(ListRequest.newBuilder().setPageSize(25).setPageToken(token)
              .build());
          for (ConversationSummary s : page.getConversationsList()) {
            seen.merge(s.getThreadId(), 1, Integer::sum);
          }
          token = page.getNextPageToken();
          pages++;
        } while (!token.isEmpty());
        paging.set(false);
        for (Future<?> f : writerTasks) {
          f.get(60, TimeUnit.SECONDS);
        }
        assertThat(seen.entrySet()).as("no conversation listed twice")
            .allSatisfy(e -> assertThat(e.getValue()).as(e.getKey()).isEqualTo(1));
        Set<String> untouched = new HashSet<>();
        for (int i = 0; i < existing; i++) {
          if (!written.contains(thread(i))) {
            untouched.add(thread(i));
          }
        }
        assertThat(untouched).hasSizeGreaterThanOrEqualTo(existing - hot);
        assertThat(seen.keySet()).as("every conversation untouched during the paging is listed")
            .containsAll(untouched);
        assertThat(writes.get()).as("the writers really wrote during the paging").isPositive();
        System.out.printf("PostgresMultiServerIT list paging: servers=3 conversations_before=%d pages=%d listed=%d"
            + " writes_during_paging=%d duplicates=0 untouched_missing=0%n", existing, pages, seen.size(),
            writes.get());
      } finally {
        pool.shutdownNow();
        Rpc.close(reader);
        writers.forEach(Rpc::close);
      }
    }
  }

  private static String thread(int i) {
    return String.format("conv-%04d", i);
  }

}

package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.vmpilot.conversation.server.store.memory.MemoryConversationStore;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.GetResponse;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Gets of a large history and large writes run on a pool of their own, so small Gets never queue behind them; a
 * large read that cannot fit the in-flight budget is refused before it is read.
 */
class LargeReadsTest {
  private final ExecutorService pool = Executors.newFixedThreadPool(2);
  private final ExecutorService clients = Executors.newFixedThreadPool(2);
  private final AtomicInteger handedToPool = new AtomicInteger();
  // The large pool's tasks wait here until the test runs them: what a large pool busy with a flood looks like.
  private final BlockingQueue<Runnable> largeTasks = new LinkedBlockingQueue<>();
  private final InFlightBudget budget = new InFlightBudget(1 << 20);
  private MemoryConversationStore store;
  private Server server;
  private ManagedChannel channel;
  private ConversationServiceBlockingStub stub;

  @BeforeEach
  void start() throws IOException {
    store = new MemoryConversationStore(64 << 20);
    InFlightLimiter limiter = new InFlightLimiter(budget, 4);
    ConversationService service = new ConversationService(store, RequestLimits.DEFAULTS, task -> {
      handedToPool.incrementAndGet();
      pool.execute(task);
    }, WatchSettings.DEFAULTS, new LargeReads(largeTasks::add, limiter, 8, store.readConnections()));
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name)
        .directExecutor()
        .addService(ServerInterceptors.intercept(service.bindService(), limiter.interceptor(),
            new TenantFromHeader()))
        .build()
        .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    stub = TenantFromHeader.as(ConversationServiceGrpc.newBlockingStub(channel), "alice");
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow();
    assertThat(server.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    pool.shutdownNow();
    clients.shutdownNow();
    store.close();
  }

  private ConversationServiceBlockingStub withDeadline() {
    return stub.withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private void runLargeTasks(int n) throws InterruptedException {
    for (int i = 0; i < n; i++) {
      Runnable task = largeTasks.poll(30, TimeUnit.SECONDS);
      assertThat(task).as("a task handed to the large pool").isNotNull();
      task.run();
    }
  }

  private static SaveRequest save(String thread, int bytes) {
    return SaveRequest.newBuilder().setThreadId(thread)
        .addMessages(Message.newBuilder().setJson("{\"s\":\"" + "x".repeat(bytes) + "\"}")).build();
  }

  @Test
  void aSmallGetIsAnsweredWhileLargeReadsWaitForTheirPool() throws Exception {
    withDeadline().save(save("small", 100));
    Future<?> bigSave = clients.submit(() -> withDeadline().save(save("big", 200_000)));
    runLargeTasks(1); // the large Save runs on the large pool, not on the other one
    bigSave.get(30, TimeUnit.SECONDS);
    assertThat(store.historySize(new io.vmpilot.conversation.server.store.ThreadKey("alice", "big"))).isPresent();

    Future<GetResponse> bigGet = clients.submit(() -> withDeadline().get(
        GetRequest.newBuilder().setThreadId("big").build()));
    // The large Get is queued for the large pool (nobody runs it yet): a small Get does not wait for it.
    Runnable queuedBigRead = largeTasks.poll(30, TimeUnit.SECONDS);
    assertThat(queuedBigRead).isNotNull();
    GetResponse small = withDeadline().get(GetRequest.newBuilder().setThreadId("small").build());
    assertThat(small.getConversation().getMessagesCount()).isEqualTo(1);
    assertThat(bigGet).isNotDone();

    queuedBigRead.run();
    assertThat(bigGet.get(30, TimeUnit.SECONDS).getConversation().getMessages(0).getJson()).hasSize(200_008);
    assertThat(budget.refusals()).isZero();
  }

  @Test
  void theNewestMessagesOfALargeConversationAreASmallRead() throws Exception {
    SaveRequest.Builder many = SaveRequest.newBuilder().setThreadId("many");
    for (int i = 0; i < 100; i++) {
      many.addMessages(Message.newBuilder().setJson("{\"s\":\"" + "x".repeat(2_000) + "\"}"));
    }
    Future<?> bigSave = clients.submit(() -> withDeadline().save(many.build()));
    runLargeTasks(1);
    bigSave.get(30, TimeUnit.SECONDS);
    // 200 KB of history, but the newest 10 messages are 20 KB: read on the other pool, the large one not needed.
    GetResponse newest = withDeadline().get(GetRequest.newBuilder().setThreadId("many").setMaxMessages(10).build());
    assertThat(newest.getConversation().getMessagesCount()).isEqualTo(10);
    assertThat(largeTasks).isEmpty();
    assertThat(ConversationService.expectedBytes(store.historySize(
        new io.vmpilot.conversation.server.store.ThreadKey("alice", "many")).orElseThrow(),
        new io.vmpilot.conversation.server.store.MessageWindow(0, 10))).isBetween(20_000L, 21_000L);
  }

  @Test
  void aLargeReadThatDoesNotFitIsRefusedBeforeItIsRead() throws Exception {
    withDeadline().save(save("small", 100));
    Future<?> bigSave = clients.submit(() -> withDeadline().save(save("big", 200_000)));
    runLargeTasks(1);
    bigSave.get(30, TimeUnit.SECONDS);
    // Someone else holds the whole budget.
    assertThat(budget.tryAcquire(1 << 20, 0)).isTrue();

    Future<GetResponse> bigGet = clients.submit(() -> withDeadline().get(
        GetRequest.newBuilder().setThreadId("big").build()));
    runLargeTasks(1); // waits up to RESPONSE_WAIT for room, then gives up
    StatusRuntimeException refused = catchThrowableOfType(() -> unwrap(bigGet), StatusRuntimeException.class);
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    ErrorInfo info = StatusProto.fromThrowable(refused).getDetails(0).unpack(ErrorInfo.class);
    assertThat(info.getReason()).isEqualTo(InFlightLimiter.REASON);
    assertThat(info.getMetadataMap()).containsEntry("in_flight_bytes", Integer.toString(1 << 20))
        .containsKey("response_bytes");
    assertThat(refused.getStatus().getDescription()).contains("more large reads waiting");
    assertSaysWhenToRetry(refused);
    assertThat(budget.refusals()).isEqualTo(1);
    // Small Gets are not refused meanwhile.
    assertThat(withDeadline().get(GetRequest.newBuilder().setThreadId("small").build())
        .getConversation().getMessagesCount()).isEqualTo(1);

    budget.release(1 << 20);
    Future<GetResponse> again = clients.submit(() -> withDeadline().get(
        GetRequest.newBuilder().setThreadId("big").build()));
    runLargeTasks(1);
    assertThat(again.get(30, TimeUnit.SECONDS).getConversation().getMessagesCount()).isEqualTo(1);
  }

  @Test
  void moreLargeReadsThanMayWaitAreRefusedAtOnce() throws Exception {
    Future<?> bigSave = clients.submit(() -> withDeadline().save(save("big", 200_000)));
    runLargeTasks(1);
    bigSave.get(30, TimeUnit.SECONDS);
    ExecutorService many = Executors.newFixedThreadPool(9);
    try {
      java.util.concurrent.CompletionService<GetResponse> gets =
          new java.util.concurrent.ExecutorCompletionService<>(many);
      for (int i = 0; i < 9; i++) {
        gets.submit(() -> withDeadline().get(GetRequest.newBuilder().setThreadId("big").build()));
      }
      // Eight wait for the large pool (maxQueued, which nobody runs here); the ninth is refused without waiting.
      for (int i = 0; i < 8; i++) {
        assertThat(largeTasks.poll(30, TimeUnit.SECONDS)).isNotNull();
      }
      Future<GetResponse> first = gets.poll(30, TimeUnit.SECONDS);
      assertThat(first).isNotNull();
      StatusRuntimeException refused = catchThrowableOfType(() -> unwrap(first), StatusRuntimeException.class);
      assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertSaysWhenToRetry(refused);
      assertThat(budget.refusals()).isEqualTo(1);
      assertThat(largeTasks).isEmpty();
    } finally {
      many.shutdownNow();
    }
  }

  /**
   * A refusal for want of room says when to come back, the same in a RetryInfo detail (for callers that read the
   * details) and in the grpc-retry-pushback-ms trailer (which gRPC's own retry policies wait by).
   */
  static void assertSaysWhenToRetry(StatusRuntimeException refused) throws Exception {
    RetryInfo retry = null;
    for (com.google.protobuf.Any detail : StatusProto.fromThrowable(refused).getDetailsList()) {
      if (detail.is(RetryInfo.class)) {
        retry = detail.unpack(RetryInfo.class);
      }
    }
    assertThat(retry).as("a RetryInfo detail").isNotNull();
    long millis = retry.getRetryDelay().getSeconds() * 1000 + retry.getRetryDelay().getNanos() / 1_000_000;
    assertThat(millis)
        .isBetween(InFlightLimiter.RETRY_DELAY_MIN.toMillis(), InFlightLimiter.RETRY_DELAY_MAX.toMillis());
    assertThat(refused.getTrailers()).isNotNull();
    assertThat(refused.getTrailers().get(ErrorMapper.RETRY_PUSHBACK_MS)).isEqualTo(Long.toString(millis));
  }

  private static GetResponse unwrap(Future<GetResponse> f) throws Exception {
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }
}

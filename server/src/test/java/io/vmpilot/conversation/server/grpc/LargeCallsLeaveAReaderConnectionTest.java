package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.memory.MemoryConversationStore;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.GetResponse;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.SaveResponse;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Large reads and writes leave one of the store's reader connections to the small calls: with two connections, one
 * large call at a time is in the store, and the others wait in {@link LargeReads} rather than in the store's pool,
 * where a small Get would queue behind them.
 */
class LargeCallsLeaveAReaderConnectionTest {
  private static final String BIG = "x".repeat(200_000);
  private final MemoryConversationStore memory = new MemoryConversationStore(64 << 20);
  private final List<Thread> largeThreads = new CopyOnWriteArrayList<>();
  private final ExecutorService largePool = Executors.newFixedThreadPool(3, task -> {
    Thread t = new Thread(task, "grpc-large-test");
    largeThreads.add(t);
    return t;
  });
  private final ExecutorService callPool = Executors.newFixedThreadPool(4);
  private final ExecutorService clients = Executors.newFixedThreadPool(4);
  // Large calls in the store now, the most there were at once, and large Saves that reached it.
  private final AtomicInteger inStore = new AtomicInteger();
  private final AtomicInteger mostInStore = new AtomicInteger();
  private final AtomicInteger largeSaves = new AtomicInteger();
  private final CountDownLatch letLargeReadsFinish = new CountDownLatch(1);
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws InterruptedException {
    letLargeReadsFinish.countDown();
    if (channel != null) {
      channel.shutdownNow();
      server.shutdownNow();
      assertThat(server.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
    largePool.shutdownNow();
    callPool.shutdownNow();
    clients.shutdownNow();
    memory.close();
  }

  /**
   * The memory store, saying it has two reader connections, and holding each large Get of "big" in the store until
   * the test lets it go (a large read taking its time over a connection).
   */
  private ConversationStore twoConnectionStore() {
    return (ConversationStore) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {ConversationStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("readConnections")) {
            return 2;
          }
          boolean largeGet = method.getName().equals("get") && ((ThreadKey) args[0]).threadId().equals("big");
          boolean largeSave = method.getName().equals("saveAsync")
              && ((SaveCommand) args[0]).key().threadId().startsWith("big");
          if (!largeGet && !largeSave) {
            return invoke(method, args);
          }
          mostInStore.accumulateAndGet(inStore.incrementAndGet(), Math::max);
          try {
            if (largeGet) {
              assertThat(letLargeReadsFinish.await(30, TimeUnit.SECONDS)).isTrue();
            } else {
              largeSaves.incrementAndGet();
            }
            return invoke(method, args);
          } finally {
            inStore.decrementAndGet();
          }
        });
  }

  private Object invoke(java.lang.reflect.Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(memory, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private ConversationServiceBlockingStub start(ConversationStore store) throws Exception {
    InFlightLimiter limiter = new InFlightLimiter(new InFlightBudget(64 << 20), 4);
    ConversationService service = new ConversationService(store, RequestLimits.DEFAULTS, callPool,
        WatchSettings.DEFAULTS, new LargeReads(largePool, limiter, 8, store.readConnections()));
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(service.bindService(), limiter.interceptor(),
            new TenantFromHeader()))
        .build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    return TenantFromHeader.as(ConversationServiceGrpc.newBlockingStub(channel), "alice")
        .withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  private static SaveRequest save(String thread, String text) {
    return SaveRequest.newBuilder().setThreadId(thread)
        .addMessages(Message.newBuilder().setJson("{\"s\":\"" + text + "\"}")).build();
  }

  /** Large-pool threads parked on LargeReads' semaphore: waiting for the store, not in it. */
  private long waitingForTheStore() {
    return largeThreads.stream().filter(t -> Arrays.stream(t.getStackTrace())
        .anyMatch(f -> f.getClassName().startsWith("java.util.concurrent.Semaphore"))).count();
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
  }

  @Test
  void oneLargeCallAtATimeIsInAStoreOfTwoConnectionsAndASmallGetIsAnsweredMeanwhile() throws Exception {
    ConversationServiceBlockingStub stub = start(twoConnectionStore());
    stub.save(save("small", "hello"));
    stub.save(save("big", BIG));
    assertThat(largeSaves).hasValue(1);

    Future<GetResponse> first = clients.submit(() -> stub.get(GetRequest.newBuilder().setThreadId("big").build()));
    awaitTrue(() -> inStore.get() == 1);
    Future<GetResponse> second = clients.submit(() -> stub.get(GetRequest.newBuilder().setThreadId("big").build()));
    Future<SaveResponse> bigSave = clients.submit(() -> stub.save(save("big2", BIG)));
    // All three large calls have a thread: one in the store, the other two waiting for it (where they wait is
    // what is asserted; without the rule all three would be in the store).
    awaitTrue(() -> inStore.get() + waitingForTheStore() >= 3 || largeSaves.get() > 1);
    assertThat(inStore).as("large calls in the store").hasValue(1);
    assertThat(waitingForTheStore()).as("large calls waiting for it").isEqualTo(2);
    assertThat(largeSaves).as("the large Save has not reached the store").hasValue(1);

    GetResponse small = stub.get(GetRequest.newBuilder().setThreadId("small").build());
    assertThat(small.getConversation().getMessagesCount()).isEqualTo(1);
    assertThat(first.isDone() || second.isDone()).isFalse();

    letLargeReadsFinish.countDown();
    assertThat(first.get(30, TimeUnit.SECONDS).getConversation().getMessages(0).getJson()).hasSize(200_008);
    assertThat(second.get(30, TimeUnit.SECONDS).getConversation().getMessages(0).getJson()).hasSize(200_008);
    assertThat(bigSave.get(30, TimeUnit.SECONDS).getCreated()).isTrue();
    assertThat(largeSaves).hasValue(2);
    assertThat(mostInStore).as("the most large calls in the store at once").hasValue(1);
  }

  @Test
  void aStoreWithOneConnectionStillServesLargeReads() throws Exception {
    ConversationStore one = (ConversationStore) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {ConversationStore.class},
        (proxy, method, args) -> method.getName().equals("readConnections") ? 1 : invoke(method, args));
    ConversationServiceBlockingStub stub = start(one);
    stub.save(save("big", BIG));
    assertThat(stub.get(GetRequest.newBuilder().setThreadId("big").build()).getConversation().getMessagesCount())
        .isEqualTo(1);
  }
}

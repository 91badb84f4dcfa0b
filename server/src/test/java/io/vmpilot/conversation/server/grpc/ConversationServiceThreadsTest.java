package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.vmpilot.conversation.server.store.memory.MemoryConversationStore;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which thread runs what: the server calls the service on its transport threads (a direct executor); reads and
 * large writes move to the blocking executor, with the call's gRPC context (its tenant) going along.
 */
class ConversationServiceThreadsTest {
  private final ExecutorService pool = Executors.newFixedThreadPool(2);
  private final AtomicInteger handedOver = new AtomicInteger();
  private MemoryConversationStore store;
  private Server server;
  private ManagedChannel channel;
  private ConversationServiceBlockingStub alice;
  private ConversationServiceBlockingStub bob;

  @BeforeEach
  void start() throws IOException {
    store = new MemoryConversationStore(16 << 20);
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name)
        .directExecutor()
        .addService(ServerInterceptors.intercept(new ConversationService(store, RequestLimits.DEFAULTS, task -> {
          handedOver.incrementAndGet();
          pool.execute(task);
        }), new TenantFromHeader()))
        .build()
        .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    ConversationServiceBlockingStub stub = ConversationServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS);
    alice = TenantFromHeader.as(stub, "alice");
    bob = TenantFromHeader.as(stub, "bob");
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow();
    assertThat(server.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    pool.shutdownNow();
    store.close();
  }

  private static Message message(int bytes) {
    return Message.newBuilder().setJson("{\"text\":\"" + "x".repeat(bytes) + "\"}").build();
  }

  @Test
  void smallWritesRunOnTheCallingThread() {
    alice.append(AppendRequest.newBuilder().setThreadId("t").addMessages(message(2_000)).build());
    alice.save(SaveRequest.newBuilder().setThreadId("u").addMessages(message(2_000)).build());

    assertThat(handedOver).hasValue(0);
  }

  @Test
  void readsRunOnTheBlockingExecutorAsTheCallersTenant() {
    alice.append(AppendRequest.newBuilder().setThreadId("t").addMessages(message(10)).build());

    GetRequest get = GetRequest.newBuilder().setThreadId("t").build();
    assertThat(alice.get(get).getConversation().getMessagesCount()).isEqualTo(1);
    StatusRuntimeException notBobs = catchThrowableOfType(StatusRuntimeException.class, () -> bob.get(get));

    assertThat(notBobs.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(handedOver).hasValue(2);
  }

  @Test
  void aLargeWriteIsValidatedOnTheBlockingExecutorAsTheCallersTenant() {
    SaveRequest.Builder large = SaveRequest.newBuilder().setThreadId("big");
    for (int i = 0; i < 40; i++) {
      large.addMessages(message(2_000)); // 80 KB, above NETWORK_THREAD_WRITE_BYTES
    }
    assertThat(large.build().getSerializedSize()).isGreaterThan(ConversationService.NETWORK_THREAD_WRITE_BYTES);

    assertThat(alice.save(large.build()).getCreated()).isTrue();
    assertThat(handedOver).hasValue(1);
    assertThat(bob.save(large.build()).getCreated()).isTrue(); // bob's "big" is another conversation

    assertThat(handedOver).hasValue(2);
  }
}

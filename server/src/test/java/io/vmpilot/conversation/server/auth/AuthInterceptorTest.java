package io.vmpilot.conversation.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.MetadataUtils;
import io.vmpilot.conversation.server.auth.TenantTokens;
import io.vmpilot.conversation.server.grpc.ConversationService;
import io.vmpilot.conversation.server.grpc.RequestLimits;
import io.vmpilot.conversation.server.store.memory.MemoryConversationStore;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The interceptor in front of the real service and health, over the in-process transport. */
class AuthInterceptorTest {
  private Server server;
  private ManagedChannel channel;
  private MemoryConversationStore store;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    store = new MemoryConversationStore(1 << 20);
    HealthStatusManager health = new HealthStatusManager();
    TenantTokens tokens = TenantTokens.parseEnvironment("alice=alice-token,bob=bob-token");
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(new ConversationService(store, RequestLimits.DEFAULTS, Runnable::run)))
        .addService(health.getHealthService())
        .intercept(new AuthInterceptor(tokens))
        .build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
    store.close();
  }

  private ConversationServiceBlockingStub stub(String authorization) {
    ConversationServiceBlockingStub stub = ConversationServiceGrpc.newBlockingStub(channel);
    if (authorization == null) {
      return stub;
    }
    Metadata headers = new Metadata();
    headers.put(AuthInterceptor.AUTHORIZATION, authorization);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private static ErrorInfo errorInfo(StatusRuntimeException e) throws Exception {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    return status.getDetails(0).unpack(ErrorInfo.class);
  }

  private static void assertRefused(Runnable call, String reason) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      try {
        ErrorInfo info = errorInfo(e);
        assertThat(info.getReason()).isEqualTo(reason);
        assertThat(info.getDomain()).isEqualTo("conversation.vmpilot.io");
      } catch (Exception ex) {
        throw new AssertionError(ex);
      }
      assertThat(e.getMessage()).doesNotContain("token-");
    });
  }

  @Test
  void aCallWithoutAUsableHeaderIsUnauthenticated() {
    ListRequest list = ListRequest.getDefaultInstance();
    assertRefused(() -> stub(null).list(list), "UNAUTHENTICATED");
    assertRefused(() -> stub("alice-token").list(list), "UNAUTHENTICATED");
    assertRefused(() -> stub("Basic alice-token").list(list), "UNAUTHENTICATED");
    assertRefused(() -> stub("Bearer ").list(list), "UNAUTHENTICATED");
  }

  @Test
  void anUnknownTokenIsInvalid() {
    assertRefused(() -> stub("Bearer mallory-token").list(ListRequest.getDefaultInstance()), "INVALID_TOKEN");
    assertRefused(() -> stub("Bearer alice-token2").get(GetRequest.newBuilder().setThreadId("t").build()),
        "INVALID_TOKEN");
    assertThat(store.stats().conversations()).isZero();
  }

  @Test
  void healthNeedsNoToken() {
    assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void eachTokenActsForItsTenantOnly() {
    ConversationServiceBlockingStub alice = stub("Bearer alice-token");
    ConversationServiceBlockingStub bob = stub("bearer   bob-token");
    alice.save(SaveRequest.newBuilder().setThreadId("shared")
        .addMessages(Message.newBuilder().setJson("{\"who\":\"alice\"}")).build());

    assertThatThrownBy(() -> bob.get(GetRequest.newBuilder().setThreadId("shared").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    assertThat(bob.list(ListRequest.getDefaultInstance()).getConversationsList()).isEmpty();
    assertThat(bob.clear(ClearRequest.newBuilder().setThreadId("shared").build()).getDeleted()).isFalse();

    assertThat(alice.get(GetRequest.newBuilder().setThreadId("shared").build()).getConversation()
        .getMessagesList()).extracting(Message::getJson).isEqualTo(List.of("{\"who\":\"alice\"}"));
    assertThat(alice.list(ListRequest.getDefaultInstance()).getConversationsList()).hasSize(1);
  }
}

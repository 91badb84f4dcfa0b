package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.GetResponse;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * At a full heap any allocation may fail, also on the thread that hands a call to the service (the memory backend
 * with ~1 GB stored answered a Get with {@code UNKNOWN: Application error processing RPC}, grpc-java's answer to a
 * listener that throws): such a call gets RESOURCE_EXHAUSTED with reason OUT_OF_MEMORY, as the service's own
 * error mapping gives.
 */
class OutOfMemoryInCallTest {
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws IOException {
    ConversationServiceGrpc.ConversationServiceImplBase failing = new ConversationServiceGrpc.ConversationServiceImplBase() {
      @Override
      public void get(GetRequest request, StreamObserver<GetResponse> response) {
        throw new OutOfMemoryError("Java heap space");
      }
    };
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(UnparseableRequests.rejectAsInvalidArgument(failing.bindService()))
        .build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow();
    assertThat(server.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void anOutOfMemoryErrorWhileTheServiceTakesTheCallIsResourceExhausted() {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () ->
        ConversationServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
            .get(GetRequest.newBuilder().setThreadId("t").build()));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    assertThat(details).isNotNull();
    assertThat(details.getDetailsList()).anySatisfy(any -> {
      assertThat(any.is(ErrorInfo.class)).isTrue();
      assertThat(any.unpack(ErrorInfo.class).getReason()).isEqualTo("OUT_OF_MEMORY");
    });
  }
}

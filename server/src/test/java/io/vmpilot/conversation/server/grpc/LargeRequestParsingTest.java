package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.ErrorInfo;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.vmpilot.conversation.server.store.memory.MemoryConversationStore;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Over the Netty transport, as the server runs (a direct executor): a request over 64 KiB, or a compressed one of any
 * size, is parsed, and its call served, on the large calls' pool, with the call's context (its tenant); a small
 * uncompressed one stays on the network thread.
 */
class LargeRequestParsingTest {
  private final ExecutorService large = Executors.newFixedThreadPool(2, r -> new Thread(r, "large-parse"));
  private final ExecutorService blocking = Executors.newFixedThreadPool(2);
  // The thread each RPC's request reached the service on, by the thread id of the request.
  private final Map<String, String> servedOn = new ConcurrentHashMap<>();
  private MemoryConversationStore store;
  private Server server;
  private ManagedChannel channel;
  private ConversationServiceBlockingStub alice;
  private ConversationServiceBlockingStub bob;

  @BeforeEach
  void start() throws IOException {
    store = new MemoryConversationStore(256 << 20);
    ServerInterceptor recordThread = new ServerInterceptor() {
      @Override
      public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
          ServerCallHandler<ReqT, RespT> next) {
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
          @Override
          public void onMessage(ReqT message) {
            String thread = message instanceof SaveRequest s ? s.getThreadId()
                : message instanceof AppendRequest a ? a.getThreadId() : "other";
            servedOn.put(thread, Thread.currentThread().getName());
            super.onMessage(message);
          }
        };
      }
    };
    ConversationService service = new ConversationService(store, RequestLimits.DEFAULTS, blocking);
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .directExecutor()
        .callExecutor(UnparseableRequests.compressedCallsOn(large))
        .addService(ServerInterceptors.intercept(UnparseableRequests.rejectAsInvalidArgument(
            ServerInterceptors.intercept(service.bindService(), recordThread), large), new TenantFromHeader()))
        .build()
        .start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
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
    large.shutdownNow();
    blocking.shutdownNow();
    store.close();
  }

  private static Message message(int bytes) {
    return Message.newBuilder().setJson("{\"text\":\"" + "x".repeat(bytes) + "\"}").build();
  }

  @Test
  void aLargeRequestIsParsedOnTheLargePoolAsTheCallersTenant() {
    SaveRequest.Builder big = SaveRequest.newBuilder().setThreadId("big");
    for (int i = 0; i < 40; i++) {
      big.addMessages(message(2_000)); // 80 KB, above LARGE_MESSAGE_BYTES
    }
    assertThat(big.build().getSerializedSize()).isGreaterThan(InFlightBudget.LARGE_MESSAGE_BYTES);

    assertThat(alice.save(big.build()).getCreated()).isTrue();
    alice.append(AppendRequest.newBuilder().setThreadId("small").addMessages(message(100)).build());

    assertThat(servedOn.get("big")).isEqualTo("large-parse");
    assertThat(servedOn.get("small")).startsWith("grpc-");
    GetRequest get = GetRequest.newBuilder().setThreadId("big").build();
    assertThat(alice.get(get).getConversation().getMessagesCount()).isEqualTo(40);
    StatusRuntimeException notBobs = catchThrowableOfType(StatusRuntimeException.class, () -> bob.get(get));
    assertThat(notBobs.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void aCompressedRequestIsParsedOnTheLargePoolHoweverSmallOnTheWire() {
    // Inflates to over 64 KiB from a frame of a few hundred bytes, far under the size that moves a call.
    SaveRequest bomb = SaveRequest.newBuilder().setThreadId("gzip").addMessages(message(200_000)).build();
    assertThat(gzipped(bomb.toByteArray())).isLessThan(InFlightBudget.LARGE_MESSAGE_BYTES / 64);

    assertThat(alice.withCompression("gzip").save(bomb).getCreated()).isTrue();
    alice.withCompression("gzip").append(AppendRequest.newBuilder().setThreadId("small-gzip")
        .addMessages(message(100)).build());
    alice.append(AppendRequest.newBuilder().setThreadId("small").addMessages(message(100)).build());

    assertThat(servedOn.get("gzip")).isEqualTo("large-parse");
    assertThat(servedOn.get("small-gzip")).isEqualTo("large-parse");
    assertThat(servedOn.get("small")).startsWith("grpc-");
    GetRequest get = GetRequest.newBuilder().setThreadId("gzip").build();
    assertThat(alice.get(get).getConversation().getMessages(0).getJson())
        .hasSizeGreaterThan(InFlightBudget.LARGE_MESSAGE_BYTES);
    StatusRuntimeException notBobs = catchThrowableOfType(StatusRuntimeException.class, () -> bob.get(get));
    assertThat(notBobs.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void aCompressedRequestOverTheLimitOnceInflatedGetsResourceExhausted() throws Exception {
    // The server's default inbound limit is 4 MiB; this inflates to 5 MiB from a frame of a few KB.
    SaveRequest bomb = SaveRequest.newBuilder().setThreadId("gzip-bomb").addMessages(message(5 << 20)).build();
    assertThat(gzipped(bomb.toByteArray())).isLessThan(InFlightBudget.LARGE_MESSAGE_BYTES);

    StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class,
        () -> alice.withCompression("gzip").save(bomb));

    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    ErrorInfo info = StatusProto.fromThrowable(refused).getDetails(0).unpack(ErrorInfo.class);
    assertThat(info.getReason()).isEqualTo("REQUEST_TOO_LARGE");
    assertThat(servedOn).doesNotContainKey("gzip-bomb");
    // The connection, and its network thread, still serve.
    alice.append(AppendRequest.newBuilder().setThreadId("small").addMessages(message(100)).build());
    assertThat(servedOn.get("small")).startsWith("grpc-");
  }

  private static int gzipped(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(bytes);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.size();
  }

  @Test
  void aLargeRequestThatIsNotProtobufGetsInvalidArgument() {
    MethodDescriptor<byte[], byte[]> rawSave = ConversationServiceGrpc.getSaveMethod().toBuilder(
        new Bytes(), new Bytes()).build();
    byte[] garbage = new byte[100_000];
    java.util.Arrays.fill(garbage, (byte) 0xff);

    StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(channel, rawSave,
            io.grpc.CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), garbage));

    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(refused.getStatus().getDescription()).contains("not a valid protobuf message");
  }

  private static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}

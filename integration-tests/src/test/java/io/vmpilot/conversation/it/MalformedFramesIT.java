package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A compressed request over the size limit, and requests that are not well-formed gRPC sent over a raw HTTP/2
 * connection: each gets the status docs/guarantees.md names for it (the framing errors are answered by grpc-java
 * itself, before any code of the server runs), and the server keeps serving.
 */
class MalformedFramesIT {
  private static final int MAX_INBOUND = 64 * 1024;
  private static final byte[] GET = GetRequest.newBuilder().setThreadId("t").build().toByteArray();

  @Test
  void compressedRequestOverTheLimitGetsResourceExhaustedAsAnUncompressedOneDoes() throws Exception {
    try (ServerProcess server = start()) {
      ManagedChannel channel = Rpc.channel(server.target());
      try {
        // Compresses to a few hundred bytes, far under the limit; four times the limit once decompressed.
        SaveRequest big = SaveRequest.newBuilder().setThreadId("gzip").addMessages(Message.newBuilder()
            .setJson("{\"s\":\"" + "x".repeat(4 * MAX_INBOUND) + "\"}")).build();
        Throwable plain = catchThrowable(() -> Rpc.stub(channel).save(big));
        Throwable gzip = catchThrowable(() -> Rpc.stub(channel).withCompression("gzip").save(big));
        System.out.println("uncompressed: " + Status.fromThrowable(plain));
        System.out.println("gzip: " + Status.fromThrowable(gzip) + " " + Rpc.errorInfo(gzip));
        assertThat(Rpc.code(plain)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(Rpc.code(gzip)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(Rpc.errorInfo(gzip)).map(ErrorInfo::getReason).contains("REQUEST_TOO_LARGE");
        // Under the limit, compressed requests are served.
        SaveRequest small = SaveRequest.newBuilder().setThreadId("gzip").addMessages(Message.newBuilder()
            .setJson("{\"s\":\"" + "x".repeat(MAX_INBOUND / 2) + "\"}")).build();
        assertThat(Rpc.stub(channel).withCompression("gzip").save(small).getMessageCount()).isEqualTo(1);
      } finally {
        Rpc.close(channel);
      }
    }
  }

  @Test
  void malformedFramesGetTheDocumentedStatus() throws Exception {
    try (ServerProcess server = start(); RawHttp2 h2 = RawHttp2.connect(server.port())) {
      Map<String, String> grpc = h2.grpcHeaders("Get");
      // Answered by grpc-java's deframer, before the server's code sees the call.
      assertStatus(call(h2, grpc, RawHttp2.grpcFrame(false, 1000, GET)), "13", "end-of-stream mid-frame");
      assertStatus(call(h2, grpc, new byte[] {0, 0}), "13", "end-of-stream mid-frame");
      assertStatus(call(h2, grpc, RawHttp2.grpcFrame(false, 10 << 20, GET)), "8", "exceeds maximum size");
      assertStatus(call(h2, grpc, RawHttp2.grpcFrame(true, GET.length, GET)), "13", "compression not configured");
      assertStatus(call(h2, with(grpc, "grpc-encoding", "br"), RawHttp2.grpcFrame(true, GET.length, GET)), "12",
          "decompressor for br");
      RawHttp2.Outcome contentType =
          call(h2, with(grpc, "content-type", "text/plain"), RawHttp2.grpcFrame(false, GET.length, GET));
      assertThat(contentType.headers()).containsEntry(":status", "415");
      assertStatus(contentType, "13", "not supported");
      // A grpc-timeout that is not a number: Netty resets the stream (RST_STREAM, INTERNAL_ERROR).
      RawHttp2.Outcome timeout =
          call(h2, with(grpc, "grpc-timeout", "garbage"), RawHttp2.grpcFrame(false, GET.length, GET));
      assertThat(timeout.resetCode()).isEqualTo(2);
      // Answered by the server: a body that is not the request message, or not in the encoding it claims.
      assertStatus(call(h2, grpc, RawHttp2.grpcFrame(false, 3, new byte[] {-1, -1, -1})), "3", "not a valid protobuf");
      assertStatus(call(h2, with(grpc, "grpc-encoding", "gzip"), RawHttp2.grpcFrame(true, GET.length, GET)), "3",
          "not a valid protobuf");
      // The same connection still serves a well-formed call (NOT_FOUND: no such conversation).
      assertStatus(call(h2, grpc, RawHttp2.grpcFrame(false, GET.length, GET)), "5", "");
      ManagedChannel channel = Rpc.channel(server.target());
      try {
        assertThat(Rpc.health(channel)).isEqualTo(ServingStatus.SERVING);
      } finally {
        Rpc.close(channel);
      }
    }
  }

  private static ServerProcess start() throws IOException {
    return ServerProcess.launch(List.of(), Rpc.FAST_START_JVM, List.of("--database-enabled", "false",
        "--max-inbound-message-bytes", Integer.toString(MAX_INBOUND)), null, Map.of());
  }

  private static RawHttp2.Outcome call(RawHttp2 h2, Map<String, String> headers, byte[] body) throws IOException {
    int stream = h2.headers(headers, false);
    h2.data(stream, body, true);
    RawHttp2.Outcome outcome = h2.awaitEnd(stream);
    System.out.println(headers.getOrDefault("grpc-encoding", "") + " " + headers.get("content-type") + " "
        + body.length + " bytes -> " + outcome.headers().get("grpc-status") + " "
        + outcome.headers().get("grpc-message") + (outcome.resetCode() == null ? "" : " RST " + outcome.resetCode()));
    return outcome;
  }

  private static void assertStatus(RawHttp2.Outcome outcome, String code, String messagePart) {
    assertThat(outcome.connectionClosed()).isFalse();
    assertThat(outcome.grpcStatus()).isEqualTo(code);
    assertThat(outcome.headers().getOrDefault("grpc-message", "")).contains(messagePart);
  }

  private static Map<String, String> with(Map<String, String> headers, String name, String value) {
    Map<String, String> copy = new LinkedHashMap<>(headers);
    copy.put(name, value);
    return copy;
  }
}

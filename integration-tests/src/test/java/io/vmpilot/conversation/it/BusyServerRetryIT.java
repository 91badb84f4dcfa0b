package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientStreamTracer;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Get the server has no room for now (its in-flight budget held by a reader that does not read) is refused with
 * RESOURCE_EXHAUSTED, reason IN_FLIGHT_LIMIT, saying when to come back (a RetryInfo detail and the
 * grpc-retry-pushback-ms trailer); the Java client waits that long and asks again, so its Get succeeds once the
 * room is back instead of failing. Over the real server process, a raw HTTP/2 connection as the stalled reader.
 * A refusal that asking again cannot change says so (a pushback of -1), so that a retry policy naming
 * RESOURCE_EXHAUSTED, as other languages' clients may list it to wait out the busy refusals, does not repeat it.
 */
class BusyServerRetryIT {
  private static final int BIG_CHARS = 3_000_000;
  private static final Metadata.Key<String> PUSHBACK =
      Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER);

  @TempDir
  Path dir;

  @Test
  void aGetRefusedForWantOfRoomSaysWhenToRetryAndTheClientsRetrySucceedsOnceThereIsRoom() throws Exception {
    // A 4 MiB budget: one 3 MB answer fits, two do not.
    try (ServerProcess server = Rpc.startSqlite(dir.resolve("busy.db"), "--max-in-flight-bytes",
        Integer.toString(4 << 20), "--metrics-enabled", "true", "--metrics-port", "0");
        ConversationClient client = ConversationClient.builder(server.target()).deadline(Duration.ofSeconds(60))
            .build()) {
      client.save("big", List.of("{\"s\":\"" + "x".repeat(BIG_CHARS) + "\"}"));

      // Asks for it and never reads: the answer stays counted in the budget until the connection closes.
      RawHttp2 stalled = RawHttp2.connect(server.port());
      byte[] body = GetRequest.newBuilder().setThreadId("big").build().toByteArray();
      stalled.data(stalled.headers(stalled.grpcHeaders("Get"), false), RawHttp2.grpcFrame(false, body.length, body),
          true);
      awaitMetricAtLeast(server, "conversation_in_flight_bytes", BIG_CHARS);

      ManagedChannel once = Rpc.channel(server.target()); // no retries: the refusal itself
      try {
        StatusRuntimeException refused = catchThrowableOfType(
            () -> Rpc.stub(once).get(GetRequest.newBuilder().setThreadId("big").build()),
            StatusRuntimeException.class);
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(Rpc.errorInfo(refused)).hasValueSatisfying(i -> assertThat(i.getReason())
            .isEqualTo("IN_FLIGHT_LIMIT"));
        RetryInfo retry = null;
        for (Any detail : StatusProto.fromThrowable(refused).getDetailsList()) {
          if (detail.is(RetryInfo.class)) {
            retry = detail.unpack(RetryInfo.class);
          }
        }
        assertThat(retry).as("a RetryInfo detail").isNotNull();
        long millis = retry.getRetryDelay().getSeconds() * 1000 + retry.getRetryDelay().getNanos() / 1_000_000;
        assertThat(millis).isBetween(500L, 1500L);
        assertThat(refused.getTrailers().get(PUSHBACK)).isEqualTo(Long.toString(millis));
      } finally {
        Rpc.close(once);
      }
      double refusalsBefore = metric(server, "conversation_in_flight_refusals_total");

      CompletableFuture<Optional<Conversation>> get = CompletableFuture.supplyAsync(() -> client.get("big"));
      // The client's first attempt is refused too (the stalled reader still holds the room)...
      awaitMetricAtLeast(server, "conversation_in_flight_refusals_total", refusalsBefore + 1);
      assertThat(get).isNotDone();
      // ...and once the reader is gone, the client's next attempt gets the whole answer.
      stalled.close();
      Optional<Conversation> got = get.get(60, TimeUnit.SECONDS);
      assertThat(got).hasValueSatisfying(c -> assertThat(c.getMessages(0).getJson()).hasSize(BIG_CHARS + 8));
    }
  }

  @Test
  void aRefusalThatAskingAgainCannotChangeIsNotRetriedEvenByAPolicyThatNamesResourceExhausted() throws Exception {
    try (ServerProcess server = Rpc.startSqlite(dir.resolve("final.db"), "--max-history-bytes", "1000")) {
      AtomicInteger attempts = new AtomicInteger();
      ManagedChannel retrying = ManagedChannelBuilder.forTarget(server.target()).usePlaintext()
          .defaultServiceConfig(Map.of("methodConfig", List.of(Map.of(
              "name", List.of(Map.of("service", "vmpilot.conversation.v1.ConversationService")),
              "retryPolicy", Map.of("maxAttempts", 5.0, "initialBackoff", "0.01s", "maxBackoff", "0.01s",
                  "backoffMultiplier", 1.0, "retryableStatusCodes", List.of("RESOURCE_EXHAUSTED"))))))
          .enableRetry()
          .intercept(countingAttempts(attempts))
          .build();
      try {
        SaveRequest tooLong = SaveRequest.newBuilder().setThreadId("long")
            .addMessages(Message.newBuilder().setJson("{\"s\":\"" + "x".repeat(2000) + "\"}")).build();
        StatusRuntimeException refused = catchThrowableOfType(() -> Rpc.stub(retrying).save(tooLong),
            StatusRuntimeException.class);
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(Rpc.errorInfo(refused)).hasValueSatisfying(i -> assertThat(i.getReason())
            .isEqualTo("HISTORY_TOO_LARGE"));
        assertThat(refused.getTrailers().get(PUSHBACK)).isEqualTo("-1");
        assertThat(attempts.get()).as("attempts the client made").isEqualTo(1);
      } finally {
        Rpc.close(retrying);
      }
    }
  }

  /** Counts the client's attempts: every attempt, retries included, is a stream of its own. */
  private static ClientInterceptor countingAttempts(AtomicInteger attempts) {
    ClientStreamTracer.Factory tracers = new ClientStreamTracer.Factory() {
      @Override
      public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
        attempts.incrementAndGet();
        return new ClientStreamTracer() {};
      }
    };
    return new ClientInterceptor() {
      @Override
      public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
          CallOptions options, Channel next) {
        return next.newCall(method, options.withStreamTracerFactory(tracers));
      }
    };
  }

  private static final Pattern SAMPLE = Pattern.compile("(?m)^(\\w+)(?:\\{[^}]*})? (\\S+)$");

  private static double metric(ServerProcess server, String name) throws Exception {
    String scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.metricsUrl()))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    Matcher m = SAMPLE.matcher(scrape);
    while (m.find()) {
      if (m.group(1).equals(name)) {
        return Double.parseDouble(m.group(2));
      }
    }
    throw new AssertionError(name + " not in the server's metrics:\n" + scrape);
  }

  /** Polls the server's metric until it reaches {@code atLeast} (bounded). */
  private static void awaitMetricAtLeast(ServerProcess server, String name, double atLeast) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    double value = metric(server, name);
    while (value < atLeast && System.nanoTime() < deadline) {
      Thread.sleep(20); // a poll interval: the loop checks the metric itself
      value = metric(server, name);
    }
    assertThat(value).as(name).isGreaterThanOrEqualTo(atLeast);
  }
}

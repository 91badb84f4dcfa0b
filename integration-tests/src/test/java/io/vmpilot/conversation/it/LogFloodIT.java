package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.vmpilot.conversation.v1.GetRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Unauthenticated malformed requests cannot flood the log: grpc-java's warnings about them (a stack trace each)
 * are condensed to one line, rate-limited, and counted in a metric.
 */
class LogFloodIT {
  private static final int CONNECTIONS = 4;
  private static final int PER_CONNECTION = 500;

  @Test
  void malformedRequestsLeaveTheLogSmallAndAreCounted() throws Exception {
    try (ServerProcess server = ServerProcess.launch(List.of(), Rpc.FAST_START_JVM, List.of("--database-enabled",
        "false", "--auth-enabled", "true", "--metrics-enabled", "true", "--metrics-port", "0"), null,
        Map.of("VMPILOT_AUTH_TOKENS", "alice=a-token-of-alice"))) {
      int logBefore = server.output().getBytes(StandardCharsets.UTF_8).length;
      byte[] get = RawHttp2.grpcFrame(false, 0, new byte[0]);
      ExecutorService pool = Executors.newFixedThreadPool(CONNECTIONS);
      long started = System.nanoTime();
      try {
        List<Future<Integer>> sent = new ArrayList<>();
        for (int c = 0; c < CONNECTIONS; c++) {
          sent.add(pool.submit(() -> {
            int answered = 0;
            try (RawHttp2 h2 = RawHttp2.connect(server.port())) {
              Map<String, String> headers = new LinkedHashMap<>(h2.grpcHeaders("Get"));
              for (int i = 0; i < PER_CONNECTION; i++) {
                // Half with a garbage timeout (before authentication), half ending mid-frame (after it fails).
                int stream;
                if (i % 2 == 0) {
                  headers.put("grpc-timeout", "garbage" + i);
                  stream = h2.headers(headers, true);
                } else {
                  headers.remove("grpc-timeout");
                  stream = h2.headers(headers, false);
                  h2.data(stream, RawHttp2.grpcFrame(false, 100, new byte[3]), true);
                }
                RawHttp2.Outcome outcome = h2.awaitEnd(stream);
                if (!outcome.connectionClosed()) {
                  answered++;
                }
              }
            }
            return answered;
          }));
        }
        int answered = 0;
        for (Future<Integer> f : sent) {
          answered += f.get();
        }
        assertThat(answered).isEqualTo(CONNECTIONS * PER_CONNECTION);
      } finally {
        pool.shutdownNow();
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      ManagedChannel channel = Rpc.channel(server.target());
      try {
        assertThat(Rpc.health(channel)).isEqualTo(ServingStatus.SERVING);
      } finally {
        Rpc.close(channel);
      }
      String scrape = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(server.metricsUrl())).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      Matcher counted = Pattern.compile("(?m)^conversation_transport_warnings_total(?:\\{[^}]*})? (\\S+)$")
          .matcher(scrape);
      long log = server.output().getBytes(StandardCharsets.UTF_8).length - logBefore;
      int requests = CONNECTIONS * PER_CONNECTION;
      System.out.printf("log flood: %d malformed requests in %.1f s, %d bytes of log (%.1f per request)%n",
          requests, seconds, log, (double) log / requests);
      System.out.println("the server's log:\n" + server.output());
      assertThat(counted.find()).as("the warnings metric in:\n" + scrape).isTrue();
      System.out.println("conversation_transport_warnings_total " + counted.group(1));
      assertThat(Double.parseDouble(counted.group(1))).isGreaterThanOrEqualTo(requests);
      assertThat(log).as("log written:\n" + server.output()).isLessThan(20_000);
      assertThat(server.output()).doesNotContain("\tat io.grpc");
    }
  }
}

package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Prometheus endpoint, scraped as Prometheus would: per-RPC counts, errors by code, latency, store size, the
 * connection pool, the JVM and the process.
 */
class MetricsIT {
  @TempDir
  Path dir;

  @Test
  void metricsAreOffByDefault() throws Exception {
    try (ServerProcess server = ServerProcess.startSqlite(dir.resolve("off.db"))) {
      assertThat(server.metricsUrl()).isNull();
    }
  }

  /**
   * The endpoint asks for no token and shows every tenant's totals, so it listens on loopback even when the API
   * listens on every interface; an operator who wants it elsewhere says so with --metrics-bind.
   */
  @Test
  void theEndpointListensOnLoopbackEvenWhenTheApiListensEverywhere() throws Exception {
    InetAddress external = nonLoopbackAddress();
    Assumptions.assumeTrue(external != null, "this machine has no non-loopback IPv4 address");
    try (ServerProcess server = ServerProcess.startSqlite(dir.resolve("loopback.db"), "--bind", "0.0.0.0",
        "--metrics-enabled", "true", "--metrics-port", "0")) {
      assertThat(server.metricsUrl()).startsWith("http://127.0.0.1:");
      int metricsPort = URI.create(server.metricsUrl()).getPort();
      assertThat(scrape(URI.create(server.metricsUrl()))).contains("conversation_store_conversations");
      // The API is reachable on the other address, the metrics port is not.
      try (ConversationClient client = ConversationClient.connect(external.getHostAddress() + ":" + server.port())) {
        assertThat(client.get("nothing")).isEmpty();
      }
      assertThatThrownBy(() -> scrape(URI.create("http://" + external.getHostAddress() + ":" + metricsPort
          + "/metrics"))).isInstanceOf(ConnectException.class);
    }
    try (ServerProcess server = ServerProcess.startSqlite(dir.resolve("everywhere.db"), "--metrics-enabled", "true",
        "--metrics-port", "0", "--metrics-bind", "0.0.0.0")) {
      int metricsPort = URI.create(server.metricsUrl()).getPort();
      assertThat(scrape(URI.create("http://" + external.getHostAddress() + ":" + metricsPort + "/metrics")))
          .contains("conversation_store_conversations");
    }
  }

  private static String scrape(URI uri) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private static InetAddress nonLoopbackAddress() throws Exception {
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(nic.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
          return a;
        }
      }
    }
    return null;
  }

  @Test
  void aScrapeShowsCallsErrorsLatencyAndStoreSize() throws Exception {
    try (ServerProcess server = ServerProcess.startSqlite(dir.resolve("metrics.db"),
        "--metrics-enabled", "true", "--metrics-port", "0");
        ConversationClient client = ConversationClient.connect(server.target())) {
      assertThat(server.metricsUrl()).startsWith("http://127.0.0.1:").endsWith("/metrics");
      client.save("a", List.of("{\"n\":1}", "{\"n\":2}"));
      client.append("b", List.of("{\"n\":3}"));
      client.get("a");
      assertThat(client.get("missing")).isEmpty();
      try {
        client.save("", List.of("{}"));
      } catch (ConversationStoreException expected) {
        assertThat(expected.reason()).isEqualTo("INVALID_ARGUMENT");
      }

      String scrape = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(server.metricsUrl())).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString()).body();

      assertThat(value(scrape, "grpc_server_processing_duration_seconds_count",
          "method=\"Save\"", "statusCode=\"OK\"")).isEqualTo(1);
      assertThat(value(scrape, "grpc_server_processing_duration_seconds_count",
          "method=\"Save\"", "statusCode=\"INVALID_ARGUMENT\"")).isEqualTo(1);
      assertThat(value(scrape, "grpc_server_processing_duration_seconds_count",
          "method=\"Get\"", "statusCode=\"NOT_FOUND\"")).isEqualTo(1);
      assertThat(scrape).contains("grpc_server_processing_duration_seconds_bucket{");
      assertThat(value(scrape, "conversation_store_conversations")).isEqualTo(2);
      assertThat(value(scrape, "conversation_store_messages")).isEqualTo(3);
      assertThat(value(scrape, "conversation_store_history_bytes")).isEqualTo(21);
      assertThat(value(scrape, "conversation_store_writes_total")).isEqualTo(2);
      assertThat(value(scrape, "conversation_store_syncs_total")).isBetween(1.0, 2.0);
      // Beyond RPCs and the store: the readers' pool, the JVM, the process.
      assertThat(value(scrape, "hikaricp_connections_acquire_seconds_count", "pool=\"sqlite-readers\""))
          .isGreaterThanOrEqualTo(2);
      assertThat(value(scrape, "hikaricp_connections_max", "pool=\"sqlite-readers\"")).isEqualTo(4);
      assertThat(scrape).contains("jvm_gc_memory_allocated_bytes_total", "jvm_memory_used_bytes{",
          "jvm_threads_live_threads", "jvm_classes_loaded_classes", "process_cpu_usage", "process_uptime_seconds",
          "process_files_open_files");
    }
  }

  private static double value(String scrape, String name, String... labels) {
    return PrometheusScrape.value(scrape, name, labels);
  }

}

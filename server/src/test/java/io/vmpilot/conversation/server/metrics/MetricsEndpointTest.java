package io.vmpilot.conversation.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.memory.MemoryConversationStore;
import io.vmpilot.conversation.server.store.postgres.PostgresConversationStore;
import io.vmpilot.conversation.server.store.postgres.PostgresSettings;
import io.vmpilot.conversation.server.store.sqlite.Durability;
import io.vmpilot.conversation.server.store.sqlite.SqliteConversationStore;
import io.vmpilot.conversation.server.store.sqlite.SqliteSettings;
import io.vmpilot.conversation.testing.postgres.ThrowawayPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The families beyond RPCs and the store's size: the JVM, the process, and each backend's connection pools. */
class MetricsEndpointTest {
  // Held: java.util.logging keeps loggers weakly, and a level set on a collected one is lost.
  private static final List<Logger> QUIETED = List.of(Logger.getLogger("com.zaxxer.hikari"),
      Logger.getLogger("org.flywaydb"));

  @TempDir
  Path dir;

  @Test
  void theJvmAndTheProcessAreReported() throws Exception {
    try (ConversationStore store = new MemoryConversationStore(1 << 20, 100)) {
      MetricsEndpoint metrics = MetricsEndpoint.start("127.0.0.1", 0, store);
      try {
        String scrape = scrape(metrics);
        assertThat(scrape).contains("jvm_gc_memory_allocated_bytes_total", "jvm_gc_live_data_size_bytes",
            "jvm_memory_used_bytes{", "jvm_threads_live_threads", "jvm_threads_states_threads{",
            "jvm_classes_loaded_classes", "process_cpu_usage", "system_cpu_count", "process_uptime_seconds",
            "process_start_time_seconds", "process_files_open_files", "process_files_max_files");
        assertThat(value(scrape, "jvm_threads_live_threads")).isPositive();
        assertThat(value(scrape, "process_files_open_files")).isPositive();
        assertThat(value(scrape, "system_cpu_count")).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(scrape).as("the memory store has no pool").doesNotContain("hikaricp_");
      } finally {
        metrics.close();
      }
    }
  }

  @Test
  void theSqliteReadersPoolIsReported() throws Exception {
    QUIETED.forEach(logger -> logger.setLevel(Level.WARNING));
    try (ConversationStore store = SqliteConversationStore.open(
        new SqliteSettings(dir.resolve("pool.db"), Durability.FULL, 5000, 3, 256, 1 << 20))) {
      MetricsEndpoint metrics = MetricsEndpoint.start("127.0.0.1", 0, store);
      try {
        assertThat(store.get(ThreadKey.of("none"), MessageWindow.ALL)).isEmpty();
        String scrape = scrape(metrics);
        assertThat(value(scrape, "hikaricp_connections_max", "pool=\"sqlite-readers\"")).isEqualTo(3);
        assertThat(value(scrape, "hikaricp_connections", "pool=\"sqlite-readers\"")).isPositive();
        assertThat(value(scrape, "hikaricp_connections_acquire_seconds_count", "pool=\"sqlite-readers\""))
            .isGreaterThanOrEqualTo(1);
        assertThat(scrape).contains("hikaricp_connections_active{", "hikaricp_connections_idle{",
            "hikaricp_connections_pending{", "hikaricp_connections_usage_seconds_count{");
      } finally {
        metrics.close();
      }
    }
  }

  @Test
  void bothPostgresPoolsAreReported() throws Exception {
    QUIETED.forEach(logger -> logger.setLevel(Level.WARNING));
    try (ThrowawayPostgres postgres = ThrowawayPostgres.launch()) {
      postgres.createDatabase("metrics");
      try (ConversationStore store = PostgresConversationStore.open(new PostgresSettings(postgres.url("metrics"),
          Optional.empty(), Optional.empty(), 2, Duration.ofSeconds(5), Duration.ofSeconds(30), 1 << 20, 100))) {
        MetricsEndpoint metrics = MetricsEndpoint.start("127.0.0.1", 0, store);
        try {
          String scrape = scrape(metrics);
          assertThat(value(scrape, "hikaricp_connections_max", "pool=\"postgres-writers\"")).isEqualTo(2);
          assertThat(value(scrape, "hikaricp_connections_max", "pool=\"postgres-readers\"")).isEqualTo(2);
          assertThat(value(scrape, "hikaricp_connections", "pool=\"postgres-writers\"")).isPositive();
        } finally {
          metrics.close();
        }
      }
    }
  }

  private static String scrape(MetricsEndpoint metrics) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.port() + "/metrics"))
            .timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  /** The value of the first sample of {@code name} whose labels contain every one of {@code labels}. */
  private static double value(String scrape, String name, String... labels) {
    Pattern line = Pattern.compile("^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$", Pattern.MULTILINE);
    Matcher m = line.matcher(scrape);
    while (m.find()) {
      String found = m.group(1) == null ? "" : m.group(1);
      if (List.of(labels).stream().allMatch(found::contains)) {
        return Double.parseDouble(m.group(2));
      }
    }
    throw new AssertionError("no sample " + name + " with " + List.of(labels) + " in:\n" + scrape);
  }
}

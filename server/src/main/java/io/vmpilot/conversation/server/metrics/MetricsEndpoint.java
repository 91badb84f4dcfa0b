package io.vmpilot.conversation.server.metrics;

import com.sun.net.httpserver.HttpServer;
import io.grpc.ServerInterceptor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.StoreStats;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A Prometheus endpoint ({@code GET /metrics}) on a port of its own: per-RPC call counts and latency histograms
 * by status code (Micrometer's gRPC interceptor), the store's size, and how its writes reached the disk.
 */
public final class MetricsEndpoint implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(MetricsEndpoint.class.getName());
  private final PrometheusMeterRegistry registry;
  private final HttpServer http;
  // Micrometer holds a gauge's or function counter's state object only weakly; these fields keep them alive.
  private final StatsSnapshot storeStats;
  private final List<Figure> figures;

  private MetricsEndpoint(PrometheusMeterRegistry registry, HttpServer http, StatsSnapshot storeStats,
      List<Figure> figures) {
    this.registry = registry;
    this.http = http;
    this.storeStats = storeStats;
    this.figures = List.copyOf(figures);
  }

  /**
   * A figure of the server's own, read at each scrape.
   *
   * @param counter a count that only grows (exported with {@code _total}), else a gauge
   */
  public record Figure(String name, String description, String baseUnit, boolean counter, LongSupplier value) {}

  public static MetricsEndpoint start(String bindAddress, int port, ConversationStore store) throws IOException {
    return start(bindAddress, port, store, List.of());
  }

  public static MetricsEndpoint start(String bindAddress, int port, ConversationStore store, List<Figure> figures)
      throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().meterFilter(new MeterFilter() {
      @Override
      public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
        if (id.getName().startsWith("grpc.server.processing.duration")) {
          return DistributionStatisticConfig.builder().percentilesHistogram(true)
              .minimumExpectedValue((double) Duration.ofMillis(1).toNanos())
              .maximumExpectedValue((double) Duration.ofSeconds(10).toNanos())
              .build().merge(config);
        }
        return config;
      }
    });
    new JvmMemoryMetrics().bindTo(registry);
    StatsSnapshot storeStats = bindStore(registry, store);
    for (Figure f : figures) {
      LongSupplier value = f.value();
      if (f.counter()) {
        FunctionCounter.builder(f.name(), value, v -> v.getAsLong()).description(f.description())
            .baseUnit(f.baseUnit()).register(registry);
      } else {
        Gauge.builder(f.name(), value, v -> v.getAsLong()).description(f.description()).baseUnit(f.baseUnit())
            .register(registry);
      }
    }

    HttpServer http = HttpServer.create(new InetSocketAddress(bindAddress, port), 0);
    http.createContext("/metrics", exchange -> {
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    http.start();
    return new MetricsEndpoint(registry, http, storeStats, figures);
  }

  /** Store figures; the meters share one {@link StoreStats} snapshot per scrape (one query for SQLite). */
  private static StatsSnapshot bindStore(PrometheusMeterRegistry registry, ConversationStore store) {
    StatsSnapshot stats = new StatsSnapshot(store);
    Gauge.builder("conversation.store.conversations", stats, s -> s.read(StoreStats::conversations))
        .description("Conversations stored").register(registry);
    Gauge.builder("conversation.store.messages", stats, s -> s.read(StoreStats::messages))
        .description("Messages stored").register(registry);
    Gauge.builder("conversation.store.history", stats, s -> s.read(StoreStats::historyBytes))
        .baseUnit("bytes").description("UTF-8 bytes of all stored message JSON").register(registry);
    FunctionCounter.builder("conversation.store.writes", stats, s -> s.read(StoreStats::committedWrites))
        .description("Write requests committed and acknowledged").register(registry);
    FunctionCounter.builder("conversation.store.syncs", stats, s -> s.read(StoreStats::syncs))
        .description("Points at which writes became durable: syncs of the log with durability=full (one per"
            + " group of commits), commits with durability=normal").register(registry);
    FunctionCounter.builder("conversation.store.written", stats, s -> s.read(StoreStats::bytesWritten))
        .baseUnit("bytes").description("Message bytes written to disk").register(registry);
    return stats;
  }

  /** The store's statistics, fetched at most once per half second however many meters read them. */
  private static final class StatsSnapshot {
    private static final long MAX_AGE_NANOS = Duration.ofMillis(500).toNanos();
    private final ConversationStore store;
    private StoreStats last;
    private long fetchedAt;

    StatsSnapshot(ConversationStore store) {
      this.store = store;
    }

    synchronized double read(ToDoubleFunction<StoreStats> figure) {
      long now = System.nanoTime();
      if (last == null || now - fetchedAt > MAX_AGE_NANOS) {
        try {
          last = store.stats();
          fetchedAt = now;
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "cannot read the store's statistics for metrics: " + e.getMessage(), e);
          return Double.NaN;
        }
      }
      return figure.applyAsDouble(last);
    }
  }

  /** Records every call: count, latency histogram, status code. */
  public ServerInterceptor interceptor() {
    return new MetricCollectingServerInterceptor(registry);
  }

  public int port() {
    return http.getAddress().getPort();
  }

  @Override
  public void close() {
    http.stop(0);
    registry.close();
  }
}

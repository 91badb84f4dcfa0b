package io.vmpilot.conversation.server.metrics;

import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.grpc.ServerInterceptor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
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
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A Prometheus endpoint ({@code GET /metrics}) on a port of its own: per-RPC call counts and latency histograms
 * by status code (Micrometer's gRPC interceptor), the store's size, how its writes reached the disk, its connection
 * pools (HikariCP's own Micrometer tracker), and the JVM and the process (Micrometer's binders: memory, GC,
 * threads, classes, CPU, uptime, file descriptors). docs/operations.md lists the families with a sample scrape.
 */
public final class MetricsEndpoint implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(MetricsEndpoint.class.getName());
  private final PrometheusMeterRegistry registry;
  private final HttpServer http;
  // Micrometer holds a gauge's or function counter's state object only weakly; these fields keep them alive.
  private final StatsSnapshot storeStats;
  // Listens to the JVM's GC notifications until closed.
  private final JvmGcMetrics gc;
  private final List<Figure> figures;

  private MetricsEndpoint(PrometheusMeterRegistry registry, HttpServer http, StatsSnapshot storeStats,
      JvmGcMetrics gc, List<Figure> figures) {
    this.registry = registry;
    this.http = http;
    this.storeStats = storeStats;
    this.gc = gc;
    this.figures = List.copyOf(figures);
  }

  /**
   * A figure of the server's own, read at each scrape.
   *
   * @param counter a count that only grows (exported with {@code _total}), else a gauge
   * @param tags labels of this figure, telling it from others of the same name (e.g. a reason)
   */
  public record Figure(String name, String description, String baseUnit, boolean counter, LongSupplier value,
      Map<String, String> tags) {
    public Figure(String name, String description, String baseUnit, boolean counter, LongSupplier value) {
      this(name, description, baseUnit, counter, value, Map.of());
    }
  }

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
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    StatsSnapshot storeStats = bindStore(registry, store);
    bindPools(registry, store.connectionPools());
    for (Figure f : figures) {
      LongSupplier value = f.value();
      List<Tag> tags = f.tags().entrySet().stream().map(t -> Tag.of(t.getKey(), t.getValue())).toList();
      if (f.counter()) {
        FunctionCounter.builder(f.name(), value, v -> v.getAsLong()).description(f.description())
            .baseUnit(f.baseUnit()).tags(tags).register(registry);
      } else {
        Gauge.builder(f.name(), value, v -> v.getAsLong()).description(f.description()).baseUnit(f.baseUnit())
            .tags(tags).register(registry);
      }
    }

    HttpServer http;
    try {
      http = HttpServer.create(new InetSocketAddress(bindAddress, port), 0);
    } catch (IOException | RuntimeException e) {
      registry.close();
      throw e;
    }
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    http.createContext("/metrics", exchange -> {
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    http.start();
    return new MetricsEndpoint(registry, http, storeStats, gc, figures);
  }

  /**
   * HikariCP's own meters for each pool, tagged {@code pool} with its name: connections active, idle, pending
   * (callers waiting for one), the pool's bounds, and timers of acquiring, using and creating a connection.
   */
  private static void bindPools(PrometheusMeterRegistry registry, List<DataSource> pools) {
    MicrometerMetricsTrackerFactory tracker = new MicrometerMetricsTrackerFactory(registry);
    for (DataSource pool : pools) {
      if (pool instanceof HikariDataSource hikari) {
        hikari.setMetricsTrackerFactory(tracker);
      }
    }
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
    Gauge.builder("conversation.store.unsynced.writes", stats, s -> s.read(StoreStats::unsyncedWrites))
        .description("Acknowledged writes not yet synced to disk, which a power loss could take now: with SQLite"
            + " durability=normal those since the last periodic log sync (every 200 ms); 0 otherwise")
        .register(registry);
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
    gc.close();
    registry.close();
  }
}

package io.vmpilot.conversation.server;

import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.vmpilot.conversation.server.auth.AuthInterceptor;
import io.vmpilot.conversation.server.auth.TenantTokens;
import io.vmpilot.conversation.server.config.ConfigLoader;
import io.vmpilot.conversation.server.config.ServerConfig;
import io.vmpilot.conversation.server.config.ServerOptions;
import io.vmpilot.conversation.server.config.StoreBackend;
import io.vmpilot.conversation.server.grpc.GrpcServer;
import io.vmpilot.conversation.server.grpc.InFlightBudget;
import io.vmpilot.conversation.server.grpc.TransportWarnings;
import io.vmpilot.conversation.server.http.HttpGateway;
import io.vmpilot.conversation.server.metrics.MetricsEndpoint;
import io.vmpilot.conversation.server.metrics.WatchFigures;
import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.ExpiringReads;
import io.vmpilot.conversation.server.store.Retention;
import io.vmpilot.conversation.server.store.RetentionSweeper;
import io.vmpilot.conversation.server.store.memory.MemoryConversationStore;
import io.vmpilot.conversation.server.store.postgres.PostgresConversationStore;
import io.vmpilot.conversation.server.store.sqlite.SqliteConversationStore;
import io.vmpilot.conversation.server.tls.ServerTls;
import io.vmpilot.conversation.server.tls.TlsFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;

/** Reads the configuration, opens the store, serves until SIGTERM, then shuts down gracefully. */
public final class Main {
  static {
    // One line per record, set before the first logger exists.
    System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
  }

  private static final Logger LOG = Logger.getLogger(Main.class.getName());
  // Held here because java.util.logging keeps loggers only weakly: a level set on a collected logger is lost.
  private static final List<Logger> QUIETED = List.of(
      Logger.getLogger("com.zaxxer.hikari"), Logger.getLogger("org.flywaydb"));

  private Main() {}

  public static void main(String[] args) {
    int exitCode = run(args);
    if (exitCode != 0) {
      System.exit(exitCode);
    }
  }

  static int run(String[] args) {
    QUIETED.forEach(logger -> logger.setLevel(Level.WARNING));
    TransportWarnings transportWarnings = TransportWarnings.install();
    ServerOptions options = new ServerOptions();
    CommandLine cl;
    ServerConfig config;
    try {
      cl = ConfigLoader.commandLine(options, args, System.getenv());
      CommandLine.ParseResult parsed = cl.parseArgs(args);
      if (CommandLine.printHelpIfRequested(parsed)) {
        return 0;
      }
      if (options.hashTokenTenant() != null) {
        return hashToken(options.hashTokenTenant());
      }
      config = options.toConfig(ConfigLoader.configFile(args), System.getenv());
    } catch (CommandLine.ParameterException e) {
      // A flag picocli could not take: the usage is what the reader needs next.
      return configurationFailure(e.getMessage() + " (run with --help for the options)", e);
    } catch (RuntimeException e) {
      return configurationFailure(e.getMessage(), e);
    }

    ServerCredentials credentials;
    try {
      TlsFiles tls = config.tls();
      credentials = ServerTls.credentials(tls.certificateChain(), tls.privateKey(), tls.clientCa());
    } catch (RuntimeException e) {
      return configurationFailure(StartupFailure.describe(e), e);
    }

    // Writes treat an expired conversation as absent (in the backend's write rules), readers too (ExpiringReads).
    Retention retention = config.retention();
    ConversationStore store;
    try {
      store = switch (config.backend()) {
        case SQLITE -> SqliteConversationStore.open(config.sqlite().withRetention(retention));
        case POSTGRES -> PostgresConversationStore.open(config.postgres().withRetention(retention));
        case MEMORY -> new MemoryConversationStore(config.maxHistoryBytes(), config.maxConversationsPerTenant(),
            retention, config.memoryMaxBytes() > 0 ? config.memoryMaxBytes()
                : MemoryConversationStore.defaultMaxBytes());
      };
    } catch (RuntimeException e) {
      return StartupFailure.STORAGE.report(LOG, "cannot open the " + config.backendName() + " store"
          + (config.backend() == StoreBackend.SQLITE ? " at " + config.databasePath() : "") + ": "
          + StartupFailure.describe(e), e);
    }

    MemoryConversationStore memory = store instanceof MemoryConversationStore m ? m : null;
    if (memory != null) {
      LOG.info("memory backend: holds at most about " + memory.maxBytes() + " bytes ([memory] max_bytes"
          + (config.memoryMaxBytes() > 0 ? "" : ", half of the heap's " + Runtime.getRuntime().maxMemory()) + ")");
    }
    if (retention.expiresIdle()) {
      // Above the backend, so that every reader (gRPC, HTTP, Export) stops seeing an expired conversation at once.
      store = new ExpiringReads(store, retention, Clock.systemUTC());
    }
    // Started once the server is up; the metric reads whichever sweeper there is then.
    AtomicReference<RetentionSweeper> sweeper = new AtomicReference<>();
    // Likewise the Watch figures read the server's, once it is up.
    AtomicReference<GrpcServer> running = new AtomicReference<>();

    MetricsEndpoint metrics = null;
    GrpcServer server;
    String listening = config.bindAddress() + ":" + config.port();
    long ceiling = InFlightBudget.ceilingForThisJvm();
    if (config.maxInFlightBytes() > ceiling) {
      LOG.warning("[limits] max_in_flight_bytes = " + config.maxInFlightBytes() + " is more than this JVM can hold "
          + "in flight (half the smaller of -Xmx and -XX:MaxDirectMemorySize); using " + ceiling);
    }
    InFlightBudget inFlight = new InFlightBudget(config.maxInFlightBytes() > 0
        ? Math.min(config.maxInFlightBytes(), ceiling) : InFlightBudget.forThisJvm());
    try {
      List<ServerInterceptor> interceptors = new ArrayList<>();
      if (config.metricsEnabled()) {
        listening = config.metricsBindAddress() + ":" + config.metricsPort() + " (metrics)";
        metrics = MetricsEndpoint.start(config.metricsBindAddress(), config.metricsPort(), store,
            WatchFigures.plus(List.of(
            new MetricsEndpoint.Figure("conversation.transport.warnings", "Warnings of the gRPC transport (grpc-java, "
                + "Netty) with an exception, mostly about malformed requests; logged as one line, rate-limited",
                null, true, transportWarnings::count),
            new MetricsEndpoint.Figure("conversation.in_flight", "Bytes of large requests and responses in flight",
                "bytes", false, inFlight::used),
            new MetricsEndpoint.Figure("conversation.in_flight.limit", "The budget of bytes of large requests and "
                + "responses in flight ([limits] max_in_flight_bytes)", "bytes", false, inFlight::capacity),
            new MetricsEndpoint.Figure("conversation.in_flight.refusals", "Requests and responses refused with "
                + "RESOURCE_EXHAUSTED (IN_FLIGHT_LIMIT) for want of in-flight budget", null, true,
                inFlight::refusals),
            new MetricsEndpoint.Figure("conversation.memory_store", "Memory backend: the estimate of what it holds, "
                + "against [memory] max_bytes (0 with another backend)", "bytes", false,
                () -> memory == null ? 0 : memory.usedBytes()),
            new MetricsEndpoint.Figure("conversation.memory_store.limit", "Memory backend: [memory] max_bytes, the "
                + "most it holds before writes get STORAGE_FULL (0 with another backend)", "bytes", false,
                () -> memory == null ? 0 : memory.maxBytes()),
            new MetricsEndpoint.Figure("conversation.retention.deleted", "Conversations deleted by the retention "
                + "sweep ([retention] max_idle) since the server started", null, true,
                () -> sweeper.get() == null ? 0 : sweeper.get().deleted())),
            () -> running.get() == null ? null : running.get().watchStats()));
        interceptors.add(metrics.interceptor());
      }
      List<ServerInterceptor> serverInterceptors = new ArrayList<>();
      if (config.authEnabled()) {
        serverInterceptors.add(new AuthInterceptor(config.tokens()));
      } else if (!config.tokens().isEmpty()) {
        LOG.warning("tokens are configured but authentication is off ([auth] enabled = false): "
            + "every call is accepted and acts for the tenant 'default'");
      }
      listening = config.bindAddress() + ":" + config.port();
      server = GrpcServer.start(new GrpcServer.Settings(config.bindAddress(), config.port(),
          config.maxInboundMessageBytes(), config.executorThreads(), config.shutdownGrace(), Duration.ofSeconds(2),
          config.requestLimits(), interceptors, credentials, serverInterceptors, inFlight, config.connections()),
          store, config.watch());
      running.set(server);
    } catch (Exception e) {
      if (metrics != null) {
        metrics.close();
      }
      store.close();
      if (e instanceof IllegalArgumentException) {
        return configurationFailure(StartupFailure.describe(e), e);
      }
      return StartupFailure.NETWORK.report(LOG, "cannot listen on " + listening + ": " + StartupFailure.describe(e), e);
    }
    HttpGateway http = null;
    if (config.httpPort().isPresent()) {
      try {
        http = HttpGateway.start(new HttpGateway.Settings(config.bindAddress(), config.httpPort().getAsInt(),
            config.tls(), config.maxInboundMessageBytes(), config.executorThreads(), config.shutdownGrace()),
            server.newInProcessChannel());
      } catch (IOException | RuntimeException e) {
        server.stop();
        if (metrics != null) {
          metrics.close();
        }
        if (!StartupFailure.isSocketFailure(e)) {
          // The port was not even tried: the TLS files do not suit the HTTP side (PemTls).
          return configurationFailure(StartupFailure.describe(e), e);
        }
        return StartupFailure.NETWORK.report(LOG, "cannot listen on " + config.bindAddress() + ":"
            + config.httpPort().getAsInt() + " (HTTP): " + StartupFailure.describe(e), e);
      }
    }
    LOG.info(startupLine(config, server.port(), metrics) + " max_in_flight_bytes=" + inFlight.capacity()
        + (http == null ? "" : " http=" + http.url(config.bindAddress())));

    // Always: a write may give any conversation an expire time, and the sweep deletes it once passed.
    sweeper.set(RetentionSweeper.start(store, retention));
    if (config.retentionMaxIdle().isPresent()) {
      LOG.info("retention: conversations not updated for " + config.retentionMaxIdle().get() + " are deleted"
          + (retention.maxIdlePerTenant().isEmpty() ? "" : " (but those of tenants with their own max_idle)"));
    }
    retention.maxIdlePerTenant().forEach((tenant, maxIdle) -> LOG.info("retention: conversations of tenant "
        + tenant + (maxIdle.isPresent() ? " not updated for " + maxIdle.get() + " are deleted"
            : " are kept however long they stay idle")));

    MetricsEndpoint startedMetrics = metrics;
    HttpGateway startedHttp = http;
    Runnable stop = () -> {
      LOG.info("shutting down: finishing in-flight calls");
      // The HTTP port stops beside the gRPC one: its requests in flight are calls the gRPC server finishes.
      Thread httpStop = null;
      if (startedHttp != null) {
        httpStop = new Thread(startedHttp::close, "http-stop");
        httpStop.start();
      }
      if (sweeper.get() != null) {
        // Before the store closes (server.stop closes it): a sweep in progress ends after its batch.
        sweeper.get().close();
      }
      server.stop();
      if (httpStop != null) {
        try {
          httpStop.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (startedMetrics != null) {
        startedMetrics.close();
      }
      LOG.info("stopped");
    };
    // SIGTERM and SIGINT stop the server from a handler of our own rather than a shutdown hook: hooks run
    // alongside java.util.logging's own, which closes the log handlers, and end with exit code 143.
    ShutdownSignals.onTermination(stop);
    try {
      server.awaitTermination();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ShutdownSignals.awaitHandled();
    return 0;
  }

  /** A configuration that cannot be used: one line on standard error, as a command-line tool says it. */
  private static int configurationFailure(String message, Exception e) {
    System.err.println("conversation-server: " + StartupFailure.oneLine(message));
    LOG.log(Level.FINE, "the configuration was refused", e);
    return StartupFailure.CONFIGURATION.exitCode();
  }

  /**
   * {@code --hash-token TENANT}: reads one token from standard input (a trailing line break is dropped) and
   * prints the tokens-file line for it. The token itself is never printed.
   */
  static int hashToken(String tenant) {
    try {
      String token = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
      if (token.endsWith("\n")) {
        token = token.substring(0, token.length() - 1);
      }
      if (token.endsWith("\r")) {
        token = token.substring(0, token.length() - 1);
      }
      System.out.println(TenantTokens.hashLine(tenant, token));
      return 0;
    } catch (IOException | IllegalArgumentException e) {
      System.err.println("conversation-server: --hash-token: " + e.getMessage());
      return StartupFailure.CONFIGURATION.exitCode();
    }
  }

  static String startupLine(ServerConfig config, int port, MetricsEndpoint metrics) {
    String storage = config.backend() == StoreBackend.POSTGRES
        ? "backend=postgres database=" + config.postgres().displayUrl() + " pool_size=" + config.postgres().poolSize()
        : config.databaseEnabled()
        ? "backend=sqlite database=" + config.databasePath().toAbsolutePath().normalize() + " durability="
            + config.durability().name().toLowerCase()
        : "backend=memory (conversations are lost on restart)";
    return "conversation server listening on " + config.bindAddress() + ":" + port + " " + storage
        + " tls=" + (!config.tls().enabled() ? "off" : config.tls().clientCertificatesRequired() ? "mutual" : "on")
        + " auth=" + (config.authEnabled()
            ? "on tenants=" + config.tokens().tenants().size() + " tokens=" + config.tokens().size()
            : "off")
        + (metrics == null ? "" : " metrics=http://" + config.metricsBindAddress() + ":" + metrics.port() + "/metrics")
        + (config.configFile() == null ? "" : " config=" + config.configFile());
  }
}

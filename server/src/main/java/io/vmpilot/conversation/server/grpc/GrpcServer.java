package io.vmpilot.conversation.server.grpc;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.vmpilot.conversation.server.store.ChangeLogPruner;
import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.threads.DaemonThreads;
import io.vmpilot.conversation.server.tls.ServerTls;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The running gRPC server: the conversation service, health ({@code grpc.health.v1}, following the store's
 * health) and reflection (v1 and v1alpha, so grpcurl, grpcui and Postman all work), which serves descriptors with
 * {@code json_name} filled in ({@link JsonNamedDescriptors}) so that clients print the proto3 JSON names.
 *
 * <p>Calls start on Netty's event-loop threads (a direct executor): none of the services waits there, and the
 * conversation service hands reads to a bounded pool of its own ({@code grpc-call} threads), and Gets of a large
 * history and large writes to a second one, a quarter its size ({@code grpc-large} threads, {@link LargeReads}),
 * where requests over 64 KiB, and compressed ones whatever their size, are also parsed ({@link UnparseableRequests}).
 * Measured with the benchmark's agent turn (docs/benchmark.md): handing every call to the pool cost 20-30% of the
 * throughput on two cores (the pool's threads took 42-75 µs of CPU per turn, most of it handing calls over).
 */
public final class GrpcServer {
  private static final Logger LOG = Logger.getLogger(GrpcServer.class.getName());
  private static final String SERVICE_NAME = ConversationServiceGrpc.SERVICE_NAME;

  /**
   * How the server listens and how long it gives in-flight calls on shutdown.
   *
   * @param interceptors wrap the conversation service only (e.g. metrics)
   * @param credentials the transport security: {@link io.grpc.InsecureServerCredentials} for plaintext, or
   *     {@link io.grpc.TlsServerCredentials} (see {@link ServerTls})
   * @param serverInterceptors wrap every service, health and reflection included (e.g. authentication)
   * @param inFlight the budget of bytes of large requests and responses in flight, shared by both ports
   * @param connections what one network connection may hold
   */
  public record Settings(String bindAddress, int port, int maxInboundMessageBytes, int executorThreads,
      Duration shutdownGrace, Duration healthCheckInterval, RequestLimits limits,
      List<ServerInterceptor> interceptors, ServerCredentials credentials, List<ServerInterceptor> serverInterceptors,
      InFlightBudget inFlight, ConnectionLimits connections) {}

  private final Server server;
  // The same services and interceptors, for callers inside this process (the HTTP/JSON side): one implementation
  // of every rule, whichever way a call arrives.
  private final Server inProcess;
  private final String inProcessName;
  private final ExecutorService executor;
  private final ExecutorService largeExecutor;
  private final ScheduledExecutorService healthChecker;
  private final HealthStatusManager health;
  private final ConversationStore store;
  private final Duration shutdownGrace;
  private final NetworkThreads networkThreads;
  private final ConversationService service;
  private final ChangeLogPruner pruner;

  private GrpcServer(Server server, Server inProcess, String inProcessName, ExecutorService executor,
      ExecutorService largeExecutor, NetworkThreads networkThreads,
      ScheduledExecutorService healthChecker, HealthStatusManager health, ConversationStore store,
      Duration shutdownGrace, ConversationService service, ChangeLogPruner pruner) {
    this.service = service;
    this.pruner = pruner;
    this.server = server;
    this.inProcess = inProcess;
    this.inProcessName = inProcessName;
    this.executor = executor;
    this.largeExecutor = largeExecutor;
    this.networkThreads = networkThreads;
    this.healthChecker = healthChecker;
    this.health = health;
    this.store = store;
    this.shutdownGrace = shutdownGrace;
  }

  /**
   * Starts listening.
   *
   * @throws IOException when the port cannot be listened on
   * @throws IllegalArgumentException when the TLS certificate or key cannot be used
   */
  public static GrpcServer start(Settings settings, ConversationStore store) throws IOException {
    return start(settings, store, WatchSettings.DEFAULTS);
  }

  /** Starts the server, and the pruning of the store's change log past {@code watch}'s retention. */
  public static GrpcServer start(Settings settings, ConversationStore store, WatchSettings watch)
      throws IOException {
    ExecutorService executor = Executors.newFixedThreadPool(settings.executorThreads(),
        DaemonThreads.numbered("grpc-call"));
    HealthStatusManager health = new HealthStatusManager();
    NettyServerBuilder builder;
    try {
      builder = NettyServerBuilder.forAddress(new InetSocketAddress(settings.bindAddress(), settings.port()),
          settings.credentials());
    } catch (IllegalArgumentException e) {
      // A certificate or key that cannot be used: the configuration's fault, not the network's.
      executor.shutdownNow();
      throw new IllegalArgumentException("cannot set up transport security: " + e.getMessage(), e);
    }
    InFlightLimiter limiter = new InFlightLimiter(settings.inFlight(),
        settings.executorThreads() - Math.max(2, settings.executorThreads() / 4));
    // The limiter nearest the service, so that the other interceptors (metrics) see the status of a call it
    // refuses; only the conversation service has large messages (and health and reflection answer on the network
    // threads, where no response may wait for the budget).
    // Large reads and writes get a pool of their own, a quarter the size of the other (LargeReads says why), at
    // Java's lowest priority: beside a flood of large Gets the small calls get the CPU first. The JVM passes
    // priorities to the OS only with -XX:ThreadPriorityPolicy=1 (scripts/server-jvm.options); without it, none.
    int largeThreads = Math.max(2, settings.executorThreads() / 4);
    ExecutorService largeExecutor = Executors.newFixedThreadPool(largeThreads,
        DaemonThreads.numbered("grpc-large", Thread.MIN_PRIORITY));
    ConversationService service = new ConversationService(store, settings.limits(), executor, watch,
        new LargeReads(largeExecutor, limiter, 4 * settings.executorThreads(),
            store.readConnections()));
    ServerServiceDefinition conversations = JsonNamedDescriptors.withJsonNames(ServerInterceptors.intercept(
        ServerInterceptors.intercept(UnparseableRequests.rejectAsInvalidArgument(service.bindService(), largeExecutor),
            limiter.interceptor()), settings.interceptors()));
    ServerServiceDefinition healthService = JsonNamedDescriptors.withJsonNames(
        health.getHealthService().bindService());
    ServerServiceDefinition admin = JsonNamedDescriptors.withJsonNames(ServerInterceptors.intercept(
        UnparseableRequests.rejectAsInvalidArgument(new ConversationAdminService(store, settings.limits(), executor,
            serverVersion()).bindService(), largeExecutor), settings.interceptors()));
    // The last interceptor added runs first; authentication, added last, runs before everything else.
    settings.serverInterceptors().forEach(builder::intercept);
    ConnectionLimits connections = settings.connections();
    NetworkThreads networkThreads = NetworkThreads.on(builder, connections.networkThreads());
    builder.addStreamTracerFactory(new CallTimeLimit(connections.maxCallTime()))
        .addStreamTracerFactory(limiter.tracerFactory())
        .maxConcurrentCallsPerConnection(connections.maxConcurrentCallsPerConnection())
        .flowControlWindow(connections.flowControlWindowBytes())
        .permitKeepAliveTime(connections.permitKeepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
        .maxConnectionAgeGrace(connections.maxConnectionAgeGrace().toNanos(), TimeUnit.NANOSECONDS);
    if (!connections.maxConnectionIdle().isZero()) {
      builder.maxConnectionIdle(connections.maxConnectionIdle().toNanos(), TimeUnit.NANOSECONDS);
    }
    if (!connections.maxConnectionAge().isZero()) {
      builder.maxConnectionAge(connections.maxConnectionAge().toNanos(), TimeUnit.NANOSECONDS);
    }
    Server server = builder
        .directExecutor()
        .callExecutor(UnparseableRequests.compressedCallsOn(largeExecutor))
        .maxInboundMessageSize(settings.maxInboundMessageBytes())
        .addService(conversations)
        .addService(admin)
        .addService(healthService)
        .addService(JsonNamedDescriptors.withJsonNames(ProtoReflectionServiceV1.newInstance().bindService()))
        .addService(JsonNamedDescriptors.withJsonNames(ProtoReflectionService.newInstance().bindService()))
        .build();
    String inProcessName = "conversation-server-" + UUID.randomUUID();
    InProcessServerBuilder inProcessBuilder = InProcessServerBuilder.forName(inProcessName);
    settings.serverInterceptors().forEach(inProcessBuilder::intercept);
    Server inProcess = inProcessBuilder
        .directExecutor()
        .maxInboundMessageSize(settings.maxInboundMessageBytes())
        .addService(conversations)
        .addService(healthService)
        .build();
    try {
      server.start();
      inProcess.start();
    } catch (IOException e) {
      server.shutdownNow();
      executor.shutdownNow();
      largeExecutor.shutdownNow();
      networkThreads.close();
      throw e;
    }
    ScheduledExecutorService checker = Executors.newSingleThreadScheduledExecutor(
        DaemonThreads.numbered("health-check"));
    GrpcServer running = new GrpcServer(server, inProcess, inProcessName, executor, largeExecutor, networkThreads,
        checker, health, store, settings.shutdownGrace(), service,
        ChangeLogPruner.start(store.changeFeed(), watch.logRetention()));
    running.checkHealth();
    long interval = settings.healthCheckInterval().toMillis();
    checker.scheduleWithFixedDelay(running::checkHealth, interval, interval, TimeUnit.MILLISECONDS);
    return running;
  }

  /** The version in the server jar's manifest; "development" when run from classes (tests, an IDE). */
  static String serverVersion() {
    String version = GrpcServer.class.getPackage().getImplementationVersion();
    return version != null ? version : "development";
  }

  /** What the metrics endpoint reports of Watch. */
  public WatchStats watchStats() {
    return service.watchStats();
  }

  /** The port the server listens on (the one chosen when 0 was asked for). */
  public int port() {
    return server.getPort();
  }

  /**
   * A channel to the same services, interceptors (authentication, metrics) and limits as the network port, inside
   * this process; the caller closes it. Calls on it run on the calling thread until the service hands them on.
   */
  public ManagedChannel newInProcessChannel() {
    return InProcessChannelBuilder.forName(inProcessName).directExecutor().build();
  }

  private volatile ServingStatus lastStatus;

  private void checkHealth() {
    ServingStatus status;
    try {
      store.checkHealth();
      status = ServingStatus.SERVING;
    } catch (RuntimeException e) {
      status = ServingStatus.NOT_SERVING;
      if (lastStatus != status) {
        LOG.log(Level.WARNING, "storage unavailable; health is NOT_SERVING: " + e.getMessage());
      }
    }
    if (lastStatus == ServingStatus.NOT_SERVING && status == ServingStatus.SERVING) {
      LOG.info("storage reachable again; health is SERVING");
    }
    lastStatus = status;
    health.setStatus("", status);
    health.setStatus(SERVICE_NAME, status);
  }

  /**
   * Graceful stop: health goes NOT_SERVING, new calls are refused, Watch streams end (UNAVAILABLE), other
   * in-flight calls get the grace period to finish, then the store finishes its queued writes and closes. Nothing
   * acknowledged is lost.
   */
  public void stop() {
    healthChecker.shutdownNow();
    health.enterTerminalState();
    server.shutdown();
    inProcess.shutdown();
    // Watch streams never end by themselves: they are told to come back later, so the grace is for the others.
    service.shutDownWatchers();
    pruner.close();
    try {
      long deadline = System.nanoTime() + shutdownGrace.toNanos();
      boolean finished = server.awaitTermination(shutdownGrace.toMillis(), TimeUnit.MILLISECONDS)
          && inProcess.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (!finished) {
        LOG.warning("in-flight calls did not finish within " + shutdownGrace + "; cancelling them");
        server.shutdownNow();
        inProcess.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
        inProcess.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
      inProcess.shutdownNow();
    }
    networkThreads.close();
    executor.shutdown();
    largeExecutor.shutdown();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
      largeExecutor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    store.close();
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }
}

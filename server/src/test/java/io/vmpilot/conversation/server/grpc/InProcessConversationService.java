package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The service over a store on the in-process transport, threaded as in the server: calls start on the transport's
 * thread, reads (and large writes) run on a pool. Closing it stops the server, not the store.
 */
final class InProcessConversationService implements AutoCloseable {
  private final ExecutorService blocking = Executors.newFixedThreadPool(2);
  private final Server server;
  private final ManagedChannel channel;
  /** A stub with a 30 s deadline, so that a hang fails the test. */
  final ConversationServiceBlockingStub stub;
  /** The service itself, for what it tells the metrics endpoint. */
  final ConversationService service;

  InProcessConversationService(ConversationStore store, RequestLimits limits, ServerInterceptor... interceptors)
      throws IOException {
    this(store, limits, WatchSettings.DEFAULTS, interceptors);
  }

  InProcessConversationService(ConversationStore store, RequestLimits limits, WatchSettings watch,
      ServerInterceptor... interceptors) throws IOException {
    String name = InProcessServerBuilder.generateName();
    service = new ConversationService(store, limits, blocking, watch);
    server = InProcessServerBuilder.forName(name)
        .directExecutor()
        .addService(ServerInterceptors.intercept(service, interceptors))
        .build()
        .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    stub = ConversationServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow();
    assertThat(server.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    blocking.shutdownNow();
  }
}

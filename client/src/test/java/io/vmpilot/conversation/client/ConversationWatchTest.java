package io.vmpilot.conversation.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.WatchRequest;
import io.vmpilot.conversation.v1.WatchResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link ConversationClient#watch} against a scripted server: what it sends, what it returns, how it ends. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConversationWatchTest {
  private final AtomicReference<WatchRequest> asked = new AtomicReference<>();
  private final CountDownLatch cancelled = new CountDownLatch(1);
  private volatile boolean failAfterTwo;
  private Server server;
  private ConversationClient client;

  private void start() throws Exception {
    server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(new ConversationServiceGrpc.ConversationServiceImplBase() {
          @Override
          public void watch(WatchRequest request, StreamObserver<WatchResponse> response) {
            asked.set(request);
            ((ServerCallStreamObserver<WatchResponse>) response).setOnCancelHandler(cancelled::countDown);
            response.onNext(WatchResponse.newBuilder().setThreadId("t").setVersion(request.getStartVersion() + 1)
                .build());
            response.onNext(WatchResponse.newBuilder().setThreadId("t").setVersion(request.getStartVersion() + 5)
                .build());
            if (failAfterTwo) {
              response.onError(Status.UNAVAILABLE.withDescription("stopping").asRuntimeException());
            }
            // Else the stream stays open, as the server's does.
          }
        })
        .build().start();
    client = ConversationClient.builder("127.0.0.1:" + server.getPort()).deadline(Duration.ofSeconds(1)).build();
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void streamsPastTheCallDeadlineUntilClosedAndTracksTheLastVersion() throws Exception {
    start();
    try (ConversationWatch watch = client.watch("t", 10)) {
      assertThat(watch.lastVersion()).isEqualTo(10);
      assertThat(watch.next().getVersion()).isEqualTo(11);
      Thread.sleep(1_500); // longer than the client's call deadline, which a watch must not have
      assertThat(watch.next().getVersion()).isEqualTo(15);
      assertThat(watch.lastVersion()).isEqualTo(15);
    }
    assertThat(asked.get().getThreadId()).isEqualTo("t");
    assertThat(asked.get().getStartVersion()).isEqualTo(10);
    assertThat(cancelled.await(10, TimeUnit.SECONDS)).as("close cancels the stream").isTrue();
  }

  @Test
  void aFailedStreamThrowsTheStoreException() throws Exception {
    failAfterTwo = true;
    start();
    try (ConversationWatch watch = client.watch("", 0)) {
      watch.next();
      watch.next();
      assertThatThrownBy(watch::hasNext).isInstanceOf(ConversationStoreException.class);
      assertThat(watch.lastVersion()).isEqualTo(5);
    }
  }

  @Test
  void aTenantWatchSendsItsMetadataFilterAndNoThread() throws Exception {
    start();
    try (ConversationWatch watch = client.watchTenant(Map.of("run", "r1", "team", "a"), 3)) {
      assertThat(watch.next().getVersion()).isEqualTo(4);
    }
    assertThat(asked.get().getThreadId()).isEmpty();
    assertThat(asked.get().getStartVersion()).isEqualTo(3);
    assertThat(asked.get().getMetadataFilterMap()).containsExactlyInAnyOrderEntriesOf(Map.of("run", "r1", "team", "a"));
  }
}

package io.vmpilot.conversation.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.SaveResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A client of several servers (as in front of one PostgreSQL database), on real sockets. */
class RoundRobinClientTest {
  private static final class CountingService extends ConversationServiceGrpc.ConversationServiceImplBase {
    final AtomicInteger saves = new AtomicInteger();

    @Override
    public void save(SaveRequest request, StreamObserver<SaveResponse> response) {
      saves.incrementAndGet();
      response.onNext(SaveResponse.newBuilder().setVersion(1).build());
      response.onCompleted();
    }
  }

  private static Server start(CountingService service) throws Exception {
    return Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()).addService(service).build().start();
  }

  @Test
  void callsAreSpreadOverEveryServerAndGoOnWhenOneStops() throws Exception {
    CountingService a = new CountingService();
    CountingService b = new CountingService();
    Server serverA = start(a);
    Server serverB = start(b);
    try (ConversationClient client = ConversationClient.builder(List.of("127.0.0.1:" + serverA.getPort(),
        "127.0.0.1:" + serverB.getPort())).deadline(Duration.ofSeconds(30)).build()) {
      for (int i = 0; i < 20; i++) {
        client.save("t", List.of("{}"));
      }
      assertThat(a.saves.get() + b.saves.get()).isEqualTo(20);
      assertThat(a.saves.get()).as("round_robin sent calls to the first server").isPositive();
      assertThat(b.saves.get()).as("and to the second").isPositive();

      serverA.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      int before = b.saves.get();
      for (int i = 0; i < 10; i++) {
        client.save("t", List.of("{}"));
      }
      assertThat(b.saves.get() - before).as("every call went to the server still up").isEqualTo(10);
    } finally {
      serverA.shutdownNow();
      serverB.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void whenEveryServerIsDownACallWaitsForOneToComeBackUntilItsDeadline() throws Exception {
    CountingService a = new CountingService();
    Server serverA = start(a);
    Server serverB = start(new CountingService());
    int portA = serverA.getPort();
    List<String> servers = List.of("127.0.0.1:" + portA, "127.0.0.1:" + serverB.getPort());
    Server restarted = null;
    try (ConversationClient client = ConversationClient.builder(servers).deadline(Duration.ofSeconds(3)).build()) {
      client.save("t", List.of("{}"));
      serverA.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      serverB.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

      // Failing fast would be UNAVAILABLE once the retries (at most 1.5 s of backoff) ran out.
      assertThatThrownBy(() -> client.save("t", List.of("{}")))
          .isInstanceOfSatisfying(ConversationStoreException.class,
              e -> assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));

      // A longer deadline than the client's: the channel's reconnect backoff has grown while both were down.
      CompletableFuture<SaveResponse> waiting = CompletableFuture.supplyAsync(() -> client.stub()
          .withDeadlineAfter(30, TimeUnit.SECONDS).save(SaveRequest.newBuilder().setThreadId("t").build()));
      restarted = Grpc.newServerBuilderForPort(portA, InsecureServerCredentials.create()).addService(a).build()
          .start();
      assertThat(waiting.get(40, TimeUnit.SECONDS).getVersion()).isEqualTo(1);
    } finally {
      serverA.shutdownNow();
      serverB.shutdownNow();
      if (restarted != null) {
        restarted.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aServerAddressMustBeHostAndPort() {
    assertThatThrownBy(() -> ConversationClient.builder(List.of("127.0.0.1"))).hasMessageContaining("host:port");
    assertThatThrownBy(() -> ConversationClient.builder(List.of())).hasMessageContaining("no server");
  }
}

package io.vmpilot.conversation.it;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Small helpers shared by the reliability tests: raw channels without retries, deadlines, health, error details. */
final class Rpc {
  /** Every call of these tests has a deadline; generous, since the CI machine is small and shared. */
  static final Duration DEADLINE = Duration.ofSeconds(20);

  /**
   * JVM flags for the servers these tests start and kill dozens of times: client compiler only and the serial
   * collector roughly halve start-up on a small machine. They change no behaviour the tests check.
   */
  static final List<String> FAST_START_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  private Rpc() {}

  /** Starts the server on SQLite at {@code db} with the fast-start JVM flags. */
  static ServerProcess startSqlite(Path db, String... args) throws java.io.IOException {
    List<String> all = new ArrayList<>(List.of("--database-path", db.toString()));
    all.addAll(List.of(args));
    return ServerProcess.launch(List.of(), FAST_START_JVM, all, null, Map.of());
  }

  /** A plaintext channel with gRPC's transparent retries off, so each outcome the test sees is one attempt. */
  static ManagedChannel channel(String target) {
    return ManagedChannelBuilder.forTarget(target).usePlaintext().disableRetry()
        .maxInboundMessageSize(64 << 20).build();
  }

  static ConversationServiceBlockingStub stub(ManagedChannel channel) {
    return ConversationServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  static void close(ManagedChannel channel) {
    channel.shutdownNow();
    try {
      channel.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The health of the whole server ("" service), or null if the call itself failed. */
  static ServingStatus health(ManagedChannel channel) {
    try {
      return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
          .check(HealthCheckRequest.newBuilder().setService("").build()).getStatus();
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Polls health (every 100 ms, up to {@code timeout}) until it satisfies {@code wanted}; returns the last one. */
  static ServingStatus awaitHealth(ManagedChannel channel, Predicate<ServingStatus> wanted, Duration timeout)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    ServingStatus last = health(channel);
    while (!wanted.test(last) && System.nanoTime() < end) {
      Thread.sleep(100); // polling interval, not synchronisation: the loop ends on the observed state
      last = health(channel);
    }
    return last;
  }

  static Status.Code code(Throwable t) {
    return Status.fromThrowable(t).getCode();
  }

  /**
   * Whether a call failed because the server went away under it (killed): UNAVAILABLE or CANCELLED, or the UNKNOWN
   * "channel closed" that grpc-java's client reports when its write meets the reset connection
   * (grpc/grpc-java#10120). Its outcome is unknown either way.
   */
  static boolean connectionLost(Throwable t) {
    Status status = Status.fromThrowable(t);
    return switch (status.getCode()) {
      case UNAVAILABLE, CANCELLED -> true;
      case UNKNOWN -> "channel closed".equals(status.getDescription());
      default -> false;
    };
  }

  static Optional<ErrorInfo> errorInfo(Throwable t) {
    com.google.rpc.Status status = StatusProto.fromThrowable(t);
    if (status == null) {
      return Optional.empty();
    }
    return status.getDetailsList().stream().filter(a -> a.is(ErrorInfo.class)).findFirst().map(a -> {
      try {
        return a.unpack(ErrorInfo.class);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new IllegalStateException(e);
      }
    });
  }
}

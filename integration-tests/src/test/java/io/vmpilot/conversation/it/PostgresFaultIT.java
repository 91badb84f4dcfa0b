package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Message;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Faults under load with two real servers on one real PostgreSQL: a server killed, the database crashed and started
 * again, every server restarted in turn. Clients retry what failed (same message ids) through the other server; in
 * the end every acknowledged message is stored, once, in order.
 */
class PostgresFaultIT {
  private static final int CLIENTS = 8;
  private static final Duration PHASE = Duration.ofSeconds(120);

  @Test
  void sigkillOfAServerUnderLoadLosesNothingAcknowledged() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(2);
        RetryingAppenders load = new RetryingAppenders(CLIENTS, targets(fleet))) {
      assertThat(RetryingAppenders.await(() -> load.acks() >= 300, PHASE)).as("load before the kill").isTrue();
      fleet.server(0).kill();
      long atKill = load.acks();
      assertThat(RetryingAppenders.await(() -> load.acks() >= atKill + 300, PHASE))
          .as("the other server carries the load").isTrue();
      load.stop();
      List<String> problems = load.verify(fleet.server(1).target());
      System.out.printf("PostgresFaultIT sigkill: servers=2 clients=%d acknowledged=%d (at kill %d) failed_calls=%d %s"
          + " lost=0%n", CLIENTS, load.acks(), atKill, load.failedCalls(), load.failuresByCode());
      assertThat(problems).isEmpty();
    }
  }

  @Test
  void aDatabaseCrashGivesUnavailableThenTheServersRecoverWithoutRestart() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(2);
        RetryingAppenders load = new RetryingAppenders(CLIENTS, targets(fleet))) {
      List<ManagedChannel> probes = List.of(Rpc.channel(fleet.server(0).target()),
          Rpc.channel(fleet.server(1).target()));
      try {
        assertThat(RetryingAppenders.await(() -> load.acks() >= 300, PHASE)).isTrue();
        long pid0 = fleet.server(0).pid();
        long pid1 = fleet.server(1).pid();

        fleet.postgres().stopImmediately();
        long atCrash = load.acks();
        for (ManagedChannel probe : probes) {
          assertThat(Rpc.awaitHealth(probe, s -> s == ServingStatus.NOT_SERVING, PHASE))
              .as("health while the database is down").isEqualTo(ServingStatus.NOT_SERVING);
          // A call of our own while it is down: UNAVAILABLE, not a hang or INTERNAL.
          Status.Code code = callCode(probe);
          assertThat(code).as("a write while the database is down").isEqualTo(Status.Code.UNAVAILABLE);
        }
        long failedWhileDown = load.failedCalls();
        long acksWhileDown = load.acks() - atCrash;

        fleet.postgres().start();
        for (ManagedChannel probe : probes) {
          assertThat(Rpc.awaitHealth(probe, s -> s == ServingStatus.SERVING, PHASE))
              .as("health once the database is back").isEqualTo(ServingStatus.SERVING);
        }
        long atRecovery = load.acks();
        assertThat(RetryingAppenders.await(() -> load.acks() >= atRecovery + 300, PHASE))
            .as("writes go on after the database is back").isTrue();
        load.stop();
        assertThat(fleet.server(0).isAlive() && fleet.server(1).isAlive()).as("no server restarted").isTrue();
        assertThat(List.of(fleet.server(0).pid(), fleet.server(1).pid())).containsExactly(pid0, pid1);
        List<String> problems = load.verify(fleet.server(0).target());
        System.out.printf("PostgresFaultIT database crash: servers=2 clients=%d acknowledged=%d (at crash %d,"
                + " while down %d) failed_calls=%d (%d by recovery) %s lost=0%n", CLIENTS, load.acks(), atCrash,
            acksWhileDown, load.failedCalls(), failedWhileDown, load.failuresByCode());
        assertThat(failedWhileDown).as("calls failed while the database was down").isPositive();
        assertThat(problems).isEmpty();
      } finally {
        probes.forEach(Rpc::close);
      }
    }
  }

  @Test
  void aRollingRestartOfEveryServerUnderLoadLosesNothingAcknowledged() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(2);
        RetryingAppenders load = new RetryingAppenders(CLIENTS, targets(fleet))) {
      assertThat(RetryingAppenders.await(() -> load.acks() >= 300, PHASE)).isTrue();
      for (int i = 0; i < fleet.size(); i++) {
        // SIGTERM: the server stops taking calls, finishes those in flight, then exits; its clients move on.
        assertThat(fleet.server(i).stop()).as("graceful exit code").isZero();
        ServerProcess replacement = fleet.startServer();
        fleet.replace(i, replacement);
        load.retarget(i, replacement.target());
        long now = load.acks();
        assertThat(RetryingAppenders.await(() -> load.acks() >= now + 200, PHASE)).isTrue();
      }
      load.stop();
      List<String> problems = load.verify(fleet.server(0).target());
      System.out.printf("PostgresFaultIT rolling restart: servers=2 restarted=2 clients=%d acknowledged=%d"
          + " failed_calls=%d %s lost=0%n", CLIENTS, load.acks(), load.failedCalls(), load.failuresByCode());
      assertThat(problems).isEmpty();
    }
  }

  private static List<String> targets(PostgresFleet fleet) {
    return List.of(fleet.server(0).target(), fleet.server(1).target());
  }

  private static Status.Code callCode(ManagedChannel ch) {
    try {
      Rpc.stub(ch).append(AppendRequest.newBuilder().setThreadId("probe")
          .addMessages(Message.newBuilder().setId("p").setJson("{}")).build());
      return Status.Code.OK;
    } catch (RuntimeException e) {
      return Rpc.code(e);
    }
  }
}

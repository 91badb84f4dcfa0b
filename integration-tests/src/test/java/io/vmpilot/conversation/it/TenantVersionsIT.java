package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Message;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Versions tell a tenant nothing about other tenants (issue 23, finding 7): each tenant's versions move only with
 * its own writes, and still never repeat for a thread, across Clear, re-creation and restarts. Two tenants with
 * tokens, against the real server on SQLite and memory, and on two real servers sharing one PostgreSQL database
 * (each tenant writing through its own server, so the counter is the database's, not a server's).
 */
class TenantVersionsIT {
  private static final String ALICE = "alice-versions-9d3kQp2Lm";
  private static final String BOB = "bob-versions-4Tz8wXr1Ns";

  @TempDir
  Path dir;

  private Path tokensFile() throws Exception {
    Path file = dir.resolve("tokens.txt");
    Files.writeString(file, line("alice", ALICE) + "\n" + line("bob", BOB) + "\n");
    return file;
  }

  private static String line(String tenant, String token) throws Exception {
    byte[] hash = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    return tenant + " sha256:" + HexFormat.of().formatHex(hash);
  }

  private List<String> authArgs() throws Exception {
    return List.of("--auth-enabled", "true", "--auth-tokens-file", tokensFile().toString());
  }

  private static ConversationClient client(String target, String token) {
    return ConversationClient.builder(target).bearerToken(token).build();
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "memory"})
  void anotherTenantsWritesNeverShowInATenantsVersions(String backend) throws Exception {
    List<String> args = new ArrayList<>(authArgs());
    Path db = dir.resolve("versions.db");
    if (backend.equals("memory")) {
      args.addAll(List.of("--database-enabled", "false"));
    } else {
      args.addAll(List.of("--database-path", db.toString()));
    }
    long last;
    try (ServerProcess server = ServerProcess.start(args)) {
      last = aliceSeesOnlyHerOwnWrites(server.target(), server.target());
    }
    if (backend.equals("sqlite")) {
      // After a restart alice's counter goes on where it was, whatever bob did meanwhile.
      try (ServerProcess server = ServerProcess.start(args);
          ConversationClient alice = client(server.target(), ALICE);
          ConversationClient bob = client(server.target(), BOB)) {
        bob.append("bobs-after-restart", List.of("{}"));
        assertThat(alice.append("thread", List.of("{\"after\":\"restart\"}")).getVersion()).isEqualTo(last + 1);
      }
    }
  }

  /**
   * Two servers on one database: alice writes through the first, bob through the second; then a busy bob (200
   * writes from 4 clients on both servers) in between alice's writes, which still each move her version by one.
   * After both servers restart alice's counter goes on where it was.
   */
  @Test
  void onPostgresAnotherTenantsWritesThroughAnotherServerNeverShow() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(2, authArgs().toArray(String[]::new))) {
      long last = aliceSeesOnlyHerOwnWrites(fleet.server(0).target(), fleet.server(1).target());
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try (ConversationClient alice = client(fleet.server(0).target(), ALICE)) {
        for (int round = 0; round < 5; round++) {
          List<Future<?>> bobs = new ArrayList<>();
          for (int w = 0; w < 4; w++) {
            String target = fleet.server(w % 2).target();
            String thread = "bob-" + w;
            bobs.add(pool.submit(() -> {
              try (ConversationClient bob = client(target, BOB)) {
                for (int i = 0; i < 10; i++) {
                  bob.append(thread, List.of("{}"));
                }
              }
              return null;
            }));
          }
          long next = alice.append("thread", List.of("{\"round\":" + round + "}")).getVersion();
          assertThat(next).as("alice's version in round %d, bob writing meanwhile", round).isEqualTo(last + 1);
          last = next;
          for (Future<?> f : bobs) {
            f.get(60, TimeUnit.SECONDS);
          }
        }
      } finally {
        pool.shutdownNow();
      }
      fleet.restartOnSamePort(0);
      fleet.restartOnSamePort(1);
      try (ConversationClient alice = client(fleet.server(1).target(), ALICE);
          ConversationClient bob = client(fleet.server(0).target(), BOB)) {
        bob.append("bobs-after-restart", List.of("{}"));
        assertThat(alice.append("thread", List.of("{\"after\":\"restart\"}")).getVersion()).isEqualTo(last + 1);
      }
      assertThat(fleet.psql("SELECT revision FROM tenants WHERE tenant = 'alice'")).isEqualTo(Long.toString(last + 1));
    }
  }

  /**
   * Alice writes, bob writes five times (on {@code bobTarget}), alice writes again: her next version is her
   * previous one plus one. Then her thread is cleared and created again: its versions are above every version it
   * had, so a client holding an old one is refused. Returns alice's last version.
   */
  private static long aliceSeesOnlyHerOwnWrites(String aliceTarget, String bobTarget) {
    try (ConversationClient alice = client(aliceTarget, ALICE); ConversationClient bob = client(bobTarget, BOB)) {
      long first = alice.save("thread", List.of("{\"n\":1}")).getVersion();
      bob.save("thread", List.of("{}"));
      bob.append("thread", List.of("{}"));
      bob.updateCache("thread", Map.of("input_tokens", 3L));
      bob.append("other", List.of("{}"));
      bob.clear("other");
      long second = alice.append("thread", List.of("{\"n\":2}")).getVersion();
      assertThat(second).as("alice's next version, after 5 writes of bob's").isEqualTo(first + 1);
      long third = alice.updateCache("thread", Map.of("input_tokens", 1L)).getVersion();
      assertThat(third).isEqualTo(second + 1);

      // Clear and create again: the new thread's versions are all above the old thread's.
      assertThat(alice.clear("thread")).isTrue();
      bob.append("thread", List.of("{}"));
      long recreated = alice.append("thread", List.of("{\"n\":\"again\"}")).getVersion();
      assertThat(recreated).isEqualTo(third + 2); // the Clear took one version, bob's Append none of alice's
      // A client that still holds a version of the old thread is refused, whichever it holds.
      for (long stale : List.of(first, second, third)) {
        assertThatThrownBy(() -> alice.append(AppendRequest.newBuilder().setThreadId("thread")
            .setExpectedVersion(stale).addMessages(Message.newBuilder().setJson("{}")).build()))
            .isInstanceOfSatisfying(ConversationStoreException.class, e -> {
              assertThat(e.code()).isEqualTo(Status.Code.ABORTED);
              assertThat(e.reason()).isEqualTo("VERSION_MISMATCH");
            });
      }
      // List: alice's conversations carry only her versions.
      assertThat(alice.list()).extracting(c -> c.getVersion()).containsExactly(recreated);
      return recreated;
    }
  }
}

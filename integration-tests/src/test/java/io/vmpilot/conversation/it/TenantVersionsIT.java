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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Versions tell a tenant nothing about other tenants (issue 23, finding 7): each tenant's versions move only with
 * its own writes, and still never repeat for a thread, across Clear, re-creation and restarts. Two tenants with
 * tokens, against the real server on SQLite and memory (not yet PostgreSQL, which still has one store-wide
 * sequence).
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

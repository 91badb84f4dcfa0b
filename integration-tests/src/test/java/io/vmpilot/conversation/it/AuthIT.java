package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import io.vmpilot.conversation.client.BearerToken;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import io.vmpilot.conversation.client.VersionConflictException;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.ConversationSummary;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authentication and tenant isolation against the real server process: alice's token is in a tokens file
 * (written with the server's own {@code --hash-token}), bob's in {@code VMPILOT_AUTH_TOKENS}.
 */
class AuthIT {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final String ALICE_TOKEN = "alice-7Qm2p9ZkVt4xWc8rHn3s";
  static final String BOB_TOKEN = "bob-K5vL1dR8yT2uE6oJ0aSf";

  @TempDir
  Path dir;

  /** Runs {@code conversation-server --hash-token TENANT} with the token on standard input. */
  static String hashLine(String tenant, String token) throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        ServerProcess.serverJar().toAbsolutePath().toString(), "--hash-token", tenant).start();
    try (OutputStream in = p.getOutputStream()) {
      in.write((token + "\n").getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("--hash-token failed: %s", err).isZero();
    assertThat(out + err).doesNotContain(token);
    return out.strip();
  }

  /** A server with auth on: alice from a tokens file, bob from the environment. */
  ServerProcess startServer(Path db, String... extraArgs) throws Exception {
    Path tokens = dir.resolve("tokens.txt");
    if (!Files.exists(tokens)) {
      Files.writeString(tokens, "# test tenants\n" + hashLine("alice", ALICE_TOKEN) + "  # alice's agent\n");
    }
    List<String> args = new java.util.ArrayList<>(List.of("--database-path", db.toString(),
        "--auth-enabled", "true", "--auth-tokens-file", tokens.toString()));
    args.addAll(List.of(extraArgs));
    return ServerProcess.start(args, null, Map.of("VMPILOT_AUTH_TOKENS", "bob=" + BOB_TOKEN));
  }

  static ConversationClient client(ServerProcess server, String token) {
    ConversationClient.Builder b = ConversationClient.builder(server.target()).maxAttempts(1);
    return token == null ? b.build() : b.bearerToken(token).build();
  }

  private static Message msg(String json) {
    return ConversationClient.message(json);
  }

  @Test
  void hashTokenPrintsTheSha256sumOfTheToken() throws Exception {
    String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(ALICE_TOKEN.getBytes(StandardCharsets.UTF_8)));
    assertThat(hashLine("alice", ALICE_TOKEN)).isEqualTo("alice sha256:" + hex);
  }

  @Test
  void missingOrWrongTokensAreUnauthenticatedAndHealthNeedsNone() throws Exception {
    try (ServerProcess server = startServer(dir.resolve("auth.db"));
        ConversationClient anonymous = client(server, null);
        ConversationClient wrong = client(server, "mallory-guess");
        ConversationClient alice = client(server, ALICE_TOKEN)) {
      assertThat(server.output()).contains("auth=on tenants=2 tokens=2");

      assertThatThrownBy(() -> anonymous.save("t", List.of("{}")))
          .isInstanceOfSatisfying(ConversationStoreException.class, e -> {
            assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(e.reason()).isEqualTo("UNAUTHENTICATED");
          });
      assertThatThrownBy(() -> anonymous.get("t"))
          .isInstanceOfSatisfying(ConversationStoreException.class,
              e -> assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED));
      assertThatThrownBy(() -> wrong.list().iterator().hasNext())
          .isInstanceOfSatisfying(ConversationStoreException.class, e -> {
            assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(e.reason()).isEqualTo("INVALID_TOKEN");
          });
      assertThatThrownBy(() -> wrong.append("t", List.of("{}")))
          .isInstanceOfSatisfying(ConversationStoreException.class,
              e -> assertThat(e.reason()).isEqualTo("INVALID_TOKEN"));

      ManagedChannel plain = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
      try {
        assertThat(HealthGrpc.newBlockingStub(plain).withDeadlineAfter(10, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(ServingStatus.SERVING);
        // Raw stubs authenticate with the client's BearerToken call credentials.
        assertThat(ConversationServiceGrpc.newBlockingStub(plain).withCallCredentials(new BearerToken(BOB_TOKEN))
            .withDeadlineAfter(10, TimeUnit.SECONDS).list(ListRequest.getDefaultInstance()).getConversationsCount())
            .isZero();
      } finally {
        plain.shutdownNow();
      }

      // Nothing was stored by the refused calls.
      assertThat(alice.get("t")).isEmpty();
      assertThat(server.output()).doesNotContain(ALICE_TOKEN).doesNotContain(BOB_TOKEN).doesNotContain("mallory");
    }
  }

  /**
   * A call carrying two authorization headers is refused, whichever order they come in: before, the last one's
   * tenant was served, so a proxy that adds its own header could be overridden by the caller's.
   */
  @Test
  void twoAuthorizationHeadersAreRefused() throws Exception {
    try (ServerProcess server = startServer(dir.resolve("two-headers.db"))) {
      ManagedChannel plain = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
      try {
        for (List<String> tokens : List.of(List.of(ALICE_TOKEN, BOB_TOKEN), List.of(BOB_TOKEN, ALICE_TOKEN),
            List.of(ALICE_TOKEN, ALICE_TOKEN))) {
          Metadata headers = new Metadata();
          for (String token : tokens) {
            headers.put(AUTHORIZATION, "Bearer " + token);
          }
          assertThatThrownBy(() -> ConversationServiceGrpc.newBlockingStub(plain)
              .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
              .withDeadlineAfter(10, TimeUnit.SECONDS).list(ListRequest.getDefaultInstance()))
              .satisfies(e -> {
                assertThat(Rpc.code(e)).isEqualTo(Status.Code.UNAUTHENTICATED);
                assertThat(Rpc.errorInfo(e)).hasValueSatisfying(
                    info -> assertThat(info.getReason()).isEqualTo("UNAUTHENTICATED"));
              });
        }
      } finally {
        plain.shutdownNow();
      }
    }
  }

  @Test
  void theSameThreadIdInTwoTenantsIsTwoConversationsAcrossARestart() throws Exception {
    Path db = dir.resolve("tenants.db");
    try (ServerProcess server = startServer(db);
        ConversationClient alice = client(server, ALICE_TOKEN);
        ConversationClient bob = client(server, BOB_TOKEN)) {
      long aliceVersion = alice.save(SaveRequest.newBuilder().setThreadId("shared")
          .addMessages(msg("{\"who\":\"alice\"}")).putMetadata("project_root", "/p").build()).getVersion();
      assertThat(bob.get("shared")).isEmpty();
      // Versions are per tenant: two writes of bob's first, so that his "shared" has a version alice's has not.
      bob.save("bob-first", List.of("{}"));
      bob.clear("bob-first");
      var bobSaved = bob.save(SaveRequest.newBuilder().setThreadId("shared")
          .addMessages(msg("{\"who\":\"bob\"}")).addMessages(msg("{\"who\":\"bob\",\"n\":2}"))
          .putMetadata("project_root", "/p").build());
      assertThat(bobSaved.getCreated()).isTrue();
      long bobVersion = bobSaved.getVersion();
      assertThat(bobVersion).isNotEqualTo(aliceVersion);
      alice.save("alice-only", List.of("{\"x\":1}"));

      // expected_version is checked against the caller's own conversation, never the other tenant's.
      assertThatThrownBy(() -> bob.append(AppendRequest.newBuilder().setThreadId("shared")
          .addMessages(msg("{\"n\":3}")).setExpectedVersion(aliceVersion).build()))
          .isInstanceOf(VersionConflictException.class);
      assertThatThrownBy(() -> alice.updateCache(UpdateCacheRequest.newBuilder().setThreadId("shared")
          .putCacheInfo("input_tokens", 1).setExpectedVersion(bobVersion).build()))
          .isInstanceOf(VersionConflictException.class);
      assertThatThrownBy(() -> bob.clear(ClearRequest.newBuilder().setThreadId("shared")
          .setExpectedVersion(aliceVersion).build())).isInstanceOf(VersionConflictException.class);
      // Expecting "does not exist" (0) fails for bob too: his own conversation exists.
      assertThatThrownBy(() -> bob.save(SaveRequest.newBuilder().setThreadId("shared").setExpectedVersion(0).build()))
          .isInstanceOf(VersionConflictException.class);
      assertThat(bob.append(AppendRequest.newBuilder().setThreadId("shared")
          .addMessages(msg("{\"n\":3}")).setExpectedVersion(bobVersion).build()).getMessageCount()).isEqualTo(3);

      assertThat(bob.get("alice-only")).isEmpty();
      assertThat(bob.clear("alice-only")).isFalse();
      assertIsolated(alice, bob);

      // Clear removes only the caller's conversation.
      assertThat(bob.clear("shared")).isTrue();
      assertThat(bob.get("shared")).isEmpty();
      assertThat(alice.get("shared")).map(c -> c.getMessagesCount()).contains(1);
      bob.save(SaveRequest.newBuilder().setThreadId("shared").addMessages(msg("{\"who\":\"bob\",\"again\":true}"))
          .putMetadata("project_root", "/p").build());
      bob.append("shared", List.of("{\"n\":2}"));
    }
    try (ServerProcess server = startServer(db);
        ConversationClient alice = client(server, ALICE_TOKEN);
        ConversationClient bob = client(server, BOB_TOKEN)) {
      assertThat(bob.get("shared").orElseThrow().getMessages(0).getJson()).isEqualTo("{\"who\":\"bob\",\"again\":true}");
      assertIsolated(alice, bob);
    }
  }

  private static void assertIsolated(ConversationClient alice, ConversationClient bob) {
    assertThat(alice.get("shared").orElseThrow().getMessagesList()).extracting(Message::getJson)
        .containsExactly("{\"who\":\"alice\"}");
    assertThat(bob.get("shared").orElseThrow().getMessageCount()).isEqualTo(bob.get("shared").orElseThrow()
        .getMessagesCount());
    assertThat(bob.get("shared").orElseThrow().getMessages(0).getJson()).contains("\"who\":\"bob\"");
    assertThat(threadIds(alice.list())).containsExactlyInAnyOrder("shared", "alice-only");
    assertThat(threadIds(bob.list())).containsExactly("shared");
    assertThat(threadIds(bob.list(Map.of("project_root", "/p")))).containsOnly("shared");
    Optional<ConversationSummary> aliceShared = StreamSupport.stream(alice.list().spliterator(), false)
        .filter(s -> s.getThreadId().equals("shared")).findFirst();
    assertThat(aliceShared.orElseThrow().getMessageCount()).isEqualTo(1);
  }

  private static List<String> threadIds(Iterable<ConversationSummary> summaries) {
    return StreamSupport.stream(summaries.spliterator(), false).map(ConversationSummary::getThreadId).toList();
  }
}

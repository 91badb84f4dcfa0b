package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS and mutual TLS against the real server process, with certificates made at test time by the JDK's
 * keytool (see {@link TestCertificates}).
 */
class TlsIT {
  @TempDir
  static Path dir;

  static TestCertificates certs;

  @BeforeAll
  static void makeCertificates() throws Exception {
    certs = TestCertificates.create(dir);
  }

  private static ConversationClient.Builder client(ServerProcess server) {
    return ConversationClient.builder("localhost:" + server.port()).maxAttempts(1).deadline(Duration.ofSeconds(20));
  }

  private static void assertRefused(ConversationClient client, Status.Code... codes) {
    assertThatThrownBy(() -> client.save("refused", List.of("{}")))
        .isInstanceOfSatisfying(ConversationStoreException.class, e -> assertThat(e.code()).isIn((Object[]) codes));
  }

  @Test
  void serverTlsWithBearerTokens() throws Exception {
    try (ServerProcess server = ServerProcess.start(List.of("--database-enabled", "false",
            "--tls-cert", certs.serverCert.toString(), "--tls-key", certs.serverKey.toString(),
            "--auth-enabled", "true"), null, Map.of("VMPILOT_AUTH_TOKENS", "alice=tls-alice-token"));
        ConversationClient alice = client(server).tls(certs.caCert).bearerToken("tls-alice-token").build();
        ConversationClient byIp = ConversationClient.builder(server.target()).maxAttempts(1).tls(certs.caCert)
            .bearerToken("tls-alice-token").build();
        ConversationClient noToken = client(server).tls(certs.caCert).build();
        ConversationClient plaintext = client(server).bearerToken("tls-alice-token").build();
        ConversationClient otherCa = client(server).tls(certs.otherCaCert).bearerToken("tls-alice-token").build();
        ConversationClient systemRoots = client(server).useTransportSecurity().bearerToken("tls-alice-token")
            .build()) {
      assertThat(server.output()).contains("tls=on auth=on");

      assertThat(alice.save("t", List.of("{\"over\":\"tls\"}")).getCreated()).isTrue();
      assertThat(alice.get("t").orElseThrow().getMessages(0).getJson()).isEqualTo("{\"over\":\"tls\"}");
      // The certificate names 127.0.0.1 too.
      assertThat(byIp.get("t")).isPresent();

      assertRefused(noToken, Status.Code.UNAUTHENTICATED);
      // A plaintext client cannot talk to a TLS server; a client that does not trust the server's CA refuses it.
      assertRefused(plaintext, Status.Code.UNAVAILABLE, Status.Code.INTERNAL);
      assertRefused(otherCa, Status.Code.UNAVAILABLE);
      assertRefused(systemRoots, Status.Code.UNAVAILABLE);

      // Health over TLS needs no token.
      ManagedChannel channel = Grpc.newChannelBuilder("localhost:" + server.port(),
          TlsChannelCredentials.newBuilder().trustManager(certs.caCert.toFile()).build()).build();
      try {
        assertThat(HealthGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(ServingStatus.SERVING);
      } finally {
        channel.shutdownNow();
      }
      assertThat(alice.get("refused")).isEmpty();
    }
  }

  @Test
  void mutualTlsRefusesClientsWithoutATrustedCertificate() throws Exception {
    try (ServerProcess server = ServerProcess.startSqlite(dir.resolve("mtls.db"),
            "--tls-cert", certs.serverCert.toString(), "--tls-key", certs.serverKey.toString(),
            "--tls-client-ca", certs.caCert.toString());
        ConversationClient withCert = client(server).tls(certs.caCert)
            .clientCertificate(certs.clientCert, certs.clientKey).build();
        ConversationClient withoutCert = client(server).tls(certs.caCert).build();
        ConversationClient foreignCert = client(server).tls(certs.caCert)
            .clientCertificate(certs.otherClientCert, certs.otherClientKey).build();
        ConversationClient plaintext = client(server).build()) {
      assertThat(server.output()).contains("tls=mutual auth=off");

      assertThat(withCert.append("m", List.of("{\"mutual\":true}")).getCreated()).isTrue();
      assertThat(withCert.get("m").orElseThrow().getMessagesCount()).isEqualTo(1);

      assertRefused(withoutCert, Status.Code.UNAVAILABLE);
      assertRefused(foreignCert, Status.Code.UNAVAILABLE);
      assertRefused(plaintext, Status.Code.UNAVAILABLE, Status.Code.INTERNAL);
      assertThat(withCert.get("refused")).isEmpty();
    }
  }

  @Test
  void aBadKeyStopsTheServerWithAClearMessage() throws Exception {
    assertThatThrownBy(() -> ServerProcess.start(List.of("--database-enabled", "false",
            "--tls-cert", certs.serverCert.toString(), "--tls-key", certs.caCert.toString())))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("conversation-server: cannot set up transport security");
    assertThatThrownBy(() -> ServerProcess.start(List.of("--database-enabled", "false",
            "--tls-cert", certs.serverCert.toString(), "--tls-key", dir.resolve("missing.key").toString())))
        .hasMessageContaining("cannot read");
  }

  @Test
  void grpcurlSpeaksMutualTlsWithABearerToken() throws Exception {
    String grpcurl = ExternalCommand.repoRoot().resolve(".tools/bin/grpcurl").toString();
    try (ServerProcess server = ServerProcess.start(List.of("--database-enabled", "false",
            "--tls-cert", certs.serverCert.toString(), "--tls-key", certs.serverKey.toString(),
            "--tls-client-ca", certs.caCert.toString(), "--auth-enabled", "true"), null,
        Map.of("VMPILOT_AUTH_TOKENS", "alice=grpcurl-alice-token"))) {
      String address = "localhost:" + server.port();
      ExternalCommand saved = ExternalCommand.run(2, grpcurl, "-cacert", certs.caCert.toString(),
          "-cert", certs.clientCert.toString(), "-key", certs.clientKey.toString(),
          "-H", "authorization: Bearer grpcurl-alice-token",
          "-d", "{\"thread_id\": \"tls\", \"messages\": [{\"json\": \"{\\\"a\\\": 1}\"}]}",
          address, "vmpilot.conversation.v1.ConversationService/Save");
      assertThat(saved.exitCode()).as(saved.output()).isZero();
      assertThat(saved.output()).contains("\"created\": true");

      ExternalCommand noToken = ExternalCommand.run(2, grpcurl, "-cacert", certs.caCert.toString(),
          "-cert", certs.clientCert.toString(), "-key", certs.clientKey.toString(), address, "list");
      assertThat(noToken.exitCode()).isNotZero();
      assertThat(noToken.output()).contains("Unauthenticated");

      ExternalCommand noCertificate = ExternalCommand.run(2, grpcurl, "-cacert", certs.caCert.toString(),
          "-H", "authorization: Bearer grpcurl-alice-token", address, "list");
      assertThat(noCertificate.exitCode()).isNotZero();
    }
  }
}

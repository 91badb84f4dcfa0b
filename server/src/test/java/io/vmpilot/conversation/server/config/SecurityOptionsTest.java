package io.vmpilot.conversation.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.auth.TenantTokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The [auth], TLS and per-tenant limit settings: from flags, config file and environment, and their checks. */
class SecurityOptionsTest {
  @TempDir
  Path dir;

  private ServerConfig config(Map<String, String> env, String... args) {
    ServerOptions options = new ServerOptions();
    ConfigLoader.commandLine(options, args, env).parseArgs(args);
    return options.toConfig(ConfigLoader.configFile(args), env);
  }

  @Test
  void defaultsAreNoAuthNoTlsAndAMillionConversationsPerTenant() {
    ServerConfig c = config(Map.of());
    assertThat(c.authEnabled()).isFalse();
    assertThat(c.tokens().isEmpty()).isTrue();
    assertThat(c.tls().enabled()).isFalse();
    assertThat(c.maxConversationsPerTenant()).isEqualTo(1_000_000);
    assertThat(c.sqlite().maxConversationsPerTenant()).isEqualTo(1_000_000);
  }

  @Test
  void authFromTheConfigFileWithTokensFromFileAndEnvironment() throws Exception {
    Path tokens = dir.resolve("tokens.txt");
    Files.writeString(tokens, "# comment\n" + TenantTokens.hashLine("alice", "a-token") + "\n");
    Path ini = dir.resolve("config.ini");
    Files.writeString(ini, "[auth]\nenabled = true\ntokens_file = " + tokens + "\n"
        + "[server]\ntls_cert = " + dir.resolve("c.pem") + "\ntls_key = " + dir.resolve("k.pem") + "\n"
        + "[limits]\nmax_conversations_per_tenant = 7\n");
    ServerConfig c = config(Map.of("VMPILOT_AUTH_TOKENS", "bob=b-token"), "--config", ini.toString());
    assertThat(c.authEnabled()).isTrue();
    assertThat(c.tokens().tenantOf("a-token")).contains("alice");
    assertThat(c.tokens().tenantOf("b-token")).contains("bob");
    assertThat(c.tls().certificateChain()).isEqualTo(dir.resolve("c.pem"));
    assertThat(c.tls().privateKey()).isEqualTo(dir.resolve("k.pem"));
    assertThat(c.tls().clientCertificatesRequired()).isFalse();
    assertThat(c.maxConversationsPerTenant()).isEqualTo(7);
  }

  @Test
  void authOnWithoutAnyTokenIsRefused() {
    assertThatThrownBy(() -> config(Map.of(), "--auth-enabled", "true"))
        .hasMessageContaining("no token is configured");
    assertThatThrownBy(() -> config(Map.of("VMPILOT_AUTH_ENABLED", "true")))
        .hasMessageContaining("no token is configured");
  }

  @Test
  void tlsFilesMustComeTogether() {
    assertThatThrownBy(() -> config(Map.of(), "--tls-cert", "c.pem")).hasMessageContaining("both");
    assertThatThrownBy(() -> config(Map.of(), "--tls-key", "k.pem")).hasMessageContaining("both");
    assertThatThrownBy(() -> config(Map.of(), "--tls-client-ca", "ca.pem")).hasMessageContaining("needs --tls-cert");
    ServerConfig mutual = config(Map.of(), "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-client-ca", "ca.pem");
    assertThat(mutual.tls().clientCertificatesRequired()).isTrue();
  }

  @Test
  void conversationLimitMustBePositive() {
    assertThatThrownBy(() -> config(Map.of(), "--max-conversations-per-tenant", "0"))
        .hasMessageContaining("--max-conversations-per-tenant must be positive");
  }
}

package io.vmpilot.conversation.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TenantTokensTest {
  // printf %s 'alice-secret' | sha256sum
  private static final String ALICE_HASH = "0c848abb03307b06cf70cd4e29c157dc81af5e94ab3eb1d0c59a120269572376";

  @TempDir
  Path dir;

  @Test
  void hashLineIsTheSha256OfTheTokensUtf8Bytes() throws Exception {
    String line = TenantTokens.hashLine("alice", "alice-secret");
    String hex = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
        .digest("alice-secret".getBytes(StandardCharsets.UTF_8)));
    assertThat(line).isEqualTo("alice sha256:" + hex);
    assertThat(line).isEqualTo("alice sha256:" + ALICE_HASH);
    assertThat(TenantTokens.parseFile("f", List.of(line)).tenantOf("alice-secret")).contains("alice");
  }

  @Test
  void fileWithCommentsBlankLinesAndSeveralTokensPerTenant() throws Exception {
    Path file = dir.resolve("tokens");
    Files.write(file, List.of(
        "# tenants of the shared deployment",
        "",
        TenantTokens.hashLine("alice", "alice-1") + "   # laptop",
        "   " + TenantTokens.hashLine("alice", "alice-2"),
        TenantTokens.hashLine("bob", "bob-1").toUpperCase().replace("BOB SHA256", "bob sha256"),
        "\t# indented comment"));
    TenantTokens tokens = TenantTokens.load(file, null);
    assertThat(tokens.size()).isEqualTo(3);
    assertThat(tokens.tenants()).containsExactly("alice", "bob");
    assertThat(tokens.tenantOf("alice-1")).contains("alice");
    assertThat(tokens.tenantOf("alice-2")).contains("alice");
    assertThat(tokens.tenantOf("bob-1")).contains("bob");
    assertThat(tokens.tenantOf("bob-2")).isEmpty();
    assertThat(tokens.tenantOf("")).isEmpty();
    assertThat(tokens.tenantOf(TenantTokens.hashLine("alice", "alice-1").substring("alice sha256:".length())))
        .as("the hash itself is not a token").isEmpty();
  }

  @Test
  void environmentValueIsHashedAtLoadAndMergedWithTheFile() throws Exception {
    Path file = dir.resolve("tokens");
    Files.writeString(file, TenantTokens.hashLine("alice", "alice-1") + "\n");
    TenantTokens tokens = TenantTokens.load(file, " bob=bob-token , carol=c=with=equals ,");
    assertThat(tokens.tenants()).containsExactly("alice", "bob", "carol");
    assertThat(tokens.tenantOf("bob-token")).contains("bob");
    assertThat(tokens.tenantOf("c=with=equals")).contains("carol");
    assertThat(tokens.tenantOf("alice-1")).contains("alice");
    assertThat(TenantTokens.load(null, "").isEmpty()).isTrue();
    assertThat(TenantTokens.load(null, null).isEmpty()).isTrue();
  }

  @Test
  void malformedLinesAreReportedWithTheirLineNumberButNeverTheSecret() {
    assertThatThrownBy(() -> TenantTokens.parseFile("tokens.txt", List.of("# ok", "alice")))
        .hasMessageContaining("tokens.txt line 2").hasMessageContaining("two fields");
    assertThatThrownBy(() -> TenantTokens.parseFile("tokens.txt", List.of("alice sha256:abc")))
        .hasMessageContaining("line 1").hasMessageContaining("64 hex");
    assertThatThrownBy(() -> TenantTokens.parseFile("tokens.txt", List.of("alice " + ALICE_HASH)))
        .as("plain hex without the sha256: prefix").hasMessageContaining("sha256:");
    assertThatThrownBy(() -> TenantTokens.parseFile("t", List.of("ali/ce sha256:" + ALICE_HASH)))
        .hasMessageContaining("tenant name");
    assertThatThrownBy(() -> TenantTokens.parseEnvironment("alice"))
        .hasMessageContaining("VMPILOT_AUTH_TOKENS entry 1").hasMessageContaining("tenant=token");
    assertThatThrownBy(() -> TenantTokens.parseEnvironment("alice=ok-token,bob="))
        .hasMessageContaining("entry 2").hasMessageContaining("empty").hasMessageNotContaining("ok-token");
    assertThatThrownBy(() -> TenantTokens.parseEnvironment("alice=has space"))
        .hasMessageContaining("white space").hasMessageNotContaining("has space");
    assertThatThrownBy(() -> TenantTokens.load(dir.resolve("missing"), null))
        .hasMessageContaining("cannot read the tokens file");
  }

  @Test
  void oneTokenCannotBelongToTwoTenants() {
    assertThatThrownBy(() -> TenantTokens.parseEnvironment("alice=same-token,bob=same-token"))
        .hasMessageContaining("another tenant").hasMessageNotContaining("same-token");
    // The same token twice for the same tenant is harmless.
    assertThat(TenantTokens.parseEnvironment("alice=t1,alice=t1").size()).isEqualTo(1);
  }
}

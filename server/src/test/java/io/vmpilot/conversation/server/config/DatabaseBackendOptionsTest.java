package io.vmpilot.conversation.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.store.postgres.PostgresSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** [database] backend and the PostgreSQL settings, through the real command line, environment and config file. */
class DatabaseBackendOptionsTest {
  @TempDir
  Path dir;

  private static ServerConfig load(Map<String, String> env, String... args) {
    ServerOptions options = new ServerOptions();
    CommandLine cl = ConfigLoader.commandLine(options, args, env);
    cl.parseArgs(args);
    return options.toConfig(ConfigLoader.configFile(args), env);
  }

  private String[] withConfig(String ini, String... more) throws IOException {
    Path file = dir.resolve("config.ini");
    Files.writeString(file, ini);
    List<String> all = new ArrayList<>(List.of("--config", file.toString()));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  @Test
  void theSeedsEnabledFlagStillChoosesBetweenSqliteAndMemory() throws IOException {
    assertThat(load(Map.of(), withConfig("[database]\nenabled = true\n")).backend()).isEqualTo(StoreBackend.SQLITE);
    assertThat(load(Map.of(), withConfig("[database]\nenabled = false\n")).backend()).isEqualTo(StoreBackend.MEMORY);
    assertThat(load(Map.of(), withConfig("[database]\nbackend = memory\n")).backend()).isEqualTo(StoreBackend.MEMORY);
    assertThatThrownBy(() -> load(Map.of(), withConfig("[database]\nenabled = false\nbackend = postgres\n")))
        .hasMessageContaining("enabled = false");
    assertThatThrownBy(() -> load(Map.of(), "--database-backend", "oracle")).hasMessageContaining("sqlite, memory or postgres");
  }

  @Test
  void postgresFromTheConfigFileWithThePasswordFromTheEnvironment() throws IOException {
    ServerConfig c = load(Map.of("VMPILOT_DATABASE_PASSWORD", "from-env", "VMPILOT_DATABASE_POOL_SIZE", "7"),
        withConfig("""
            [database]
            backend = postgres
            url = postgresql://conv@db.example.com:5432/conversations
            statement_timeout_ms = 1500
            """, "--database-connect-timeout-ms", "2500"));
    assertThat(c.backend()).isEqualTo(StoreBackend.POSTGRES);
    assertThat(c.backendName()).isEqualTo("postgres");
    assertThat(c.databaseEnabled()).isTrue();
    PostgresSettings pg = c.postgres();
    assertThat(pg.url()).isEqualTo("postgresql://conv@db.example.com:5432/conversations");
    assertThat(pg.password()).contains("from-env");
    assertThat(pg.poolSize()).isEqualTo(7);
    assertThat(pg.connectTimeout()).isEqualTo(Duration.ofMillis(2500));
    assertThat(pg.statementTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(pg.toString()).doesNotContain("from-env");
  }

  @Test
  void thePasswordFileLosesItsLineBreakAndTheEnvironmentWins() throws IOException {
    Path secret = dir.resolve("pw");
    Files.writeString(secret, "file-secret\n");
    String[] args = {"--database-backend", "postgres", "--database-url", "postgresql://db/c",
        "--database-password-file", secret.toString(), "--database-user", "someone"};
    PostgresSettings fromFile = load(Map.of(), args).postgres();
    assertThat(fromFile.password()).contains("file-secret");
    assertThat(fromFile.user()).contains("someone");
    assertThat(load(Map.of("VMPILOT_DATABASE_PASSWORD", "env"), args).postgres().password()).contains("env");
  }

  @Test
  void postgresNeedsAUrlAndSaneNumbers() {
    assertThatThrownBy(() -> load(Map.of(), "--database-backend", "postgres")).hasMessageContaining("--database-url");
    assertThatThrownBy(() -> load(Map.of(), "--database-backend", "postgres", "--database-url", "postgresql://db/c",
        "--database-pool-size", "0")).hasMessageContaining("pool-size");
    assertThatThrownBy(() -> load(Map.of(), "--database-backend", "postgres", "--database-url", "http://db/c"))
        .hasMessageContaining("postgresql://");
    assertThatThrownBy(() -> load(Map.of(), "--database-backend", "postgres", "--database-url", "postgresql://db/c",
        "--database-password-file", "/nonexistent/pw")).hasMessageContaining("password file");
  }
}

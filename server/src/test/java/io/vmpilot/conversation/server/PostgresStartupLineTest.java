package io.vmpilot.conversation.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.config.ConfigLoader;
import io.vmpilot.conversation.server.config.ServerConfig;
import io.vmpilot.conversation.server.config.ServerOptions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class PostgresStartupLineTest {
  @Test
  void theStartupLineNamesTheDatabaseButNotThePassword() {
    String[] args = {"--database-backend", "postgres", "--database-url", "postgresql://conv:hunter2@db:5432/c",
        "--database-pool-size", "3"};
    ServerOptions options = new ServerOptions();
    CommandLine cl = ConfigLoader.commandLine(options, args, Map.of());
    cl.parseArgs(args);
    ServerConfig config = options.toConfig(null, Map.of());
    assertThat(Main.startupLine(config, 5000, null))
        .contains("listening on 127.0.0.1:5000 backend=postgres database=postgresql://conv:***@db:5432/c pool_size=3")
        .doesNotContain("hunter2");
  }
}

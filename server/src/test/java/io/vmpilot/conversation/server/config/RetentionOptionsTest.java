package io.vmpilot.conversation.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code [retention] max_idle}: off by default, flag over environment over file, bad values refused by name. */
class RetentionOptionsTest {
  @TempDir
  Path dir;

  private Optional<Duration> load(Map<String, String> env, String iniText, String... args) throws IOException {
    return config(env, iniText, args).retentionMaxIdle();
  }

  private ServerConfig config(Map<String, String> env, String iniText, String... args) throws IOException {
    Path ini = dir.resolve("config.ini");
    Files.writeString(ini, iniText);
    String[] all = new String[args.length + 2];
    all[0] = "--config";
    all[1] = ini.toString();
    System.arraycopy(args, 0, all, 2, args.length);
    ServerOptions options = new ServerOptions();
    CommandLine cl = ConfigLoader.commandLine(options, all, env);
    cl.parseArgs(all);
    return options.toConfig(ConfigLoader.configFile(all), env);
  }

  @Test
  void offByDefault() throws IOException {
    assertThat(load(Map.of(), "")).isEmpty();
  }

  @Test
  void flagThenEnvironmentThenFile() throws IOException {
    String file = "[retention]\nmax_idle = 30d\n";
    assertThat(load(Map.of(), file)).contains(Duration.ofDays(30));
    assertThat(load(Map.of("VMPILOT_RETENTION_MAX_IDLE", "12h"), file)).contains(Duration.ofHours(12));
    assertThat(load(Map.of("VMPILOT_RETENTION_MAX_IDLE", "12h"), file, "--retention-max-idle", "3s"))
        .contains(Duration.ofSeconds(3));
  }

  @Test
  void badValuesAreRefusedByName() {
    for (String bad : new String[] {"0s", "10", "1w", "-1h", "h", "1.5h"}) {
      assertThatThrownBy(() -> load(Map.of(), "", "--retention-max-idle", bad)).as(bad)
          .hasMessageContaining("--retention-max-idle");
    }
  }

  private static final Map<String, String> TOKENS = Map.of("VMPILOT_AUTH_TOKENS", "alice=token-a,bob=token-b");

  @Test
  void tenantsHaveTheirOwnMaxIdleOrNone() throws IOException {
    ServerConfig c = config(TOKENS, "[retention]\nmax_idle = 30d\ntenant_max_idle = alice=7d, bob=off\n",
        "--auth-enabled", "true");
    assertThat(c.retentionTenantMaxIdle()).isEqualTo(Map.of("alice", Optional.of(Duration.ofDays(7)),
        "bob", Optional.empty()));
    assertThat(c.retention().maxIdleOf("alice")).contains(Duration.ofDays(7));
    assertThat(c.retention().maxIdleOf("bob")).isEmpty();
    assertThat(c.retention().maxIdleOf("carol")).contains(Duration.ofDays(30));
    assertThat(config(TOKENS, "", "--auth-enabled", "true").retentionTenantMaxIdle()).isEmpty();
    // The environment wins over the file, as for every setting.
    Map<String, String> env = new java.util.HashMap<>(TOKENS);
    env.put("VMPILOT_RETENTION_TENANT_MAX_IDLE", "bob=1h");
    assertThat(config(env, "[retention]\ntenant_max_idle = alice=7d\n", "--auth-enabled", "true")
        .retentionTenantMaxIdle()).isEqualTo(Map.of("bob", Optional.of(Duration.ofHours(1))));
    // Without authentication the one tenant is "default".
    assertThat(config(Map.of(), "", "--retention-tenant-max-idle", "default=off").retention().expiresIdle())
        .isFalse();
  }

  @Test
  void badTenantMaxIdleIsRefusedByName() {
    for (String bad : new String[] {"alice", "alice=0s", "alice=7", "=7d", "alice=7d,alice=1h", "carol=7d",
        "alice=7d,,bob=1h"}) {
      assertThatThrownBy(() -> config(TOKENS, "", "--auth-enabled", "true", "--retention-tenant-max-idle", bad))
          .as(bad).hasMessageContaining("--retention-tenant-max-idle");
    }
    assertThatThrownBy(() -> config(Map.of(), "", "--retention-tenant-max-idle", "alice=7d"))
        .hasMessageContaining("'default'");
  }
}

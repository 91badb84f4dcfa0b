package io.vmpilot.conversation.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.grpc.WatchSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code [watch] log_retention} and {@code [watch] max_lag_events}: flag, environment, file, defaults, bad values. */
class WatchOptionsTest {
  @TempDir
  Path dir;

  private WatchSettings load(Map<String, String> env, String iniText, String... args) throws IOException {
    Path ini = dir.resolve("config.ini");
    Files.writeString(ini, iniText);
    String[] all = new String[args.length + 2];
    all[0] = "--config";
    all[1] = ini.toString();
    System.arraycopy(args, 0, all, 2, args.length);
    ServerOptions options = new ServerOptions();
    CommandLine cl = ConfigLoader.commandLine(options, all, env);
    cl.parseArgs(all);
    return options.toConfig(ConfigLoader.configFile(all), env).watch();
  }

  @Test
  void defaults() throws IOException {
    assertThat(load(Map.of(), "")).isEqualTo(new WatchSettings(Duration.ofHours(24), 10_000));
  }

  @Test
  void flagThenEnvironmentThenFile() throws IOException {
    String file = "[watch]\nlog_retention = 7d\nmax_lag_events = 50\n";
    assertThat(load(Map.of(), file)).isEqualTo(new WatchSettings(Duration.ofDays(7), 50));
    assertThat(load(Map.of("VMPILOT_WATCH_LOG_RETENTION", "90m", "VMPILOT_WATCH_MAX_LAG_EVENTS", "7"), file))
        .isEqualTo(new WatchSettings(Duration.ofMinutes(90), 7));
    assertThat(load(Map.of("VMPILOT_WATCH_LOG_RETENTION", "90m"), file, "--watch-log-retention", "3s"))
        .isEqualTo(new WatchSettings(Duration.ofSeconds(3), 50));
    assertThat(load(Map.of(), "", "--watch-log-retention", "12h").logRetention()).isEqualTo(Duration.ofHours(12));
  }

  @Test
  void badValuesAreRefusedByName() {
    for (String bad : new String[] {"0s", "10", "1w", "-1h", "h", "1.5h"}) {
      assertThatThrownBy(() -> load(Map.of(), "", "--watch-log-retention", bad)).as(bad)
          .hasMessageContaining("--watch-log-retention");
    }
    assertThatThrownBy(() -> load(Map.of(), "", "--watch-max-lag-events", "0"))
        .hasMessageContaining("--watch-max-lag-events");
  }
}

package io.vmpilot.conversation.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.grpc.RequestLimits;
import io.vmpilot.conversation.server.store.sqlite.Durability;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Flag, then environment, then config file, then default; resolved by the real picocli command line. */
class ConfigLoaderTest {
  @TempDir
  Path dir;

  private Path ini(String... lines) throws IOException {
    Path file = Files.createTempFile(dir, "config", ".ini");
    Files.writeString(file, String.join("\n", lines) + "\n");
    return file;
  }

  private static ServerConfig load(Map<String, String> env, String... args) {
    ServerOptions options = new ServerOptions();
    CommandLine cl = ConfigLoader.commandLine(options, args, env);
    cl.parseArgs(args);
    return options.toConfig(ConfigLoader.configFile(args));
  }

  private static String[] args(Path config, String... more) {
    List<String> all = new ArrayList<>(List.of("--config", config.toString()));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  @Test
  void withNothingSetTheDefaultsApply() throws IOException {
    Path empty = ini("; nothing");
    ServerConfig c = load(Map.of(), args(empty));
    assertThat(c.port()).isEqualTo(50051);
    assertThat(c.bindAddress()).isEqualTo("127.0.0.1");
    assertThat(c.databaseEnabled()).isTrue();
    assertThat(c.backendName()).isEqualTo("sqlite");
    assertThat(c.databasePath()).isEqualTo(Path.of("./data/conversations.db"));
    assertThat(c.durability()).isEqualTo(Durability.FULL);
    assertThat(c.maxHistoryBytes()).isEqualTo(32L << 20);
    assertThat(c.sqlite().maxHistoryBytes()).isEqualTo(32L << 20);
    assertThat(c.sqlite().busyTimeoutMillis()).isEqualTo(5000);
    assertThat(c.maxInboundMessageBytes()).isGreaterThan(32 << 20);
    assertThat(c.requestLimits()).isEqualTo(RequestLimits.DEFAULTS);
    assertThat(c.shutdownGrace()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.configFile()).isEqualTo(empty);
  }

  @Test
  void flagBeatsEnvironmentBeatsFileBeatsDefault() throws IOException {
    Path file = ini(
        "[server]",
        "port = 1111",
        "bind = 10.0.0.1",
        "executor_threads = 7",
        "[database]",
        "path = /from/file.db",
        "durability = normal",
        "[limits]",
        "max_history_bytes = 1000",
        "max_json_depth = 9");
    Map<String, String> env = Map.of(
        "VMPILOT_SERVER_PORT", "2222",
        "VMPILOT_DATABASE_PATH", "/from/env.db",
        "VMPILOT_LIMITS_MAX_JSON_DEPTH", "11");

    ServerConfig all = load(env, args(file, "--port", "3333", "--max-json-depth=13"));
    assertThat(all.port()).isEqualTo(3333); // flag over env and file
    assertThat(all.requestLimits().maxJsonDepth()).isEqualTo(13);
    assertThat(all.databasePath()).isEqualTo(Path.of("/from/env.db")); // env over file
    assertThat(all.bindAddress()).isEqualTo("10.0.0.1"); // file over default
    assertThat(all.executorThreads()).isEqualTo(7);
    assertThat(all.durability()).isEqualTo(Durability.NORMAL);
    assertThat(all.maxHistoryBytes()).isEqualTo(1000);
    assertThat(all.requestLimits().maxMessageBytes()).isEqualTo(8L << 20); // default

    ServerConfig noFlags = load(env, args(file));
    assertThat(noFlags.port()).isEqualTo(2222);
    assertThat(noFlags.requestLimits().maxJsonDepth()).isEqualTo(11);

    ServerConfig fileOnly = load(Map.of(), args(file));
    assertThat(fileOnly.port()).isEqualTo(1111);
    assertThat(fileOnly.databasePath()).isEqualTo(Path.of("/from/file.db"));
    assertThat(fileOnly.requestLimits().maxJsonDepth()).isEqualTo(9);

    ServerConfig envOnly = load(env, args(ini("[server]")));
    assertThat(envOnly.port()).isEqualTo(2222);
    assertThat(envOnly.bindAddress()).isEqualTo("127.0.0.1");

    // Unrelated environment variables are ignored.
    ServerConfig noise = load(Map.of("PORT", "9", "VMPILOT_PORT", "9", "vmpilot_server_port", "9"), args(file));
    assertThat(noise.port()).isEqualTo(1111);
  }

  /** The metrics endpoint needs no token, so it stays on loopback even when the API listens everywhere. */
  @Test
  void theMetricsEndpointListensOnLoopbackUnlessToldOtherwise() throws IOException {
    Path everywhere = ini("[server]", "bind = 0.0.0.0");
    assertThat(load(Map.of(), args(everywhere)).metricsBindAddress()).isEqualTo("127.0.0.1");
    Path file = ini("[metrics]", "bind = 10.0.0.2");
    assertThat(load(Map.of(), args(file)).metricsBindAddress()).isEqualTo("10.0.0.2");
    assertThat(load(Map.of("VMPILOT_METRICS_BIND", "10.0.0.3"), args(file)).metricsBindAddress())
        .isEqualTo("10.0.0.3");
    assertThat(load(Map.of("VMPILOT_METRICS_BIND", "10.0.0.3"), args(file, "--metrics-bind", "0.0.0.0"))
        .metricsBindAddress()).isEqualTo("0.0.0.0");
  }

  @Test
  void theDiskReserveIs64MiBByDefaultAndMayBeOff() throws IOException {
    Path empty = ini("; nothing");
    assertThat(load(Map.of(), args(empty)).sqlite().diskReserveBytes()).isEqualTo(64L << 20);
    assertThat(load(Map.of(), args(ini("[database]", "disk_reserve_bytes = 0"))).sqlite().diskReserveBytes())
        .isZero();
    assertThat(load(Map.of("VMPILOT_DATABASE_DISK_RESERVE_BYTES", "1048576"), args(empty)).sqlite()
        .diskReserveBytes()).isEqualTo(1L << 20);
    assertThatThrownBy(() -> load(Map.of(), args(empty, "--database-disk-reserve-bytes", "-1")))
        .hasMessageContaining("--database-disk-reserve-bytes");
  }

  @Test
  void theConfigFlagTakesBothForms() throws IOException {
    Path file = ini("[server]", "port = 4444");
    ServerConfig c = load(Map.of(), "--config=" + file);
    assertThat(c.port()).isEqualTo(4444);
    assertThat(c.configFile()).isEqualTo(file);
    assertThat(ConfigLoader.configFile(new String[] {"--port", "1", "--config", file.toString()})).isEqualTo(file);
  }

  @Test
  void aNamedConfigFileMustExist() {
    Path missing = dir.resolve("missing.ini");
    assertThatThrownBy(() -> load(Map.of(), "--config", missing.toString()))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("missing.ini");
  }

  @Test
  void aMalformedConfigFileIsAnError() throws IOException {
    Path bad = ini("[server]", "port 50051");
    assertThatThrownBy(() -> load(Map.of(), args(bad))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(":2");
  }

  @Test
  void theSeedsFormatWithEnabledFalseSelectsTheMemoryBackend() throws IOException {
    ServerConfig memory = load(Map.of(), args(ini("[database]", "enabled = false", "path = /app/data/vmpilot.db")));
    assertThat(memory.databaseEnabled()).isFalse();
    assertThat(memory.backendName()).isEqualTo("memory");

    ServerConfig vmpilotExample = load(Map.of(), args(ini("[database]",
        "enabled = true            ; false (the default) = in-memory", "path = /app/data/vmpilot.db")));
    assertThat(vmpilotExample.databaseEnabled()).isTrue();
    assertThat(vmpilotExample.databasePath()).isEqualTo(Path.of("/app/data/vmpilot.db"));

    ServerConfig commented = load(Map.of(), args(ini("[Database]", "Enabled = False ; memory please")));
    assertThat(commented.databaseEnabled()).isFalse();

    ServerConfig envWins = load(Map.of("VMPILOT_DATABASE_ENABLED", "true"), args(ini("[database]", "enabled = false")));
    assertThat(envWins.databaseEnabled()).isTrue();

    ServerConfig flagWins = load(Map.of("VMPILOT_DATABASE_ENABLED", "true"),
        args(ini("[database]", "enabled = true"), "--database-enabled", "false"));
    assertThat(flagWins.databaseEnabled()).isFalse();
  }

  @Test
  void tildeIsExpandedToTheHomeDirectory() throws IOException {
    String home = System.getProperty("user.home");
    ServerConfig fromFlag = load(Map.of(), args(ini("[server]"), "--database-path", "~/.vmpilot/vmpilot.db"));
    assertThat(fromFlag.databasePath()).isEqualTo(Path.of(home, ".vmpilot", "vmpilot.db"));
    ServerConfig fromFile = load(Map.of(), args(ini("[database]", "path = ~/x/y.db")));
    assertThat(fromFile.databasePath()).isEqualTo(Path.of(home, "x", "y.db"));
    ServerConfig fromEnv = load(Map.of("VMPILOT_DATABASE_PATH", "~/e.db"), args(ini("[server]")));
    assertThat(fromEnv.databasePath()).isEqualTo(Path.of(home, "e.db"));

    assertThat(ServerOptions.expandHome("~")).isEqualTo(Path.of(home));
    // Only a leading "~" or "~/" is the home directory.
    assertThat(ServerOptions.expandHome("~other/db")).isEqualTo(Path.of("~other/db"));
    assertThat(ServerOptions.expandHome("/data/~/db")).isEqualTo(Path.of("/data/~/db"));
    assertThat(ServerOptions.expandHome("relative/db")).isEqualTo(Path.of("relative/db"));
  }

  @Test
  void theConfigFileNameHasItsTildeExpandedToo() {
    String home = System.getProperty("user.home");
    assertThat(ConfigLoader.configFile(new String[] {"--config", "~/conf/server.ini"}))
        .isEqualTo(Path.of(home, "conf", "server.ini"));
  }

  @Test
  void durabilityIsFullOrNormalInAnyCase() throws IOException {
    Path file = ini("[server]");
    assertThat(load(Map.of(), args(file, "--database-durability", "normal")).durability()).isEqualTo(Durability.NORMAL);
    assertThat(load(Map.of(), args(file, "--database-durability", "FULL")).durability()).isEqualTo(Durability.FULL);
    assertThat(load(Map.of("VMPILOT_DATABASE_DURABILITY", " Normal "), args(file)).durability())
        .isEqualTo(Durability.NORMAL);
    for (String bad : List.of("fast", "", "off", "fullest")) {
      assertThatThrownBy(() -> load(Map.of(), args(file, "--database-durability", bad)))
          .as("durability '%s'", bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("full")
          .hasMessageContaining("normal");
    }
    assertThatThrownBy(() -> load(Map.of(), args(ini("[database]", "durability = extra"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("extra");
  }

  @Test
  void badNumbersAreRejected() throws IOException {
    Path file = ini("[server]");
    assertThatThrownBy(() -> load(Map.of(), args(file, "--port", "70000")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--port");
    assertThatThrownBy(() -> load(Map.of(), args(file, "--port", "-1")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--port");
    assertThatThrownBy(() -> load(Map.of(), args(file, "--max-history-bytes", "0")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--max-history-bytes");
    assertThatThrownBy(() -> load(Map.of(), args(ini("[server]", "port = lots"))))
        .isInstanceOf(CommandLine.ParameterException.class);
    assertThatThrownBy(() -> load(Map.of("VMPILOT_SERVER_EXECUTOR_THREADS", "0"), args(file)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--executor-threads");
    assertThatThrownBy(() -> load(Map.of(), args(file, "--no-such-flag")))
        .isInstanceOf(CommandLine.UnmatchedArgumentException.class);
    assertThat(load(Map.of(), args(file, "--port", "0")).port()).isZero();
  }

  @Test
  void helpListsEveryOptionWithItsEnvironmentVariableConvention() throws IOException {
    ServerOptions options = new ServerOptions();
    String[] args = args(ini("[server]"), "--help");
    CommandLine cl = ConfigLoader.commandLine(options, args, Map.of());
    cl.parseArgs(args);
    assertThat(cl.isUsageHelpRequested()).isTrue();
    String usage = cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
    for (String option : List.of("--config", "--bind", "--port", "--database-enabled", "--database-path",
        "--database-durability", "--max-history-bytes", "--max-inbound-message-bytes", "--help")) {
      assertThat(usage).contains(option);
    }
    assertThat(usage).contains("VMPILOT_").contains("50051").contains("conversations.db");
  }
}

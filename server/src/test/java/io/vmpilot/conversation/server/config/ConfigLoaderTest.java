package io.vmpilot.conversation.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmpilot.conversation.server.grpc.ConnectionLimits;
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
    assertThat(c.maxInFlightBytes()).isZero();
    assertThat(c.memoryMaxBytes()).isZero();
    assertThat(c.connections()).isEqualTo(ConnectionLimits.DEFAULTS);
  }

  @Test
  void theMemoryBudgetComesFromFlagEnvironmentOrFileAndIsNotNegative() throws IOException {
    Path file = ini("[memory]", "max_bytes = 1000000");
    assertThat(load(Map.of(), args(file)).memoryMaxBytes()).isEqualTo(1_000_000);
    assertThat(load(Map.of("VMPILOT_MEMORY_MAX_BYTES", "2000000"), args(file)).memoryMaxBytes())
        .isEqualTo(2_000_000);
    assertThat(load(Map.of("VMPILOT_MEMORY_MAX_BYTES", "2000000"), args(file, "--memory-max-bytes", "3000000"))
        .memoryMaxBytes()).isEqualTo(3_000_000);
    assertThatThrownBy(() -> load(Map.of(), args(file, "--memory-max-bytes", "-1")))
        .hasMessageContaining("--memory-max-bytes");
  }

  @Test
  void transportLimitsComeFromFlagEnvironmentOrFile() throws IOException {
    Path file = ini(
        "[limits]",
        "max_in_flight_bytes = 1000000",
        "[server]",
        "max_concurrent_calls_per_connection = 7",
        "flow_control_window_bytes = 131072",
        "network_threads = 5",
        "max_connection_idle_seconds = 0");
    Map<String, String> env = Map.of("VMPILOT_SERVER_MAX_CONNECTION_AGE_SECONDS", "120",
        "VMPILOT_SERVER_PERMIT_KEEPALIVE_TIME_SECONDS", "5");
    ServerConfig c = load(env, args(file, "--max-connection-age-grace-seconds", "3", "--max-in-flight-bytes", "2000000",
        "--max-call-seconds", "9"));
    assertThat(c.maxInFlightBytes()).isEqualTo(2_000_000);
    assertThat(c.connections()).isEqualTo(new ConnectionLimits(7, 131072, Duration.ZERO, Duration.ofSeconds(120),
        Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(9), 5));
    assertThat(load(Map.of(), args(ini("[server]"))).connections().networkThreads())
        .isEqualTo(ConnectionLimits.defaultNetworkThreads()).isGreaterThanOrEqualTo(16);
    assertThatThrownBy(() -> load(Map.of(), args(file, "--network-threads", "-1")))
        .hasMessageContaining("--network-threads");
    assertThatThrownBy(() -> load(Map.of(), args(file, "--flow-control-window-bytes", "100")))
        .hasMessageContaining("--flow-control-window-bytes");
    assertThatThrownBy(() -> load(Map.of(), args(file, "--max-in-flight-bytes", "-1")))
        .hasMessageContaining("--max-in-flight-bytes");
    assertThatThrownBy(() -> load(Map.of(), args(file, "--max-call-seconds", "0")))
        .hasMessageContaining("--max-call-seconds");
    assertThatThrownBy(() -> load(Map.of(), args(file, "--max-concurrent-calls-per-connection", "0")))
        .hasMessageContaining("--max-concurrent-calls-per-connection");
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
    Path lots = ini("[server]", "port = lots");
    assertThatThrownBy(() -> load(Map.of(), args(lots)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(lots + ":2: [server] port: 'lots' is not an int");
    assertThatThrownBy(() -> load(Map.of("VMPILOT_SERVER_EXECUTOR_THREADS", "0"), args(file)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("environment variable VMPILOT_SERVER_EXECUTOR_THREADS must be positive, not 0");
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

  @Test
  void anUnknownKeyInOneOfTheServersSectionsIsAnErrorNamingFileAndLine() throws IOException {
    Path typo = ini("; my server", "[server]", "port = 6000", "", "[database]", "pathh = /data/x.db");
    assertThatThrownBy(() -> load(Map.of(), args(typo)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(typo + ":6: unknown key 'pathh' in [database]; did you mean 'path'?");

    Path unlike = ini("[limits]", "max_history_bytes = 10", "colour = blue");
    assertThatThrownBy(() -> load(Map.of(), args(unlike)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(unlike + ":3: unknown key 'colour' in [limits] (its keys are ")
        .hasMessageContaining("max_history_bytes");

    // Case does not make a key unknown, as it does not make it known elsewhere.
    assertThat(load(Map.of(), args(ini("[Database]", "PATH = /data/y.db"))).databasePath())
        .isEqualTo(Path.of("/data/y.db"));
  }

  @Test
  void aSectionNamedLikeOneOfTheServersIsRefusedWithASuggestion() throws IOException {
    Path typo = ini("[databse]", "path = /data/x.db");
    assertThatThrownBy(() -> load(Map.of(), args(typo)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(typo + ":1: unknown section [databse]; did you mean [database]?");
    for (String nearMiss : List.of("sever", "limit", "metric", "Auht", "data_base")) {
      assertThatThrownBy(() -> load(Map.of(), args(ini("[" + nearMiss + "]", "x = 1"))))
          .as("[%s]", nearMiss).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("unknown section [" + nearMiss.toLowerCase() + "]; did you mean");
    }
  }

  @Test
  void theSectionsOfOtherProgramsInVmpilotsConfigAreLeftAlone() throws IOException {
    // VMPilot's own config.ini: its [database] is ours too; its other sections belong to VMPilot.
    Path vmpilot = ini("[general]", "default_provider = anthropic", "tool_output_lines = 15", "",
        "[model]", "recursion_limit = 25", "[inference]", "temperature = 0.8", "max_tokens = 4096",
        "[anthropic]", "default_model = claude", "[openai]", "default_model = gpt", "[git]", "enabled = true",
        "[database]", "enabled = true ; false (the default) = in-memory", "path = /app/data/vmpilot.db");
    ServerConfig c = load(Map.of(), args(vmpilot));
    assertThat(c.databasePath()).isEqualTo(Path.of("/app/data/vmpilot.db"));
  }

  @Test
  void aBadValueNamesWhereItWasWritten() throws IOException {
    Path file = ini("[server]", "", "port = 70000", "[database]", "durability = sometimes", "backend = mongo");
    assertThatThrownBy(() -> load(Map.of(), args(file)))
        .hasMessage(file + ":3: [server] port must be between 0 and 65535, not 70000");
    assertThatThrownBy(() -> load(Map.of("VMPILOT_SERVER_PORT", "70001"), args(file)))
        .hasMessage("environment variable VMPILOT_SERVER_PORT must be between 0 and 65535, not 70001");
    assertThatThrownBy(() -> load(Map.of("VMPILOT_SERVER_PORT", "70001"), args(file, "--port", "70002")))
        .hasMessage("--port must be between 0 and 65535, not 70002");
    assertThatThrownBy(() -> load(Map.of(), args(file, "--port", "1")))
        .hasMessage(file + ":5: [database] durability must be 'full' or 'normal', not 'sometimes'");
    assertThatThrownBy(() -> load(Map.of(), args(file, "--port", "1", "--database-durability", "normal")))
        .hasMessage(file + ":6: [database] backend must be sqlite, memory or postgres, not 'mongo'");
    assertThatThrownBy(() -> load(Map.of("VMPILOT_DATABASE_ENABLED", "maybe"), args(ini("[server]"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("environment variable VMPILOT_DATABASE_ENABLED: ")
        .hasMessageContaining("'maybe'");
    assertThatThrownBy(() -> load(Map.of(), args(ini("[server]"), "--port", "lots")))
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--port");
  }

  @Test
  void aMisspeltVmpilotVariableIsRefusedWithASuggestionAndOtherProgramsVariablesAreLeftAlone() throws IOException {
    Path file = ini("[server]");
    assertThatThrownBy(() -> load(Map.of("VMPILOT_DATABSE_PATH", "/x.db"), args(file)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("environment variable VMPILOT_DATABSE_PATH is not one the server reads; did you mean"
            + " VMPILOT_DATABASE_PATH?");
    assertThatThrownBy(() -> load(Map.of("VMPILOT_AUTH_TOKEN", "t"), args(file)))
        .hasMessageContaining("did you mean VMPILOT_AUTH_TOKENS?");
    // convctl's variables, VMPilot's own, and the secrets that are no option.
    ServerConfig config = load(Map.of("VMPILOT_STORE_ADDRESS", "localhost:1", "VMPILOT_STORE_TOKEN", "t",
        "VMPILOT_MODEL", "x", "VMPILOT_DATABASE_PASSWORD", "secret", "VMPILOT_DATABASE_PATH", "/ok.db"), args(file));
    assertThat(config.databasePath()).isEqualTo(Path.of("/ok.db"));
  }

  @Test
  void nearestAllowsOneEditInShortNamesAndTwoInLongerOnes() {
    assertThat(ConfigFileCheck.distance("databse", "database")).isEqualTo(1);
    assertThat(ConfigFileCheck.nearest("databse", List.of("database", "server"))).contains("database");
    assertThat(ConfigFileCheck.nearest("htpp", List.of("http"))).contains("http");
    assertThat(ConfigFileCheck.nearest("git", List.of("http", "auth"))).isEmpty();
    assertThat(ConfigFileCheck.nearest("model", List.of("metrics", "limits", "server"))).isEmpty();
    assertThat(ConfigFileCheck.nearest("general", List.of("server", "database", "metrics"))).isEmpty();
    assertThat(ConfigFileCheck.nearest("server", List.of("server"))).isEmpty();
  }
}

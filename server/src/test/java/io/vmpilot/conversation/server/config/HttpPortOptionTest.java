package io.vmpilot.conversation.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code --http-port}, {@code VMPILOT_HTTP_PORT}, {@code [http] port}: off unless one of them is set. */
class HttpPortOptionTest {
  @TempDir
  Path dir;

  private ServerConfig load(Map<String, String> env, String iniText, String... args) throws IOException {
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
    assertThat(load(Map.of(), "").httpPort()).isEqualTo(OptionalInt.empty());
  }

  @Test
  void flagThenEnvironmentThenFile() throws IOException {
    String file = "[http]\nport = 8081\n";
    assertThat(load(Map.of(), file).httpPort()).hasValue(8081);
    assertThat(load(Map.of("VMPILOT_HTTP_PORT", "8082"), file).httpPort()).hasValue(8082);
    assertThat(load(Map.of("VMPILOT_HTTP_PORT", "8082"), file, "--http-port", "0").httpPort()).hasValue(0);
  }

  @Test
  void aPortOutOfRangeIsRefusedByName() {
    assertThatThrownBy(() -> load(Map.of(), "", "--http-port", "70000"))
        .hasMessageContaining("--http-port");
  }
}

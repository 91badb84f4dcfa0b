package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server that cannot start says why in one line, without a stack trace, and exits with the code of the kind of
 * failure (docs/operations.md): 2 configuration, 3 storage, 4 network.
 */
class StartupFailureIT {
  @TempDir
  Path dir;

  /** What a failed start printed (standard output and error together) and its exit code. */
  private record Failed(int exitCode, String output) {
    /** Every line but the INFO lines of what went well before the failure (a schema migration). */
    List<String> lines() {
      assertThat(output).as("no stack trace").doesNotContain("\tat ", "Exception");
      return output.lines().filter(l -> !l.isBlank() && !l.contains(" INFO ")).toList();
    }
  }

  private Failed run(Map<String, String> environment, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", ServerProcess.serverJar().toAbsolutePath().toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    builder.environment().putAll(environment);
    Process p = builder.start();
    // The output of a failed start is a few lines: it fits the pipe, so reading it after the exit cannot block.
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the server did not exit: " + new String(p.getInputStream().readAllBytes(),
          StandardCharsets.UTF_8));
    }
    return new Failed(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  @Test
  void aPortInUseIsOneLineAndExitCode4() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Failed f = run(Map.of(), "--port", String.valueOf(port), "--database-path", dir.resolve("a.db").toString());
      assertThat(f.exitCode()).as(f.output()).isEqualTo(4);
      assertThat(f.lines()).as(f.output()).singleElement().asString()
          .contains("SEVERE", "cannot listen on 127.0.0.1:" + port + ": ")
          .containsIgnoringCase("address already in use");
    }
  }

  @Test
  void aMetricsPortInUseIsANetworkFailureToo() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Failed f = run(Map.of(), "--port", "0", "--metrics-enabled", "true", "--metrics-port", String.valueOf(port),
          "--database-enabled", "false");
      assertThat(f.exitCode()).as(f.output()).isEqualTo(4);
      assertThat(f.lines()).as(f.output()).singleElement().asString()
          .contains("cannot listen on 127.0.0.1:" + port + " (metrics): ")
          .containsIgnoringCase("address already in use");
    }
  }

  @Test
  void anHttpPortInUseIsANetworkFailureToo() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Failed f = run(Map.of(), "--port", "0", "--http-port", String.valueOf(port), "--database-enabled", "false");
      assertThat(f.exitCode()).as(f.output()).isEqualTo(4);
      assertThat(f.lines()).as(f.output()).singleElement().asString()
          .contains("cannot listen on 127.0.0.1:" + port + " (HTTP): ")
          .containsIgnoringCase("address already in use");
    }
  }

  @Test
  void tlsFilesThatAreNotACertificateAndKeyAreAConfigurationFailure() throws Exception {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "not a certificate\n");
    Path key = Files.writeString(dir.resolve("key.pem"), "not a key\n");
    Failed f = run(Map.of(), "--port", "0", "--database-enabled", "false", "--tls-cert", cert.toString(),
        "--tls-key", key.toString());
    assertThat(f.exitCode()).as(f.output()).isEqualTo(2);
    assertThat(f.lines()).as(f.output()).singleElement().asString()
        .startsWith("conversation-server: cannot set up transport security: ");
  }

  @Test
  void anUnreadableDatabaseIsOneLineAndExitCode3() throws Exception {
    Path notADatabase = dir.resolve("notes.db");
    Files.writeString(notADatabase, "these are my notes, not a SQLite database\n".repeat(200));
    Failed f = run(Map.of(), "--port", "0", "--database-path", notADatabase.toString());
    assertThat(f.exitCode()).as(f.output()).isEqualTo(3);
    assertThat(f.lines()).as(f.output()).singleElement().asString()
        .contains("SEVERE", "cannot open the sqlite store at " + notADatabase + ": ");
    assertThat(Files.readString(notADatabase)).startsWith("these are my notes");
  }

  @Test
  void aTypoInConfigIniIsOneLineNamingFileAndLineAndExitCode2() throws Exception {
    Files.writeString(dir.resolve("config.ini"), "[database]\nenabled = true\npathh = /data/x.db\n");
    Failed f = run(Map.of(), "--port", "0");
    assertThat(f.exitCode()).as(f.output()).isEqualTo(2);
    assertThat(f.lines()).as(f.output()).containsExactly(
        "conversation-server: config.ini:3: unknown key 'pathh' in [database]; did you mean 'path'?");
    assertThat(dir.resolve("data")).as("no database was created on the default path").doesNotExist();

    Files.writeString(dir.resolve("config.ini"), "[model]\nprovider = anthropic\n[databse]\npath = /data/x.db\n");
    Failed section = run(Map.of(), "--port", "0");
    assertThat(section.exitCode()).as(section.output()).isEqualTo(2);
    assertThat(section.lines()).as(section.output()).singleElement().asString()
        .startsWith("conversation-server: config.ini:3: unknown section [databse]; did you mean [database]?");
  }

  @Test
  void aBadValueFromTheEnvironmentNamesTheVariable() throws Exception {
    Failed f = run(Map.of("VMPILOT_SERVER_PORT", "70000"), "--database-enabled", "false");
    assertThat(f.exitCode()).as(f.output()).isEqualTo(2);
    assertThat(f.lines()).as(f.output()).containsExactly(
        "conversation-server: environment variable VMPILOT_SERVER_PORT must be between 0 and 65535, not 70000");
  }
}

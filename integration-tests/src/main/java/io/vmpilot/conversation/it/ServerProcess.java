package io.vmpilot.conversation.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real server, started from its jar as a separate process on a port it picks itself ({@code --port 0}); the
 * port is read from its start-up line, so no test ever guesses a free port.
 */
public final class ServerProcess implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+) ");
  private static final Pattern METRICS = Pattern.compile(" metrics=(http://\\S+)");
  private static final Pattern HTTP = Pattern.compile(" http=(https?://\\S+)");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Process process;
  private final StringBuffer output = new StringBuffer();
  private final CountDownLatch started = new CountDownLatch(1);
  private volatile int port = -1;
  private volatile String metricsUrl;
  private volatile String httpUrl;
  private Thread pump;

  private ServerProcess(Process process) {
    this.process = process;
  }

  /** The jar to run: system property {@code server.jar}, else the build's output relative to the repository. */
  public static Path serverJar() {
    Path jar = Path.of(System.getProperty("server.jar", "server/target/conversation-server.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("server jar not found at " + jar + "; build it with ./mvnw package");
    }
    return jar;
  }

  /** Starts the server with SQLite at {@code database} plus {@code extraArgs}, and waits until it listens. */
  public static ServerProcess startSqlite(Path database, String... extraArgs) throws IOException {
    List<String> args = new ArrayList<>(List.of("--database-path", database.toString()));
    args.addAll(List.of(extraArgs));
    return start(args);
  }

  public static ServerProcess start(List<String> args) throws IOException {
    return start(args, null);
  }

  public static ServerProcess start(List<String> args, Path workingDirectory) throws IOException {
    return launch(List.of(), List.of(), args, workingDirectory, Map.of());
  }

  /** Starts the server with {@code environment} added to this process's environment. */
  public static ServerProcess start(List<String> args, Path workingDirectory, Map<String, String> environment)
      throws IOException {
    return launch(List.of(), List.of(), args, workingDirectory, environment);
  }

  /**
   * The general form: runs {@code commandPrefix} (e.g. a wrapper script that execs its arguments; empty for
   * none), then {@code java jvmArgs -jar server.jar --port 0 args} ({@code --port 0} left out when {@code args}
   * name a port, as a restart on the same address does), with {@code environment} added to this process's. Signals go to the process started, so a wrapper must exec the server or forward them.
   */
  public static ServerProcess launch(List<String> commandPrefix, List<String> jvmArgs, List<String> args,
      Path workingDirectory, Map<String, String> environment) throws IOException {
    return launch(serverJar(), commandPrefix, jvmArgs, args, workingDirectory, environment);
  }

  /** As {@link #launch(List, List, List, Path, Map)}, running {@code jar} (another build) instead. */
  public static ServerProcess launch(Path jar, List<String> commandPrefix, List<String> jvmArgs, List<String> args,
      Path workingDirectory, Map<String, String> environment) throws IOException {
    List<String> command = new ArrayList<>(commandPrefix);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    boolean ownArchive = jvmArgs.stream().anyMatch(a -> a.startsWith(ServerClassArchive.TRAINING_FLAG)
        || a.startsWith("-XX:SharedArchiveFile=") || a.startsWith("-Xshare"));
    if (!ownArchive) {
      command.addAll(ServerClassArchive.jvmArgs(jar));
    }
    command.addAll(jvmArgs);
    command.addAll(List.of("-jar", jar.toAbsolutePath().toString()));
    if (!args.contains("--port")) {
      command.addAll(List.of("--port", "0"));
    }
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    if (workingDirectory != null) {
      builder.directory(workingDirectory.toFile());
    }
    builder.environment().putAll(environment);
    ServerProcess server = new ServerProcess(builder.start());
    server.pumpOutput();
    server.awaitStarted();
    return server;
  }

  private void pumpOutput() {
    pump = new Thread(() -> {
      try (BufferedReader reader = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          output.append(line).append('\n');
          Matcher m = LISTENING.matcher(line);
          if (port < 0 && m.find()) {
            Matcher metrics = METRICS.matcher(line);
            metricsUrl = metrics.find() ? metrics.group(1) : null;
            Matcher http = HTTP.matcher(line);
            httpUrl = http.find() ? http.group(1) : null;
            port = Integer.parseInt(m.group(2));
            started.countDown();
          }
        }
      } catch (IOException e) {
        output.append("[output pump failed: ").append(e).append("]\n");
      } finally {
        started.countDown();
      }
    }, "server-output");
    pump.setDaemon(true);
    pump.start();
  }

  private void awaitStarted() {
    try {
      if (!started.await(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS) || port < 0) {
        process.toHandle().destroyForcibly();
        throw new IllegalStateException("server did not start; its output:\n" + output);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IllegalStateException("interrupted while starting the server", e);
    }
  }

  public int port() {
    return port;
  }

  /** "127.0.0.1:PORT", for clients. */
  public String target() {
    return "127.0.0.1:" + port;
  }

  /** The Prometheus endpoint's URL when the server was started with {@code --metrics-enabled true}, else null. */
  public String metricsUrl() {
    return metricsUrl;
  }

  /**
   * The HTTP/JSON API's and web viewer's base URL ({@code http://127.0.0.1:PORT/}) when the server was started
   * with {@code --http-port}, else null.
   */
  public String httpUrl() {
    return httpUrl;
  }

  /** Everything the server printed so far. */
  public String output() {
    return output.toString();
  }

  public long pid() {
    return process.pid();
  }

  /** SIGTERM, then waits for the graceful shutdown and its last output line; returns the exit code. */
  public int stop() throws InterruptedException {
    // Through the ProcessHandle: Process.destroy() would also close our end of the output pipe.
    process.toHandle().destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.toHandle().destroyForcibly();
      throw new IllegalStateException("server did not stop within 60 s of SIGTERM; output:\n" + output);
    }
    pump.join(TimeUnit.SECONDS.toMillis(10));
    return process.exitValue();
  }

  /** SIGKILL: the process dies at once, as in a crash. */
  public void kill() throws InterruptedException {
    process.toHandle().destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
    pump.join(TimeUnit.SECONDS.toMillis(10));
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      stop();
    }
  }
}

package io.vmpilot.conversation.testing.postgres;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One run of an external program, with its output (stdout and stderr together) and exit code. PostgreSQL's
 * programs refuse to run as root, so as root they run as the {@code postgres} user ({@code runuser}), from a
 * directory that user may enter.
 */
final class Command {
  static final String POSTGRES_USER = "postgres";
  private static final Path NEUTRAL_DIRECTORY = Path.of("/tmp");

  record Outcome(int exitCode, String output) {}

  private Command() {}

  static boolean runningAsRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** Runs {@code command} as the PostgreSQL user; fails unless it exits with 0. */
  static String runChecked(Duration timeout, List<String> command) {
    Outcome outcome = run(timeout, command);
    if (outcome.exitCode() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " exited with " + outcome.exitCode() + ":\n"
          + outcome.output());
    }
    return outcome.output();
  }

  static Outcome run(Duration timeout, List<String> command) {
    List<String> full = new ArrayList<>();
    if (runningAsRoot()) {
      full.addAll(List.of("runuser", "-u", POSTGRES_USER, "--"));
    }
    full.addAll(command);
    ProcessBuilder builder = new ProcessBuilder(full).redirectErrorStream(true)
        .directory(NEUTRAL_DIRECTORY.toFile());
    builder.environment().put("LC_ALL", "C.UTF-8");
    try {
      Process process = builder.start();
      process.getOutputStream().close();
      CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout);
      }
      return new Outcome(process.exitValue(), output.join());
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + String.join(" ", full) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
    }
  }

  private static String readAll(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "[output unreadable: " + e + "]";
    }
  }
}

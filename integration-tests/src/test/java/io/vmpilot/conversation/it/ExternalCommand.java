package io.vmpilot.conversation.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A command of the repository (a script, a tool) run to completion, with its output kept for assertions. */
record ExternalCommand(int exitCode, String output) {
  /** The repository's root, from the build (system property {@code repo.root}), else the parent directory. */
  static Path repoRoot() {
    return Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
  }

  /** Runs {@code command} from the repository root; fails the test if it runs longer than {@code minutes}. */
  static ExternalCommand run(int minutes, String... command) throws IOException, InterruptedException {
    return run(minutes, Map.of(), command);
  }

  /** The same, with {@code environment} added to this process's. */
  static ExternalCommand run(int minutes, Map<String, String> environment, String... command)
      throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(List.of(command)).directory(repoRoot().toFile()).redirectErrorStream(true);
    builder.environment().putAll(environment);
    Process p = builder.start();
    // Read on another thread: a process writing more than the pipe holds would otherwise block forever.
    StringBuilder out = new StringBuilder();
    Thread reader = new Thread(() -> {
      try {
        out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        out.append("[reading the output failed: ").append(e).append(']');
      }
    });
    reader.start();
    if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
      p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
      p.toHandle().destroyForcibly();
      reader.join(10_000);
      throw new AssertionError(String.join(" ", command) + " did not finish within " + minutes + " min:\n" + out);
    }
    reader.join();
    String output = out.toString();
    System.out.println("$ " + String.join(" ", command) + "\n" + output);
    return new ExternalCommand(p.exitValue(), output);
  }
}

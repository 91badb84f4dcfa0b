package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The power-cut file system ({@code integration-tests/powerloss/powerlossfs.c}) mounted for one test: files live in
 * the FUSE process's memory, a sync makes a file's content (or a directory's entries) durable, and {@link #cut()}
 * throws away everything not synced, as a power loss would. Built by {@code integration-tests/powerloss/build}
 * (libfuse3 from Debian, installed by {@code scripts/install-tools}).
 */
final class PowerLossFs implements AutoCloseable {
  /** The file through which the test talks to the file system (not part of its contents). */
  private static final String CONTROL = ".powerloss";

  private final Path mountPoint;
  private final Process process;
  private final StringBuffer output = new StringBuffer();

  private PowerLossFs(Path mountPoint, Process process) {
    this.mountPoint = mountPoint;
    this.process = process;
  }

  /** Skips the calling test, with the reason, when this machine has no FUSE device; everything else must work. */
  static void assumeFuse() {
    Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")),
        "/dev/fuse is missing: the power-loss tests need FUSE (they run in CI, where it exists)");
  }

  /** Builds the file system if needed and mounts it (empty) at {@code mountPoint}, an existing empty directory. */
  static PowerLossFs mount(Path mountPoint) throws IOException, InterruptedException {
    return mount(mountPoint, 0);
  }

  /** The same, with every fsync/fdatasync taking {@code syncMicros} longer (a disk's sync time; 0: none). */
  static PowerLossFs mount(Path mountPoint, int syncMicros) throws IOException, InterruptedException {
    assumeFuse();
    Path root = ExternalCommand.repoRoot();
    ExternalCommand build = ExternalCommand.run(5, root.resolve("integration-tests/powerloss/build").toString(),
        root.resolve("integration-tests/target/powerloss/powerlossfs").toString());
    assertThat(build.exitCode()).as("integration-tests/powerloss/build: %s", build.output()).isZero();
    Path binary = Path.of(build.output().strip().lines().reduce((a, b) -> b).orElseThrow());
    // -f: stay in the foreground (this process is the file system; killing it unmounts);
    // max_threads: libfuse 3.14 otherwise complains about its own default.
    ProcessBuilder builder = new ProcessBuilder(List.of(binary.toString(), "-f", "-o", "max_threads=16",
        mountPoint.toString())).redirectErrorStream(true);
    builder.environment().put("POWERLOSS_SYNC_MICROS", Integer.toString(syncMicros));
    Process process = builder.start();
    PowerLossFs fs = new PowerLossFs(mountPoint, process);
    CompletableFuture<Boolean> ready = new CompletableFuture<>();
    Thread pump = new Thread(() -> {
      try (BufferedReader reader = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          fs.output.append(line).append('\n');
          if (line.equals("powerlossfs: ready")) {
            ready.complete(true);
          }
        }
      } catch (IOException e) {
        fs.output.append("[output pump failed: ").append(e).append("]\n");
      } finally {
        ready.complete(false);
      }
    }, "powerlossfs-output");
    pump.setDaemon(true);
    pump.start();
    boolean up;
    try {
      // "ready" is printed when the kernel's first request (INIT) arrives, i.e. once the mount exists.
      up = ready.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      up = false;
    }
    if (!up) {
      fs.close();
      throw new IllegalStateException("powerlossfs did not mount at " + mountPoint + "; its output:\n" + fs.output);
    }
    return fs;
  }

  Path root() {
    return mountPoint;
  }

  /** The power cut: every file back to its last synced content, every directory to its last synced entries. */
  void cut() throws IOException {
    command("cut");
  }

  /** Syncs every file and directory, as {@code sync(1)} would. */
  void syncAll() throws IOException {
    command("sync");
  }

  private void command(String word) throws IOException {
    // The write returns once the file system has done it (it runs the command inside the write call).
    Files.writeString(mountPoint.resolve(CONTROL), word);
  }

  /**
   * The file system's counters: cuts, dropped_bytes, dropped_files, reverted_dirs, syncs, dirsyncs, and syncing (file
   * syncs called and not yet returned).
   */
  Map<String, Long> counters() throws IOException {
    Map<String, Long> counters = new LinkedHashMap<>();
    for (String pair : Files.readString(mountPoint.resolve(CONTROL)).strip().split(" ")) {
      String[] kv = pair.split("=", 2);
      counters.put(kv[0], Long.parseLong(kv[1]));
    }
    return counters;
  }

  /** SIGTERM (libfuse then unmounts and exits); SIGKILL and a lazy unmount if that does not work. */
  @Override
  public void close() throws IOException, InterruptedException {
    process.toHandle().destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.toHandle().destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
    // A no-op when libfuse unmounted; after a SIGKILL the mount is left "disconnected" and needs this.
    try {
      new ProcessBuilder("fusermount3", "-u", "-z", mountPoint.toString()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(30, TimeUnit.SECONDS);
    } catch (IOException e) {
      // No fusermount3: libfuse mounted without it, and unmounted on the SIGTERM above.
    }
  }
}

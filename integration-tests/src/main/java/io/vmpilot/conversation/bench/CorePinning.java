package io.vmpilot.conversation.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code --pin-cores}: the server side (the server process, its PostgreSQL cluster, etcd) on core 0 and the load
 * generator (this JVM and what it starts: pgbench, etcd-load) on core 1, with Linux's {@code taskset}, so that the
 * server's CPU per turn is measured without the load generator competing for its core.
 */
final class CorePinning {
  static final int SERVER_CORE = 0;
  static final int LOAD_CORE = 1;

  private CorePinning() {}

  /** Why pinning cannot be done here, or null when it can (taskset on the PATH, at least 2 cores). */
  static String unavailable() {
    if (Runtime.getRuntime().availableProcessors() < 2) {
      return "fewer than 2 cores";
    }
    try {
      Process p = new ProcessBuilder("taskset", "-V").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0 ? null : "taskset -V failed";
    } catch (IOException e) {
      return "taskset not found (util-linux)";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  /** The command prefix that starts a program on the server's core. */
  static List<String> serverPrefix() {
    return List.of("taskset", "-c", Integer.toString(SERVER_CORE));
  }

  /** Pins this JVM (every thread; threads started later inherit it) to the load generator's core. */
  static void pinSelf() throws IOException, InterruptedException {
    pin(ProcessHandle.current().pid(), LOAD_CORE);
  }

  /** Pins {@code root} and its descendants (every thread of each) to the server's core. */
  static void pinTreeToServerCore(long root) throws IOException, InterruptedException {
    pin(root, SERVER_CORE);
    for (long pid : ProcessTree.descendants(root)) {
      try {
        pin(pid, SERVER_CORE);
      } catch (IOException gone) {
        // A backend that ended meanwhile; those started later are forked from the (pinned) root.
      }
    }
  }

  private static void pin(long pid, int core) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", Integer.toString(core), Long.toString(pid))
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("taskset -a -p -c " + core + " " + pid + " failed: " + out);
    }
  }
}

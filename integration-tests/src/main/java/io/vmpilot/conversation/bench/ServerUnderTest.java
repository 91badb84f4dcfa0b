package io.vmpilot.conversation.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Where the load goes, and where its counters and memory figures come from. */
final class ServerUnderTest {
  /** The store's counters at one moment: acknowledged writes, syncs, bytes written to the file. */
  record StoreCounters(long writes, long syncs, long bytes) {}

  final String target;
  private final String metricsUrl;
  private final Long pid;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  ServerUnderTest(String target, String metricsUrl, Long pid) {
    this.target = target;
    this.metricsUrl = metricsUrl;
    this.pid = pid;
  }

  /** The store's counters, or null without a metrics endpoint. */
  StoreCounters storeCounters() {
    if (metricsUrl == null) {
      return null;
    }
    try {
      String body = http.send(HttpRequest.newBuilder(URI.create(metricsUrl)).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      return new StoreCounters(counter(body, "conversation_store_writes_total"),
          counter(body, "conversation_store_syncs_total"), counter(body, "conversation_store_written_bytes_total"));
    } catch (IOException | InterruptedException | RuntimeException e) {
      System.out.println("bench: cannot read the metrics at " + metricsUrl + ": " + e);
      return null;
    }
  }

  private static long counter(String body, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})?\\s+(\\S+)").matcher(body);
    if (!m.find()) {
      throw new IllegalStateException("metric " + name + " not found");
    }
    return (long) Double.parseDouble(m.group(1));
  }

  /** Resets the kernel's peak-RSS mark of the server (Linux: "5" to /proc/PID/clear_refs). */
  void resetPeakRss() {
    if (pid != null) {
      try {
        Files.writeString(Path.of("/proc", pid.toString(), "clear_refs"), "5");
      } catch (IOException | RuntimeException e) {
        // Not fatal: the peak is then the one since the server started.
      }
    }
  }

  /**
   * CPU time the server process used so far (user + system), in ms, or null when unknown. Per op, this is a
   * steadier figure than ops/s on a machine shared with other work.
   */
  Long cpuMillis() {
    if (pid == null) {
      return null;
    }
    try {
      return ProcStat.cpuMillis(Files.readString(Path.of("/proc", pid.toString(), "stat")));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * CPU time the server's JIT compiler threads used so far, in ms, or null when unknown (no process id, not
   * Linux, or a JVM whose compiler threads are named otherwise).
   */
  Long compilerCpuMillis() {
    if (pid == null) {
      return null;
    }
    try (var tasks = Files.list(Path.of("/proc", pid.toString(), "task"))) {
      long total = 0;
      boolean found = false;
      for (Path task : tasks.toList()) {
        try {
          if (Files.readString(task.resolve("comm")).strip().matches("C\\d CompilerThre.*")) {
            total += ProcStat.cpuMillis(Files.readString(task.resolve("stat")));
            found = true;
          }
        } catch (IOException gone) {
          // A thread that ended meanwhile.
        }
      }
      return found ? total : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** VmHWM of the server in KiB, or null when unknown. */
  Long peakRssKb() {
    if (pid == null) {
      return null;
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc", pid.toString(), "status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return null;
  }
}
